"""The quoter's warm start: it never quotes from its priors when the market already told it more.

At start (``WarmStart.start``, from Quoter.on_start, before the first record is read):
1. its own estimator state (procs/quoter_state.py) when it is fresh ([warmup] state_max_age_s):
   a restarted quoter continues with the sigma, A, k and candles it had;
2. otherwise, with ``use_exchange_history``, the exchange's history over ``lookback_s``
   (procs/quoter_history.py fetches it, procs/quoter_seed.py feeds it in with its own times);
3. otherwise (or for what neither gave) the configured priors, as before.
One log line per instrument says which and with what numbers. Live trades already in the history
are dropped (``dedup``, a TradeDedup, consulted by the quoter until live moves past the history).

While running, ``maybe_save`` writes the state every ``state_save_interval_s`` (from the quoter's
idle pass) and ``stop`` once more when the quoter stops.
"""
from __future__ import annotations

import logging
import time
from pathlib import Path

from procs.quoter_history import fetch_history
from procs.quoter_seed import TradeDedup, seed_engine
from procs.quoter_state import FILE_NAME, QuoterState

log = logging.getLogger("quoter")


class WarmStart:
    def __init__(self, state: QuoterState, venue_url: str | None, use_exchange_history: bool,
                 lookback_s: float, timeout_s: float):
        self.state = state
        self.venue_url, self.use_exchange_history = venue_url, use_exchange_history
        self.lookback_s, self.timeout_s = lookback_s, timeout_s
        self.dedup: TradeDedup | None = None
        self.sources: dict[int, str] = {}      # instrument id -> "state", "history" or "priors"
        self._save_failing = False

    @classmethod
    def from_settings(cls, settings: dict, config) -> "WarmStart":
        w = config.warmup
        run_dir = settings.get("run_dir")
        state = QuoterState(Path(run_dir) / FILE_NAME if run_dir else None, w.state_save_interval_s,
                            w.state_max_age_s)
        return cls(state, settings.get("venue_url"), w.use_exchange_history, w.lookback_s,
                   config.venue.request_timeout_s)

    def start(self, engines, instruments, params) -> None:
        saved = self.state.load()
        resumed = set(self.state.resume(saved, engines, instruments, params)) if saved else set()
        for inst, engine in zip(instruments, engines):
            if inst.id in resumed:
                self.sources[inst.id] = "state"
                log.info("%s: resumed the saved estimators: sigma %.3g USD/sqrt(s), A %.3g/s, k %.3g/USD",
                         inst.name, engine.vol.sigma(), engine.intensity.a, engine.intensity.k)
        rest = [(i, e) for i, e in zip(instruments, engines) if i.id not in resumed]
        if rest and self.use_exchange_history and self.venue_url:
            self._from_history(rest)
        for inst, _ in rest:
            if inst.id not in self.sources:
                self.sources[inst.id] = "priors"
                log.info("%s: starting from the priors", inst.name)

    def _from_history(self, pairs) -> None:
        started = time.monotonic()
        history = fetch_history(self.venue_url, [i for i, _ in pairs], self.lookback_s, self.timeout_s)
        for problem in history.problems:
            log.warning("exchange history: %s", problem)
        for inst, engine in pairs:
            trades, bars = history.trades.get(inst.id), history.bars.get(inst.id)
            if trades is None and bars is None:
                continue
            report = seed_engine(engine, trades if trades is not None else [], bars, history.fetched_at_s,
                                 inst.tick_size)
            self.sources[inst.id] = "history"
            log.info("%s: warmed from %.0f s of exchange history: %s", inst.name, self.lookback_s,
                     report.text(engine))
        self.dedup = TradeDedup(history.trades)
        log.info("exchange history taken in %.2f s", time.monotonic() - started)

    def maybe_save(self, engines, instruments, params) -> None:
        try:
            if self.state.maybe_save(engines, instruments, params, time.monotonic()) and self._save_failing:
                self._save_failing = False
                log.info("quoter state saved again")
        except OSError as exc:
            if not self._save_failing:         # once per streak: the disk does not heal by shouting
                log.error("quoter state not saved (%s): a restart would warm up from history", exc)
            self._save_failing = True

    def stop(self, engines, instruments, params) -> None:
        try:
            self.state.save(engines, instruments, params)
        except OSError as exc:
            log.error("quoter state not saved at stop: %s", exc)
