"""The pipeline benchmark runs end to end: both quoters measured by the exchange, fast cancel too."""
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.timeout(300)
def test_pipeline_benchmark_reports_tick_to_order_beside_the_asyncio_baseline():
    out = subprocess.run([sys.executable, "-m", "bench", "pipeline", "--quick", "--json"], cwd=ROOT,
                         capture_output=True, text=True, timeout=280, check=True).stdout
    rows = {r["name"]: r for r in map(json.loads, out.strip().splitlines())}
    for q in ("p50", "p99", "p99.9"):
        row = rows[f"pipeline.tick_to_order.{q}"]
        assert row["baseline"] == "asyncio + official thalex client"
        assert 0 < row["value"] < 1e9 and 0 < row["baseline_value"] < 1e9
    assert rows["pipeline.fast_cancel.md_to_send.p50"]["value"] > 0
    assert rows["pipeline.tick_to_order.samples"]["value"] >= 5
