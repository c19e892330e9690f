"""The ring benchmark runs end to end and reports every figure the issue names (not its speed)."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
REQUIRED = {
    "ring.one_to_one.per_record.throughput", "ring.one_to_one.batch64.throughput",
    "ring.one_to_one.batch256.throughput", "ring.one_to_one.rtt.p50", "ring.one_to_one.rtt.p99",
    "ring.broadcast.per_record.throughput",
}


@pytest.mark.timeout(180)
def test_ring_benchmark_prints_every_required_figure_beside_its_baseline():
    out = subprocess.run([sys.executable, "-m", "bench", "ring", "--quick", "--json"], cwd=ROOT,
                         capture_output=True, text=True, timeout=170, check=True).stdout
    rows = {r["name"]: r for r in map(json.loads, out.strip().splitlines())}
    assert REQUIRED <= set(rows)
    for name in REQUIRED:
        row = rows[name]
        assert set(row) == {"name", "value", "unit", "baseline", "baseline_value", "ratio"}
        assert row["baseline"] == "multiprocessing.Queue"
        assert row["value"] > 0 and row["baseline_value"] > 0
    assert not [s for s in os.listdir("/dev/shm") if s.startswith("mm.bench")]
