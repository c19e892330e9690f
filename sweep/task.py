"""One run of a sweep, as a Ray task executes it on whichever node Ray chose.

The run is bin/mm-backtest's code path (backtest.entry.run_backtest: the same configuration
load, driver and run directory) over the events the driver put once into Ray's object store,
cut to the run's window. The run directory goes to a temporary directory of the node and is
deleted once its figures are read (kept under ``keep_dir`` when asked). Whatever the run raises
becomes a row with status "failed" and the error: the sweep goes on.
"""
from __future__ import annotations

import shutil
import socket
import tempfile
import time
import traceback
from pathlib import Path

from backtest.entry import run_backtest
from sweep import metrics
from sweep.window import Window, cut


def config_path(name: str, text: str, scratch: Path) -> Path:
    """The base configuration on this node: the driver's file when this node has the same one (a
    shared checkout: error messages name it as bin/mm-backtest would), else its text in ``scratch``."""
    path = Path(name)
    try:
        if path.read_text() == text:
            return path
    except OSError:
        pass
    copy = scratch / path.name
    copy.write_text(text)
    return copy


def error_text(exc: BaseException) -> str:
    """``Type: message (at file:line)``: where in our code a run failed, in one line."""
    frames = traceback.extract_tb(exc.__traceback__)
    where = f" (at {Path(frames[-1].filename).name}:{frames[-1].lineno})" if frames else ""
    return f"{type(exc).__name__}: {exc}{where}"


def run_one(spec: dict, chunks) -> dict:
    """The row of one run. ``spec``: run_id, part, window (part, start_ns, end_ns), params,
    overrides, config_name, config_text, keep_dir (or None). ``chunks``: the whole data's events
    for this run's feed latency (Ray hands the object-store copy of this node)."""
    t = time.perf_counter()
    row = {"run_id": spec["run_id"], "part": spec["part"], **spec["params"], "status": "ok", "error": "",
           "node": socket.gethostname(), "overrides": " ".join(spec["overrides"])}
    scratch = Path(tempfile.mkdtemp(prefix="mm-sweep-"))
    run_dir = Path(spec["keep_dir"]) / spec["run_id"] if spec.get("keep_dir") else scratch / "run"
    try:
        config = config_path(spec["config_name"], spec["config_text"], scratch)
        events = cut(chunks, Window(*spec["window"]))
        summary = run_backtest(events, spec["overrides"], run_dir, config)
        row.update(metrics.from_run(run_dir, summary))
    except Exception as exc:       # any failure is this run's result, not the sweep's end
        row.update(status="failed", error=error_text(exc))
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    row["wall_s"] = time.perf_counter() - t
    return row
