"""The supervisor: owns the segments, starts the processes in order, watches, restarts, stops.

Start: sweep segments of dead earlier runs of this instance, create every segment (it is their
only owner), write the effective settings to the run directory and the quoter's parameters to
their shared-memory record, then start the processes in the order of conf.schema.PIPELINE
(consumers first, so no record is published before its readers exist), each waiting for its
heartbeat before the next starts. A validated live ``set`` goes through ``apply_settings``.

Watch: a process that exited, or whose heartbeat is older than ``heartbeat_timeout_s``, is killed
by pid, the gateway is asked to cancel every order (``request_cancel_all``, the one way any
cancel-all is asked for; the gateway itself dying is covered by the exchange's
cancel-on-disconnect, and its ``quoting`` flag is cleared here), and the process is started
again; restarts are counted.

Every process is told the supervisor's pid and dies with it (runtime/parent_death.py), and
inherits ``inherit_fds`` (the account lock, runtime/account_lock.py).

Stop (SIGINT, SIGTERM or the shutdown command): ask the gateway to cancel everything, SIGTERM
the processes in reverse order, SIGKILL what did not exit in time, unlink every segment.
"""
from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from conf.schema import PROCESS_NAMES
from runtime import segments
from runtime.settings import config_of, instruments_of
from runtime.timeslice import current_slice_us
from shm.counters import STATE_RUNNING, STATE_STARTING
from shm.segment import SHM_DIR, list_segments, mapped_by, sweep

log = logging.getLogger("supervisor")

START_ORDER = PROCESS_NAMES                     # conf.schema.PIPELINE lists them in start order
SLOTS = {name: i for i, name in enumerate(START_ORDER)}   # each one's row in the counters table


class Child:
    def __init__(self, name: str):
        self.name, self.proc, self.restarts, self.started_ns = name, None, 0, 0

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc else None

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None


class Supervisor:
    def __init__(self, settings: dict, run_dir: Path, heartbeat_timeout_s: float = 1.0,
                 start_timeout_s: float = 30.0, inherit_fds: tuple = ()):
        self.inherit_fds = tuple(inherit_fds)
        self.settings, self.run_dir = settings, Path(run_dir)
        self.instance = settings["instance"]
        self.heartbeat_timeout_ns = int(heartbeat_timeout_s * 1e9)
        self.start_timeout_s = start_timeout_s
        self.children = {name: Child(name) for name in START_ORDER}
        self.segs: dict = {}
        self.stopping = False
        self.events: list[dict] = []  # telemetry to publish (state changes, restarts, errors)

    # ---- segments and settings ------------------------------------------------------------
    def create_segments(self) -> None:
        removed = sweep(self.instance)
        if removed:
            log.warning("swept %d segments left by a dead run: %s", len(removed), ", ".join(removed))
        left = list_segments(self.instance)
        if left:   # the sweep keeps what a live process still maps: an earlier pipeline's orphans
            users = mapped_by([SHM_DIR / name for name in left])
            pids = sorted({pid for holders in users.values() for pid in holders})
            raise RuntimeError(f"segments {', '.join(left)} of instance {self.instance} are still in use "
                               f"(mapped by pids {', '.join(map(str, pids)) or '?'}, an earlier pipeline "
                               "with the same control.port); stop it or choose another control.port")
        self.segs = segments.create_all(self.instance)

    @property
    def state(self):
        return self.segs["state"]

    @property
    def counters(self):
        return self.segs["counters"]

    def write_settings(self) -> None:
        self.run_dir.mkdir(parents=True, exist_ok=True)
        (self.run_dir / "logs").mkdir(exist_ok=True)
        tmp = self.run_dir / "settings.json.tmp"
        tmp.write_text(json.dumps(self.settings, indent=2, sort_keys=True))
        os.replace(tmp, self.run_dir / "settings.json")

    def publish_params(self) -> int:
        """Each traded instrument's quoter parameters from the running settings into shared
        memory (by instrument id); their sequence."""
        config = config_of(self.settings)
        return self.segs["params"].publish([config.quoter_for(i.name) for i in instruments_of(self.settings)])

    def apply_settings(self, settings: dict) -> int:
        """Run with validated ``settings`` from now on (a live ``set``): settings.json for restarts
        and the record, the quoter's parameters through shared memory; returns their sequence."""
        self.settings = settings
        self.write_settings()
        return self.publish_params()

    # ---- processes -------------------------------------------------------------------------
    def command(self, name: str) -> list[str]:
        """The command line of process ``name`` (runtime/launch.py reads the run's settings)."""
        return [sys.executable, "-m", "runtime.launch", name, "--run-dir", str(self.run_dir),
                "--slot", str(SLOTS[name]), "--supervisor-pid", str(os.getpid())]

    def spawn(self, name: str) -> None:
        child = self.children[name]
        log_path = self.run_dir / "logs" / f"{name}.stderr"
        with open(log_path, "ab") as err:
            child.proc = subprocess.Popen(self.command(name), stdin=subprocess.DEVNULL, stdout=err,
                                          stderr=err, start_new_session=True, pass_fds=self.inherit_fds)
        child.started_ns = time.monotonic_ns()
        log.info("started %s pid %d", name, child.proc.pid)

    def wait_running(self, name: str) -> None:
        child = self.children[name]
        deadline = time.monotonic() + self.start_timeout_s
        slot = self.counters.table[SLOTS[name]]
        while time.monotonic() < deadline:
            if not child.alive():
                raise RuntimeError(f"{name} (pid {child.pid}) exited with code {child.proc.returncode} "
                                   f"while starting; see {self.run_dir}/logs/{name}.log and {name}.stderr")
            if slot["pid"] == child.pid and slot["state"] == STATE_RUNNING:
                return
            time.sleep(0.01)
        raise TimeoutError(f"{name} (pid {child.pid}) did not report running within {self.start_timeout_s}s")

    def start(self) -> None:
        self.create_segments()
        self.write_settings()
        self.publish_params()
        for name in START_ORDER:
            self.spawn(name)
            self.wait_running(name)

    def stale(self, name: str) -> str | None:
        """Why ``name`` must be restarted, or None when it is healthy."""
        child = self.children[name]
        if not child.alive():
            return f"exited with code {child.proc.returncode}"
        slot = self.counters.table[SLOTS[name]]
        if slot["pid"] != child.pid or slot["state"] == STATE_STARTING:
            if time.monotonic_ns() - child.started_ns > self.start_timeout_s * 1e9:
                return "never reported running"
            return None
        age = time.monotonic_ns() - int(slot["heartbeat_ns"])
        if age > self.heartbeat_timeout_ns:
            return f"heartbeat {age / 1e9:.1f}s old"
        return None

    def watch(self) -> None:
        for name in START_ORDER:
            if self.stopping:
                return
            why = self.stale(name)
            if why:
                self.restart(name, why)

    def request_cancel_all(self, kind: str = "cancel", timeout_s: float = 3.0,
                           wake: tuple = ("gateway",)) -> tuple[int, bool]:
        """Ask the gateway to cancel every order of the account and wait for its word: the one way
        a cancel-all is asked for. ``kind`` "cancel" (before a restart or a stop) or "kill" (the
        operator's: the take-profit is not placed again); ``wake`` the processes that act on it.
        Returns (request sequence, True once the gateway confirmed)."""
        if kind not in ("cancel", "kill"):
            raise ValueError(f"cancel-all kind={kind!r}: expected 'cancel' or 'kill'")
        seq = self.state.bump(f"{kind}_request_seq")
        for name in wake:
            self.segs["doorbells"].bell(name).ring()
        if not self.children["gateway"].alive():
            return seq, False
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.state.get(f"{kind}_done_seq") >= seq:
                return seq, True
            time.sleep(0.005)
        log.error("gateway did not confirm the %s cancel-all within %.1fs", kind, timeout_s)
        return seq, False

    def restart(self, name: str, why: str) -> None:
        child = self.children[name]
        log.error("%s (pid %s) %s: restarting", name, child.pid, why)
        self.events.append({"event": "restart", "process": name, "pid": child.pid, "why": why})
        self._kill(child)
        if name == "gateway":
            # Nothing rests once its connection is gone (cancel-on-disconnect), but the flags
            # are the dead gateway's: clear them now, the new gateway sets them when it quotes.
            self.state.set("quoting", 0)
            self.state.set("connected", 0)
        else:
            self.request_cancel_all()
        child.restarts += 1
        self.counters.table[SLOTS[name]]["restarts"] = child.restarts
        self.spawn(name)

    @staticmethod
    def _kill(child: Child, grace_s: float = 0.0) -> None:
        if child.proc is None or child.proc.poll() is not None:
            return
        if grace_s:
            child.proc.send_signal(signal.SIGTERM)
            try:
                child.proc.wait(timeout=grace_s)
                return
            except subprocess.TimeoutExpired:
                log.warning("%s pid %d ignored SIGTERM for %.1fs: SIGKILL", child.name, child.pid, grace_s)
        child.proc.kill()
        child.proc.wait(timeout=10)

    def stop(self, grace_s: float = 5.0) -> None:
        """Cancel everything, stop every process (reverse order), unlink every segment."""
        self.stopping = True
        try:
            if self.segs and self.children["gateway"].alive():
                self.request_cancel_all()
            for name in reversed(START_ORDER):
                child = self.children[name]
                if child.alive():
                    child.proc.send_signal(signal.SIGTERM)
            deadline = time.monotonic() + grace_s
            for name in reversed(START_ORDER):
                self._kill(self.children[name], grace_s=max(0.1, deadline - time.monotonic()))
        finally:
            for seg in self.segs.values():
                seg.close()
            if self.segs:
                log.info("stopped; %d segments of instance %s unlinked", len(self.segs), self.instance)
            else:
                log.info("stopped; no segments had been created")
            self.segs = {}

    # ---- status ------------------------------------------------------------------------------
    def processes(self) -> list[dict]:
        rows = {row["name"]: row for row in self.counters.snapshot()}
        out = []
        for name in START_ORDER:
            child, row = self.children[name], rows.get(name, {})
            alive = child.alive()
            out.append({"name": name, "pid": child.pid, "cpu": row.get("cpu"), "alive": alive,
                        # the scheduler slice the kernel gives it (runtime/timeslice.py), us
                        "slice_us": current_slice_us(child.pid) if alive and child.pid else None,
                        "heartbeat_age_s": row.get("heartbeat_age_s"), "restarts": child.restarts,
                        "errors": row.get("errors", 0), "lapped": row.get("lapped", 0),
                        "malformed": row.get("malformed", 0), "duplicates": row.get("duplicates", 0),
                        "work_count": row.get("work_count", 0)})
        return out

    def ring_depths(self) -> dict:
        depths = {}
        for name, seg in self.segs.items():
            if hasattr(seg, "depth"):
                depths[name] = int(seg.depth)
            elif hasattr(seg, "tail") and hasattr(seg, "lapped_count"):
                depths[name] = {"published": int(seg.tail), "lapped": int(seg.lapped_count)}
        return depths
