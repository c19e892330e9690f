"""The quoter's estimator state on disk, so a restarted quoter quotes with what it had learnt.

``<run_dir>/quoter_state.json``: per instrument (by name) the state of its volatility, intensity
and candle estimators (their ``state()``), with the settings each was built from, and the Unix
time it was saved. Written atomically (temp file + rename) every ``save_interval_s`` while the
quoter is idle, and when it stops; a SIGKILL loses at most that much.

A restart resumes from it when it is no older than ``max_age_s`` (``[warmup] state_max_age_s``):
each estimator whose settings are still the ones configured takes its saved state (checked field
by field by the kernels: a bad one is refused, naming the field, and that estimator starts over).
The volatility and intensity estimators then forget the mid: the time the quoter was down is not
exposure (its trades were never seen), and the move across it is no sample (one coarse sample
would weigh as much as all the ticks of that time, with the noise of one). A file that is stale, unreadable or of another format is
ignored with a log line naming it and why; the quoter then warms up from the exchange's history.
"""
from __future__ import annotations

import json
import logging
import os
import time
from pathlib import Path

log = logging.getLogger("quoter")
FORMAT = 1
FILE_NAME = "quoter_state.json"
ESTIMATORS = {"vol": "volatility_settings", "intensity": "intensity_settings", "candles": "candle_settings"}


def _params_for(params, i: int):
    """One instrument's QuoteParams: ``params`` is one per instrument (by id) or one for all."""
    return params[i] if isinstance(params, (list, tuple)) else params


def _settings(params, name: str) -> list:
    return json.loads(json.dumps(getattr(params, ESTIMATORS[name])()))   # tuples -> lists, as saved


class QuoterState:
    def __init__(self, path: Path | None, save_interval_s: float, max_age_s: float, clock=time.time):
        self.path, self.save_interval_s, self.max_age_s = path, save_interval_s, max_age_s
        self.clock = clock
        self._next_save = 0.0
        self.saves = 0

    # ---- saving ------------------------------------------------------------------------------
    def maybe_save(self, engines, instruments, params, now_monotonic: float) -> bool:
        """Save if ``save_interval_s`` passed since the last save; True if it saved."""
        if self.path is None or now_monotonic < self._next_save:
            return False
        self._next_save = now_monotonic + self.save_interval_s
        self.save(engines, instruments, params)
        return True

    def save(self, engines, instruments, params) -> None:
        if self.path is None:
            return
        data = {"format": FORMAT, "saved_at_s": self.clock(), "instruments": {
            inst.name: {name: {"settings": _settings(_params_for(params, i), name),
                               "state": getattr(engine, name).state()}
                        for name in ESTIMATORS}
            for i, (inst, engine) in enumerate(zip(instruments, engines))}}
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(data))
        os.replace(tmp, self.path)
        self.saves += 1

    # ---- resuming ----------------------------------------------------------------------------
    def load(self) -> dict | None:
        """The saved instruments if the file is fresh and readable, else None (logged)."""
        if self.path is None or not self.path.exists():
            return None
        try:
            data = json.loads(self.path.read_text())
            saved_at = float(data["saved_at_s"])
            if data.get("format") != FORMAT or not isinstance(data.get("instruments"), dict):
                raise ValueError(f"format={data.get('format')!r}: expected {FORMAT} with an \"instruments\" object")
        except (OSError, ValueError, KeyError, TypeError) as exc:
            log.error("quoter state %s unreadable (%s): not resumed", self.path, exc)
            return None
        age = self.clock() - saved_at
        if not -5.0 <= age <= self.max_age_s:
            log.info("quoter state %s is %.1f s old (resumed up to %.1f s): not resumed", self.path, age,
                     self.max_age_s)
            return None
        return data["instruments"]

    def resume(self, saved: dict, engines, instruments, params) -> list[int]:
        """Restore each instrument's estimators from ``saved`` (from :meth:`load`); the ids of the
        instruments that resumed all three."""
        resumed = []
        for i, (inst, engine) in enumerate(zip(instruments, engines)):
            entry = saved.get(inst.name)
            if not isinstance(entry, dict):
                log.info("%s: no saved estimator state", inst.name)
                continue
            done = 0
            for name in ESTIMATORS:
                part = entry.get(name)
                if not isinstance(part, dict) or part.get("settings") != _settings(_params_for(params, i), name):
                    log.info("%s: saved %s state was built from other settings: it starts over", inst.name, name)
                    continue
                try:
                    getattr(engine, name).restore(part.get("state"))
                except ValueError as exc:
                    log.error("%s: saved %s state refused (%s): it starts over", inst.name, name, exc)
                    continue
                done += 1
            engine.vol.forget_mid()
            engine.intensity.forget_mid()
            if done == len(ESTIMATORS):
                resumed.append(inst.id)
        return resumed
