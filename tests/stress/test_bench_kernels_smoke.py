"""The kernel benchmark runs end to end and names its headline figure as DESIGN.md fixes it."""
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.timeout(180)
def test_kernel_benchmark_reports_the_entry_point_beside_its_twin():
    out = subprocess.run([sys.executable, "-m", "bench", "kernels", "--quick", "--json"], cwd=ROOT,
                         capture_output=True, text=True, timeout=170, check=True).stdout
    rows = {r["name"]: r for r in map(json.loads, out.strip().splitlines())}
    head = rows["kernels.quote.per_call"]
    assert head["unit"] == "ns" and head["baseline"] == "pure-Python twin"
    assert head["value"] > 0 and head["baseline_value"] > 0
    assert head["ratio"] == pytest.approx(head["baseline_value"] / head["value"])
    assert {"kernels.volatility.update", "kernels.intensity.on_trade", "kernels.candles.on_trade",
            "kernels.ladder.build_10x2", "kernels.as_quotes.per_call", "kernels.glft.per_call"} <= set(rows)
