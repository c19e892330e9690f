"""Checks of the estimators' saved states (``state()`` / ``restore()``), shared by the compiled
kernels and their twins: a saved state is input like any other, so every field is checked and a
bad one is refused with a ValueError naming the estimator, the field, the value and what was
expected, before anything is changed."""
from __future__ import annotations

import math


def number(state, what: str, name: str, lo: float = -math.inf, hi: float = math.inf,
           nan_ok: bool = False) -> float:
    """``state[name]`` as a float in [lo, hi] (NaN only when ``nan_ok``)."""
    value = state.get(name) if isinstance(state, dict) else None
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{what} state: {name}={value!r}: expected a number") from None
    if math.isnan(x):
        if nan_ok:
            return x
        raise ValueError(f"{what} state: {name}=nan: expected a number")
    if not (math.isfinite(x) and lo <= x <= hi):
        raise ValueError(f"{what} state: {name}={x!r}: expected {lo}..{hi}")
    return x


def count(state, what: str, name: str) -> int:
    """``state[name]`` as a count (an integer >= 0)."""
    x = number(state, what, name, 0.0, 2.0 ** 62)
    if x != int(x):
        raise ValueError(f"{what} state: {name}={x!r}: expected a whole number >= 0")
    return int(x)


def numbers(state, what: str, name: str, n: int, lo: float = -math.inf, hi: float = math.inf,
            nan_ok: bool = False) -> list[float]:
    """``state[name]`` as a list of ``n`` numbers, each in [lo, hi]."""
    value = state.get(name) if isinstance(state, dict) else None
    if not isinstance(value, (list, tuple)) or len(value) != n:
        raise ValueError(f"{what} state: {name}={str(value)[:80]}: expected a list of {n} numbers")
    return [number({name: x}, what, name, lo, hi, nan_ok) for x in value]


def check_volatility_state(state) -> dict:
    what = "volatility"
    return {"variance": number(state, what, "variance", 0.0, 1e300),
            "last_mid": number(state, what, "last_mid", 0.0, math.inf, nan_ok=True),
            "last_t_s": number(state, what, "last_t_s", nan_ok=True),
            "samples": count(state, what, "samples"), "jumps": count(state, what, "jumps"),
            "clock_resets": count(state, what, "clock_resets")}


def check_candle_state(state, lookback: int, max_multiplier: float, max_offset_frac: float) -> dict:
    what = "candles"
    n_lookback = count(state, what, "lookback")
    if n_lookback != lookback:
        raise ValueError(f"candles state: lookback={n_lookback}: expected {lookback} (the candles "
                         "configured now)")
    n_closed = count(state, what, "n_closed")
    closed = state.get("closed")
    if not isinstance(closed, list) or len(closed) != min(n_closed, lookback):
        raise ValueError(f"candles state: closed holds {len(closed) if isinstance(closed, list) else closed!r}"
                         f" candles: expected {min(n_closed, lookback)}")
    rows = [numbers({"closed": row}, what, "closed", 6, 0.0, math.inf) for row in closed]
    if any(row[0] <= 0.0 or row[4] <= 0.0 for row in rows):
        raise ValueError("candles state: a closed candle with open price or volume 0: expected > 0")
    open_candle = state.get("open")
    if open_candle is not None:
        open_candle = numbers(state, what, "open", 7)
        if not all(x > 0 for x in open_candle[:5]) or not open_candle[5] >= 0:
            raise ValueError(f"candles state: open={open_candle}: expected prices and volume > 0")
    lo, hi = 1.0 / max_multiplier, max_multiplier
    tilt = numbers(state, what, "tilt", 3)
    if not (lo - 1e-12 <= tilt[0] <= hi + 1e-12 and lo - 1e-12 <= tilt[1] <= hi + 1e-12
            and abs(tilt[2]) <= max_offset_frac + 1e-12):
        raise ValueError(f"candles state: tilt={tilt}: expected multipliers within {lo:g}..{hi:g} and an "
                         f"offset within +/-{max_offset_frac:g}")
    return {"closed": rows, "n_closed": n_closed, "open": open_candle,
            "signals": numbers(state, what, "signals", 4, -1.0, 1.0),
            "smoothed": numbers(state, what, "smoothed", 4, -1.0, 1.0), "tilt": tilt,
            "tilt_changes": count(state, what, "tilt_changes"),
            "clock_resets": count(state, what, "clock_resets")}


def check_intensity_state(state, depths: list, window_s: float, n_buckets: int, k_min: float,
                          k_max: float) -> dict:
    what = "intensity"
    saved = numbers(state, what, "depths", len(depths), 0.0, math.inf) if isinstance(state, dict) and \
        isinstance(state.get("depths"), list) and len(state["depths"]) == len(depths) else None
    if saved is None or any(abs(a - b) > 1e-9 * max(1.0, abs(b)) for a, b in zip(saved, depths)):
        raise ValueError(f"intensity state: depths={state.get('depths') if isinstance(state, dict) else None}: "
                         f"expected {depths} (the depths configured now)")
    w = number(state, what, "window_s", 0.0, math.inf)
    if abs(w - window_s) > 1e-9 * window_s:
        raise ValueError(f"intensity state: window_s={w}: expected {window_s} (the window configured now)")
    counts = state.get("counts")
    if not isinstance(counts, list) or len(counts) != n_buckets:
        raise ValueError(f"intensity state: counts holds {len(counts) if isinstance(counts, list) else counts!r}"
                         f" buckets: expected {n_buckets}")
    rows = [numbers({"counts": row}, what, "counts", len(depths), 0.0, 1e15) for row in counts]
    bucket = number(state, what, "bucket", -2.0 ** 62, 2.0 ** 62)
    if bucket != int(bucket):
        raise ValueError(f"intensity state: bucket={bucket!r}: expected a whole number")
    sweep = numbers(state, what, "sweep", 3, nan_ok=True)
    if sweep[2] not in (-1.0, 0.0, 1.0):
        raise ValueError(f"intensity state: sweep side={sweep[2]!r}: expected -1, 0 or 1")
    return {"counts": rows, "exposure": numbers(state, what, "exposure", n_buckets, 0.0, 1e15),
            "bucket": int(bucket), "last_t_s": number(state, what, "last_t_s", nan_ok=True),
            "mid": number(state, what, "mid", 0.0, math.inf, nan_ok=True),
            "a": number(state, what, "a", 1e-300, math.inf), "k": number(state, what, "k", k_min, k_max),
            "fits": count(state, what, "fits"), "arrivals": count(state, what, "arrivals"),
            "clock_resets": count(state, what, "clock_resets"),
            "sweep": [sweep[0], sweep[1], int(sweep[2])]}
