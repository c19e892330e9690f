"""Pure-Python twin of kernels/plausibility.pyx (the rules are described there)."""
import math

import numpy as np

from shm import records as R

PLAUSIBLE, CLOCK_AHEAD, TOO_OLD, OUT_OF_ORDER, OFF_BAND, GOOD_AGAIN, REANCHORED = 0, 1, 2, 3, 4, 5, 6
N_REASONS = 5
N_TYPES = 8


def _record(arr, dtype, what):
    if not isinstance(arr, np.ndarray) or arr.dtype.itemsize != dtype.itemsize or arr.size < 1 \
            or not arr.flags.c_contiguous:
        raise TypeError(f"{what}: expected a C-contiguous record array of {dtype.itemsize}-byte "
                        f"records, got {type(arr).__name__} {getattr(arr, 'dtype', '')}")
    return arr.reshape(-1)[0]


def _beyond(price, ref, band):
    return abs(price - ref) > band * ref


class MdPlausibility:
    def __init__(self, n_instruments, max_clock_skew_s, max_data_age_s, price_band_bps, index_band_bps,
                 reanchor_after_s):
        if n_instruments < 1:
            raise ValueError(f"n_instruments={n_instruments}: must be >= 1")
        if not (max_clock_skew_s > 0 and max_data_age_s > 0 and reanchor_after_s > 0):
            raise ValueError(f"max_clock_skew_s={max_clock_skew_s}, max_data_age_s={max_data_age_s}, "
                             f"reanchor_after_s={reanchor_after_s}: must be > 0 seconds")
        if not (price_band_bps > 0 and index_band_bps > 0):
            raise ValueError(f"price_band_bps={price_band_bps}, index_band_bps={index_band_bps}: "
                             "must be > 0 basis points")
        self.n_instruments = n_instruments
        self.ahead_ns, self.behind_ns = int(max_clock_skew_s * 1e9), int(max_data_age_s * 1e9)
        self.reanchor_ns = int(reanchor_after_s * 1e9)
        self.band, self.index_band = price_band_bps * 1e-4, index_band_bps * 1e-4
        self._newest = [[0] * N_TYPES for _ in range(n_instruments)]
        self.good_mark = [math.nan] * n_instruments
        self._off_since = [0] * n_instruments
        self.refused = [0] * n_instruments
        self.counts = [0] * N_REASONS
        self.episode_refused = 0

    def check_md(self, md, wall_ns, mono_ns):
        r = _record(md, R.MD_DTYPE, "md")
        kind, iid, ts = int(r["type"]), int(r["instrument_id"]), int(r["exchange_ts_ns"])
        mark, band = float(r["mark_price"]), self.band
        bid, ask, index = float(r["best_bid_price"]), float(r["best_ask_price"]), float(r["index_price"])
        if iid >= self.n_instruments:
            return PLAUSIBLE
        good = self.good_mark[iid]
        reason, accepted = PLAUSIBLE, PLAUSIBLE
        if ts - wall_ns > self.ahead_ns:
            reason = CLOCK_AHEAD
        elif wall_ns - ts > self.behind_ns:
            reason = TOO_OLD
        elif kind < N_TYPES and ts < self._newest[iid][kind]:
            reason = OUT_OF_ORDER
        elif mark == mark:
            if _beyond(mark, index, self.index_band) or _beyond(bid, mark, band) or _beyond(ask, mark, band):
                reason = OFF_BAND
            elif _beyond(mark, good, band):
                if self._off_since[iid] == 0:
                    self._off_since[iid] = mono_ns if mono_ns != 0 else 1
                    reason = OFF_BAND
                elif mono_ns - self._off_since[iid] < self.reanchor_ns:
                    reason = OFF_BAND
                else:
                    accepted = REANCHORED
        elif _beyond(bid, good, band) or _beyond(ask, good, band) or _beyond(index, good, self.index_band):
            reason = OFF_BAND
        if reason != PLAUSIBLE:
            self.counts[reason] += 1
            self.refused[iid] += 1
            return reason
        if kind < N_TYPES:
            self._newest[iid][kind] = ts
        if kind == R.MD_TICKER:
            self.good_mark[iid] = mark
            self._off_since[iid] = 0
        if self.refused[iid]:
            self.episode_refused = self.refused[iid]
            self.refused[iid] = 0
            if accepted == PLAUSIBLE:
                accepted = GOOD_AGAIN
        return accepted

    def check_trade(self, trade, wall_ns):
        t = _record(trade, R.TRADE_DTYPE, "trade")
        iid, ts, price = int(t["instrument_id"]), int(t["exchange_ts_ns"]), float(t["price"])
        if iid >= self.n_instruments:
            return PLAUSIBLE
        reason = PLAUSIBLE
        if ts - wall_ns > self.ahead_ns:
            reason = CLOCK_AHEAD
        elif wall_ns - ts > self.behind_ns:
            reason = TOO_OLD
        elif _beyond(price, self.good_mark[iid], self.band):
            reason = OFF_BAND
        if reason != PLAUSIBLE:
            self.counts[reason] += 1
        return reason

    def forget_order(self):
        for row in self._newest:
            row[:] = [0] * N_TYPES
