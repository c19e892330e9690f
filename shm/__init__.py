"""Shared-memory transport: rings, record layouts, segments, counters and idle strategies.

One module per idea: ``one_to_one`` (lossless SPSC ring), ``broadcast`` (one writer, many
readers), ``records`` (every record layout, drawn), ``descriptor`` (every offset),
``segment`` (naming, header, lifecycle, sweep), ``counters`` (per-process health),
``idle`` (wait strategies).
"""
