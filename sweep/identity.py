"""Names that survive a restart: a run's id (what resuming matches on) and a sweep's default
output directory, both hashes of what decides the result.

A run is the same run when the data (path, file sizes and modification times), the base
configuration's text, its ``--set`` strings and its window are the same. Change any of them and
it runs again; a changed backtester is not seen: delete the output directory to start over.
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path


def data_fingerprint(path: Path) -> list:
    path = Path(path).resolve()
    files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    return [str(path)] + [[str(f.relative_to(path)) if path.is_dir() else f.name, f.stat().st_size,
                           f.stat().st_mtime_ns] for f in files]


def digest(obj) -> str:
    return hashlib.sha1(json.dumps(obj, sort_keys=True, default=str).encode()).hexdigest()


def run_id(data_print: list, config_text: str, overrides, window) -> str:
    """``window``: (part, start_ns, end_ns)."""
    return digest({"data": data_print, "config": config_text, "set": sorted(overrides),
                   "window": [window[1], window[2]]})[:16]


def sweep_id(data_print: list, config_text: str, plan_args: dict) -> str:
    return digest({"data": data_print, "config": config_text, "plan": plan_args})[:10]
