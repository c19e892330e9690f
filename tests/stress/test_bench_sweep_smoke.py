"""The sweep benchmark runs end to end on a local Ray and reports its four figures."""
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.timeout(180)
def test_sweep_benchmark_reports_one_and_two_workers_and_the_overhead_per_task():
    out = subprocess.run([sys.executable, "-m", "bench", "sweep", "--quick", "--json"], cwd=ROOT,
                         capture_output=True, text=True, timeout=170, check=True).stdout
    rows = [json.loads(line) for line in out.strip().splitlines()]
    one, two, overhead, empty = rows
    assert one["unit"] == two["unit"] == "runs/s" and one["value"] > 0 and two["value"] > 0
    assert two["baseline"] == "sweep on Ray, 1 worker" and two["baseline_value"] == one["value"]
    assert overhead["unit"] == empty["unit"] == "ms" and 0 < empty["value"] < overhead["baseline_value"]
