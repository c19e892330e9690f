"""One measured figure beside its baseline, and how a suite prints them (table or JSON lines)."""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass

import numpy as np


@dataclass
class Result:
    """``value`` in ``unit``, beside ``baseline_value`` of the ``baseline`` measured in the same run.

    ``ratio`` is how many times better ours is: value/baseline for rates (higher is better),
    baseline/value for times (lower is better).
    """

    name: str
    value: float
    unit: str
    baseline: str
    baseline_value: float
    ratio: float = 0.0

    def __post_init__(self):
        if not self.ratio:
            higher_is_better = self.unit.endswith("/s")
            if higher_is_better:
                self.ratio = self.value / self.baseline_value if self.baseline_value else float("inf")
            else:
                self.ratio = self.baseline_value / self.value if self.value else float("inf")


def percentiles_ns(samples_ns, qs=(50, 99, 99.9)) -> list[float]:
    """Percentiles of a sample of durations in ns."""
    arr = np.asarray(samples_ns, dtype=np.float64)
    return [float(np.percentile(arr, q)) for q in qs]


def _fmt(value: float, unit: str) -> str:
    if unit.endswith("/s"):
        for scale, prefix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
            if value >= scale:
                return f"{value / scale:.2f} {prefix}{unit}"
        return f"{value:.1f} {unit}"
    if unit == "ns":
        if value >= 1e6:
            return f"{value / 1e6:.2f} ms"
        if value >= 1e3:
            return f"{value / 1e3:.2f} us"
        return f"{value:.0f} ns"
    return f"{value:.4g} {unit}"


def print_results(results: list[Result], as_json: bool) -> None:
    if as_json:
        for r in results:
            print(json.dumps(asdict(r)), flush=True)
        return
    rows = [("benchmark", "ours", "baseline", "baseline value", "ratio")]
    rows += [(r.name, _fmt(r.value, r.unit), r.baseline, _fmt(r.baseline_value, r.unit), f"{r.ratio:.1f}x")
             for r in results]
    widths = [max(len(row[i]) for row in rows) for i in range(5)]
    for i, row in enumerate(rows):
        print("  ".join(cell.ljust(w) if j in (0, 2) else cell.rjust(w)
                        for j, (cell, w) in enumerate(zip(row, widths))), flush=True)
        if i == 0:
            print("  ".join("-" * w for w in widths))
