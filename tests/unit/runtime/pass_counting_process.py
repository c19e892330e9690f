"""A pipeline process whose agent only counts its passes, started exactly like the real ones
(runtime/launch.py: the run's settings, a counters slot, the idle strategy, the runner and its
signal handlers), for the runner and supervisor tests. Run as the gateway it also confirms the
supervisor's cancel requests, as the real gateway does. On close it writes its pass count to
``<run_dir>/<name>.closed``.

    python tests/unit/runtime/pass_counting_process.py NAME --run-dir DIR --slot N
"""
from __future__ import annotations

import sys
from pathlib import Path

from runtime import launch
from runtime.agent import Agent
from shm.state import SharedState


class PassCounter(Agent):
    def __init__(self, name: str, instance: str, run_dir: Path):
        self.name, self.instance, self.run_dir = name, instance, Path(run_dir)
        self.passes = 0

    def on_start(self) -> None:
        self.state = SharedState.attach(self.instance)

    def do_work(self) -> int:
        self.passes += 1
        if self.name == "gateway":
            seq = self.state.get("cancel_request_seq")
            if seq != self.state.get("cancel_done_seq"):
                self.state.set("cancel_done_seq", seq)
                return 1
        return 0

    def on_close(self) -> None:
        (self.run_dir / f"{self.name}.closed").write_text(str(self.passes))
        if hasattr(self, "state"):
            self.state.close()


if __name__ == "__main__":
    run_dir = Path(sys.argv[sys.argv.index("--run-dir") + 1])
    launch.build_agent = lambda name, settings: PassCounter(name, settings["instance"], run_dir)
    sys.exit(launch.main())
