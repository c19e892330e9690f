"""Entry point of one pipeline process: ``python -m runtime.launch NAME --run-dir DIR --slot N
[--supervisor-pid PID]``.

Reads the effective settings the supervisor wrote to ``<run_dir>/settings.json`` (plain numbers,
validated before anything started), builds the agent named in conf.schema.PIPELINE, registers its
counters slot and hands it to a Runner that pins the CPU and applies the idle strategy named in
the settings (a belled process sleeps on its doorbell). With ``--supervisor-pid`` the process
dies with its supervisor (runtime/parent_death.py).
"""
from __future__ import annotations

import argparse
import importlib
import json
import logging
import sys
from pathlib import Path

from runtime import parent_death
from conf.schema import BELLED, PIPELINE, PROCESS_NAMES
from runtime.runner import Runner
from shm.counters import Counters
from runtime.handoff import PREWAKE_SPIN_S, PREWAKERS, prewakes, shares_core
from runtime.idle import make_idle

AGENTS = {p.name: p.agent for p in PIPELINE}    # process name -> "module:Class" (conf.schema.PIPELINE)


def build_agent(name: str, settings: dict):
    """The agent of process ``name``, built by its class's ``from_settings``."""
    if name not in AGENTS:
        raise ValueError(f"process {name!r}: expected one of {', '.join(PROCESS_NAMES)}")
    module, cls = AGENTS[name].split(":")
    return getattr(importlib.import_module(module), cls).from_settings(settings)


def setup_logging(name: str, run_dir: Path, level: str = "INFO") -> None:
    """Console (stderr, which the supervisor also captures) and a file per process."""
    fmt = logging.Formatter(f"%(asctime)s %(levelname)-7s {name:<8} %(message)s")
    root = logging.getLogger()
    root.setLevel(level)
    for handler in (logging.StreamHandler(sys.stderr), logging.FileHandler(run_dir / "logs" / f"{name}.log")):
        handler.setFormatter(fmt)
        root.addHandler(handler)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="runtime.launch")
    p.add_argument("name", choices=PROCESS_NAMES)
    p.add_argument("--run-dir", required=True, type=Path)
    p.add_argument("--slot", required=True, type=int)
    p.add_argument("--supervisor-pid", type=int, help="die with this process (our parent)")
    a = p.parse_args(argv)
    # First thing: a supervisor that died while we were starting must not leave us running.
    if a.supervisor_pid is not None and not parent_death.arm(a.supervisor_pid):
        print(f"{a.name}: supervisor pid {a.supervisor_pid} died before {a.name} started; exiting",
              file=sys.stderr)
        return 1
    settings = json.loads((a.run_dir / "settings.json").read_text())
    settings.setdefault("run_dir", str(a.run_dir))
    (a.run_dir / "logs").mkdir(parents=True, exist_ok=True)
    setup_logging(a.name, a.run_dir, settings.get("log_level", "INFO"))
    proc = settings["process_runtime"][a.name]
    counters = Counters.attach(settings["instance"])
    slot = counters.register(a.slot, a.name, proc.get("cpu", -1))
    idle_params = {k: v for k, v in proc.items() if k not in ("cpu", "idle", "slice_us")}
    bells = None
    if proc.get("idle", "backoff") == "backoff" and a.name in BELLED:
        from shm.doorbell import Doorbells
        bells = Doorbells.attach(settings["instance"])
        # Sharing a core with other pipeline processes, a pass that looks again for work only
        # delays them (the producer that would ring us among them): sleep on the bell at once.
        shared = any(shares_core(settings, other, a.name) for other in PROCESS_NAMES if other != a.name)
        idle_params.update(doorbell=bells.bell(a.name), max_spins=0 if shared else 2,
                           max_yields=0 if shared else 1)
        if any(PREWAKERS.get(other) == a.name and prewakes(settings, other, a.name) for other in PROCESS_NAMES):
            idle_params["spin_after_wake_s"] = PREWAKE_SPIN_S
    runner = Runner(build_agent(a.name, settings), make_idle(proc.get("idle", "backoff"), **idle_params),
                    counters=slot, cpu=proc.get("cpu", -1), supervisor_pid=a.supervisor_pid,
                    slice_us=proc.get("slice_us", 0.0))
    runner.install_signal_handlers()
    code = runner.run()
    if bells is not None:
        runner.idle = None
        bells.close()
    slot.row = None
    counters.table = None
    counters.close()
    return code


if __name__ == "__main__":
    sys.exit(main())
