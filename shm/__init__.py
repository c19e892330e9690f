"""Shared-memory transport: rings, record layouts, segments, counters and doorbells.

One module per idea: ``one_to_one`` (lossless SPSC ring), ``broadcast`` (one writer, many
readers), ``records`` (every record layout, drawn), ``descriptor`` (every offset),
``segment`` (naming, header, lifecycle, sweep), ``counters`` (per-process health),
``state`` (trading state and operator requests), ``doorbell`` (futex wake-ups), ``seqlock``
(one record replaced whole by one writer, copied by readers without a lock), ``gate`` (what
risk publishes for the gateway's pre-trade checks), ``latency`` (per-hop latency figures). The wait
strategies that use the doorbells live with the process runtime (runtime/idle.py).
"""
