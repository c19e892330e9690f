"""``public/mark_price_historical_data`` results decoded into validated OHLC bars.

A result is ``{"instrument_type": ..., "mark": [row, ...], "no_data"?: true}``; a row begins
``[start, open, high, low, close, ...]`` (Unix seconds, USD) whatever the instrument type (the
rest, funding and top of book, differs by type and is not needed here). Every field is input: a
row whose start is not a plausible increasing time, whose prices are not finite and > 0, or whose
high and low do not bracket open and close is skipped and counted; a result that is not the
spec's object is refused with a ValueError naming what came instead.
"""
from __future__ import annotations

import math

import numpy as np

from venue.decode.market import MAX_TS_S, NUMBER_TYPES

RESOLUTIONS = ("1m", "5m", "15m", "30m", "1h", "1d", "1w")   # the spec's enum
RESOLUTION_S = {"1m": 60, "5m": 300, "15m": 900, "30m": 1800, "1h": 3600, "1d": 86400, "1w": 604800}
BAR_FIELDS = ("start_s", "open", "high", "low", "close")


def mark_bars(result, what: str = "mark_price_historical_data") -> tuple[np.ndarray, int]:
    """(bars, rows skipped): ``bars`` is an (n, 5) float array of start_s, open, high, low, close
    in increasing start order; ValueError when ``result`` is not the spec's object."""
    if not isinstance(result, dict) or not isinstance(result.get("mark", []), list):
        raise ValueError(f"{what}: result={str(result)[:120]!r}: expected an object with a \"mark\" list")
    rows = result.get("mark") or []
    out, skipped, last = [], 0, -math.inf
    for row in rows:
        if not (isinstance(row, list) and len(row) >= 5 and all(type(x) in NUMBER_TYPES for x in row[:5])):
            skipped += 1
            continue
        start, o, h, low, c = (float(x) for x in row[:5])
        if not (last < start < MAX_TS_S and all(0.0 < x < math.inf for x in (o, h, low, c))
                and low <= min(o, c) and max(o, c) <= h):
            skipped += 1
            continue
        out.append((start, o, h, low, c))
        last = start
    return np.array(out, dtype=np.float64).reshape(-1, 5), skipped
