"""Start ``bin/mm run`` for real (a subprocess, its own control port and run directory) and
talk to it through the control port and to its exchange through ``sim/*`` calls.

Used by the end-to-end tests and by ``bin/mm-bench pipeline``; stops what it starts by pid.
"""
from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from control.mmctl import request
from shm.segment import list_segments
from sim.accounts import account_number_for
from testkit.exchange import Client

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def free_port_pair() -> int:
    """A port p with p and p + 1 free (control and telemetry)."""
    for _ in range(50):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port < 65000:
            with socket.socket() as s2:
                try:
                    s2.bind(("127.0.0.1", port + 1))
                    return port
                except OSError:
                    continue
    raise RuntimeError("no free port pair")


def protection(amount: float) -> tuple[str, ...]:
    """``--set`` arguments giving every market-maker protection group ``amount`` contracts (trade
    and quote): [gateway]'s default and the configuration's own [products."..."] sections, which
    win over it (conf/paper.toml sets FBTCUSD to 0.02: a test that needs more fills must raise both)."""
    out = []
    for where in ("gateway", "products.FBTCUSD", "products.FETHUSD"):
        out += ["--set", f"{where}.mmp_trade_amount={amount:g}", "--set", f"{where}.mmp_quote_amount={amount:g}"]
    return tuple(out)


class Pipeline:
    def __init__(self, tmp: Path, *sets: str, env: dict | None = None, port: int | None = None):
        """``port``: the control port (telemetry on port + 1); the same port means the same
        instance, so a pipeline started again after a crash sweeps what the dead one left."""
        self.port = port or free_port_pair()
        self.endpoint = f"tcp://127.0.0.1:{self.port}"
        self.instance = f"p{self.port}"
        self.metrics_port = free_port()
        while self.metrics_port in (self.port, self.port + 1):
            self.metrics_port = free_port()
        self.metrics_url = f"http://127.0.0.1:{self.metrics_port}/metrics"
        self.log = open(tmp / "mm.out", "w+")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "runtime.main", "run", "--set", f"recorder.dir={tmp / 'runs'}",
             "--set", f"control.port={self.port}", "--set", f"control.pub_port={self.port + 1}",
             "--set", f"control.metrics_port={self.metrics_port}", *sets],
            cwd=ROOT, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True,
            env={**os.environ, **(env or {})})
        self._wait_started()
        params = self.ctl("params")
        self.url = params["venue_url"]
        self.account = account_number_for(params["key_id"])
        self.exchange = Client(self.url, 10.0)

    def _wait_started(self, timeout_s: float = 60.0) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"bin/mm run exited {self.proc.returncode}:\n{self.output()}")
            if "control port" in self.output():
                return
            time.sleep(0.1)
        raise TimeoutError(f"bin/mm run did not start within {timeout_s}s:\n{self.output()}")

    def output(self) -> str:
        self.log.flush()
        return Path(self.log.name).read_text()

    def ctl(self, cmd: str, **args):
        reply = request(self.endpoint, cmd, args, timeout_s=10.0)
        assert reply["ok"], reply
        return reply["result"]

    def sim(self, method: str, **params):
        reply = self.exchange.call(method, params)
        assert "result" in reply, reply
        return reply["result"]

    def exchange_state(self) -> dict:
        return self.sim("sim/portfolio", account=self.account)

    def wait(self, predicate, timeout_s: float = 20.0, what: str = "condition"):
        deadline = time.monotonic() + timeout_s
        last = None
        while time.monotonic() < deadline:
            last = self.ctl("status")
            if predicate(last):
                return last
            time.sleep(0.1)
        raise AssertionError(f"{what} not reached within {timeout_s}s; last status: {last}")

    def stop(self, timeout_s: float = 30.0) -> int:
        with contextlib.suppress(Exception):
            self.exchange.close()
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)
        self.log.close()
        return self.proc.returncode

    def leftovers(self) -> list[str]:
        return list_segments(self.instance)
