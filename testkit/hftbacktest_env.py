"""The reference engine, hftbacktest 2.4.4, in an environment of its own (``.venv-hftbacktest/`` in
the checkout, ignored by git, never the product's .venv), created on first use from the package
index: its core needs numpy and numba only (binding.py imports nothing else), so its other
requirements (polars, matplotlib, holoviews: statistics and plots) are left out and the set-up
takes about half a minute instead of two.

Scripts that run inside it (testkit/hftbacktest_replay.py, bench/_hftbacktest_glft.py) import
numpy, numba and hftbacktest only, never this project.
"""
from __future__ import annotations

import fcntl
import os
import subprocess
import sys
from pathlib import Path

VERSION = "2.4.4"
ROOT = Path(__file__).resolve().parents[1]
ENV = ROOT / ".venv-hftbacktest"
# hftbacktest 2.4.4's own pins for these two (its pyproject: numpy >=2.0,<2.3; numba ~=0.61)
CORE_DEPS = ["numpy>=2.0,<2.3", "numba~=0.61"]
# what pip says when it cannot reach an index or the index lacks the release
OFFLINE = ("No matching distribution", "Could not find a version", "Failed to establish", "Network is unreachable",
           "Temporary failure in name resolution", "ConnectionError", "Max retries exceeded", "Read timed out")


class Unavailable(RuntimeError):
    """pip cannot fetch the reference engine (no index reachable): callers skip, with this reason."""


def _base_python() -> str:
    # A venv made from inside another venv must start from the real interpreter.
    return getattr(sys, "_base_executable", None) or sys.executable


def _pip(py: Path, args: list[str]) -> None:
    cmd = [str(py), "-m", "pip", "install", "-q", "--disable-pip-version-check", *args]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=900)
    if r.returncode:
        text = r.stdout + r.stderr
        lines = [ln for ln in text.splitlines() if ln.strip() and not ln.startswith("WARNING: Location")]
        detail = "\n".join(lines[-8:])
        if any(s in text for s in OFFLINE):
            raise Unavailable(f"pip cannot fetch {' '.join(args)} from the package index: {detail}")
        raise RuntimeError(f"{' '.join(cmd)} failed (exit {r.returncode}):\n{detail}")


def python() -> Path:
    """The environment's interpreter, with hftbacktest VERSION importable (set up on first use;
    a lock keeps two callers from racing). Raises Unavailable when pip cannot reach the index."""
    py = ENV / "bin" / "python"
    ready = ENV / f".ready-{VERSION}"
    if ready.exists():
        return py
    ENV.parent.mkdir(parents=True, exist_ok=True)
    with open(ROOT / ".venv-hftbacktest.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if ready.exists():
            return py
        if not py.exists():
            subprocess.run([_base_python(), "-m", "venv", str(ENV)], check=True, timeout=300)
        _pip(py, CORE_DEPS)
        _pip(py, ["--no-deps", f"hftbacktest=={VERSION}"])
        got = subprocess.run([str(py), "-c", "import hftbacktest; print(hftbacktest.__version__)"],
                             capture_output=True, text=True, timeout=300)
        if got.returncode or got.stdout.strip() != VERSION:
            raise RuntimeError(f"{ENV}: hftbacktest {VERSION} does not import: {got.stdout}{got.stderr}")
        ready.touch()
    return py


def run(script: Path, *args, timeout: float = 1800) -> subprocess.CompletedProcess:
    """Run ``script`` with the environment's interpreter (no project path, one thread each)."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")}
    env.update(NUMBA_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1")
    r = subprocess.run([str(python()), "-I", str(script), *map(str, args)], capture_output=True, text=True,
                       timeout=timeout, env=env, cwd=str(ROOT))
    if r.returncode:
        raise RuntimeError(f"{script.name} in {ENV.name} failed (exit {r.returncode}):\n{r.stderr[-4000:]}")
    return r
