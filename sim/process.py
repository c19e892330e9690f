"""The local exchange as a child process: ``python -m sim --port 0``, its URL read from stdout.

Used by paper trading (runtime/paper.py) and by the test kit (testkit/exchange.py): one way to
start it, one way to stop it (by pid: SIGTERM, then SIGKILL after a grace period).
"""
from __future__ import annotations

import os
import select
import signal
import subprocess
import sys


class SimProcess:
    """``python -m sim`` on 127.0.0.1 with a free port; ``url`` once ``start`` returned."""

    def __init__(self, api_keys: dict | None = None, stderr=None, new_session: bool = False, **opts):
        """``api_keys`` maps key id -> public PEM path; ``opts`` are CLI options
        (``seed=3, volatility=5.0``); ``stderr`` a file object (never a pipe nobody reads)."""
        self.args = [sys.executable, "-m", "sim", "--host", "127.0.0.1", "--port", "0"]
        for kid, path in (api_keys or {}).items():
            self.args += ["--api-key", f"{kid}={path}"]
        for name, value in opts.items():
            self.args += ["--" + name.replace("_", "-"), str(value)]
        self.stderr, self.new_session = stderr, new_session
        self.proc: subprocess.Popen | None = None
        self.url: str | None = None

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc else None

    def start(self, timeout_s: float = 20.0) -> str:
        self.proc = subprocess.Popen(self.args, stdout=subprocess.PIPE, stderr=self.stderr,
                                     stdin=subprocess.DEVNULL, start_new_session=self.new_session)
        ready, _, _ = select.select([self.proc.stdout], [], [], timeout_s)
        line = self.proc.stdout.readline().decode().strip() if ready else ""
        if not line.startswith("ws://"):
            self.stop()
            raise RuntimeError(f"python -m sim printed {line!r} instead of its URL within {timeout_s} s "
                               f"(exit code {self.proc.returncode})")
        self.url = line
        return line

    def stop(self, grace_s: float = 5.0) -> None:
        proc = self.proc
        if proc is None:
            return
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=grace_s)
            except subprocess.TimeoutExpired:
                os.kill(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)
        if proc.stdout is not None:
            proc.stdout.close()
