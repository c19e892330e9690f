"""The feed benchmark runs end to end, writes through a real ring, and cleans up (not its speed)."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
REQUIRED = {"feed.ticker.decode_into_ring.throughput", "feed.ticker.decode_only.throughput"}


@pytest.mark.timeout(120)
def test_feed_benchmark_prints_every_figure_beside_the_json_baseline():
    out = subprocess.run([sys.executable, "-m", "bench", "feed", "--quick", "--json"], cwd=ROOT,
                         capture_output=True, text=True, timeout=110, check=True).stdout
    rows = {r["name"]: r for r in map(json.loads, out.strip().splitlines())}
    assert REQUIRED <= set(rows)
    for name in REQUIRED:
        row = rows[name]
        assert set(row) == {"name", "value", "unit", "baseline", "baseline_value", "ratio"}
        assert row["unit"] == "frames/s" and row["baseline"] == "json.loads + dict"
        assert row["value"] > 0 and row["baseline_value"] > 0
        assert row["ratio"] == pytest.approx(row["value"] / row["baseline_value"])
    assert not [s for s in os.listdir("/dev/shm") if s.startswith("mm.bench")]
