"""Paper trading: a throwaway RSA key and the local exchange (sim/) as a child process.

The key pair lives in the run directory (private key mode 0600) and is registered with the
embedded exchange by key id, so the gateway logs in exactly as it would on Thalex. The exchange
dies with the supervisor that started it (runtime/parent_death.py), like every pipeline process.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

from sim.keys import make_key_pair
from sim.process import SimProcess


def make_throwaway_key(directory: Path) -> tuple[str, Path, Path]:
    """(key id, private key path, public key path) of a fresh RSA-2048 key in ``directory``."""
    return make_key_pair(directory)


class EmbeddedExchange:
    """The local exchange for one run; its log goes to ``<run_dir>/logs/exchange.log``."""

    def __init__(self, run_dir: Path, kid: str, public_key: Path, seed: int, volatility: float):
        self.run_dir = run_dir
        self.log_file = open(run_dir / "logs" / "exchange.log", "ab")
        # Its own session: a Ctrl-C in the terminal reaches the supervisor, which stops it last.
        self.sim = SimProcess({kid: public_key}, stderr=self.log_file, new_session=True,
                              seed=seed, volatility=volatility)
        self.sim.args = [sys.executable, "-m", "runtime.parent_death", str(os.getpid()), "--", *self.sim.args]

    @property
    def url(self) -> str | None:
        return self.sim.url

    def start(self, timeout_s: float = 20.0) -> str:
        try:
            return self.sim.start(timeout_s)
        except RuntimeError as exc:
            raise RuntimeError(f"local exchange did not start: {exc}; see {self.run_dir}/logs/exchange.log") from None

    def stop(self, grace_s: float = 5.0) -> None:
        self.sim.stop(grace_s)
        self.log_file.close()
