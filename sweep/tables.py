"""results.parquet and results.csv: one row per run, the same columns in the same order.

Columns: run_id, part (all | train | test), window, status (ok | failed), one column per swept
setting (named SECTION.KEY), train_rank (1 = best on the objective, on train or all data),
the figures of sweep/metrics.py, wall_s, node (the host that ran it), error, overrides (the
``--set`` strings that reproduce the run with bin/mm-backtest).
"""
from __future__ import annotations

import csv
import math
from pathlib import Path

from sweep.metrics import COLUMNS

HEAD = ["run_id", "part", "window", "status"]
TAIL = ["train_rank", *COLUMNS, "wall_s", "node", "error", "overrides"]


def columns(param_keys: list[str]) -> list[str]:
    return HEAD + list(param_keys) + TAIL


def write(rows: list[dict], param_keys: list[str], out: Path) -> list[Path]:
    """Write both files into ``out``; returns their paths."""
    import pyarrow as pa
    import pyarrow.parquet as pq
    names = columns(param_keys)
    schema = _schema(pa, rows, names)
    table = pa.Table.from_pylist([{f.name: _cast(pa, f.type, r.get(f.name)) for f in schema} for r in rows],
                                 schema=schema)
    parquet, text = Path(out) / "results.parquet", Path(out) / "results.csv"
    pq.write_table(table, parquet)
    with open(text, "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(names)
        for r in rows:
            w.writerow(["" if r.get(n) is None else _text(r.get(n)) for n in names])
    return [parquet, text]


def _text(v) -> str:
    if isinstance(v, float):
        return "nan" if math.isnan(v) else repr(v)
    return str(v)


def _cast(pa, arrow_type, v):
    if v is None:
        return None
    if arrow_type == pa.string():
        return v if isinstance(v, str) else _text(v)
    if arrow_type == pa.float64():
        return float(v)
    return v


def _schema(pa, rows: list[dict], names: list[str]):
    """One Arrow type per column from its values (ints and floats mixed become float64)."""
    fields = []
    for n in names:
        kinds = {type(r[n]) for r in rows if r.get(n) is not None}
        if kinds <= {bool} and kinds:
            t = pa.bool_()
        elif kinds <= {int} and kinds:
            t = pa.int64()
        elif kinds <= {int, float} and kinds:
            t = pa.float64()
        elif not kinds:
            t = pa.float64() if n in COLUMNS or n in ("wall_s", "train_rank") else pa.string()
        else:
            t = pa.string()
        fields.append(pa.field(n, t))
    return pa.schema(fields)
