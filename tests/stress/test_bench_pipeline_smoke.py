"""The pipeline benchmark runs end to end: ours, the asyncio peer and the floor measured by the
exchange in turns, the per-hop breakdown and the fast cancel too; a configuration pinned to CPUs
this machine lacks is refused with a message naming them."""
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
    assert rows["pipeline.tick_to_order.p50.vs_floor"]["baseline"].startswith("floor")
    for hop in ("feed", "quoter", "approve", "send"):
        row = rows[f"pipeline.hop.{hop}.p50"]
        assert 0 < row["value"] <= row["baseline_value"]         # a part of the whole
    assert rows["pipeline.fast_cancel.md_to_send.p50"]["value"] > 0
    assert rows["pipeline.tick_to_order.samples"]["value"] >= 5


def test_a_configuration_pinned_to_missing_cpus_is_refused_by_name(tmp_path):
    conf = tmp_path / "far.toml"
    conf.write_text("[processes.quoter]\ncpu = 1000\nidle = \"busy-spin\"\n")
    run = subprocess.run([sys.executable, "-m", "bench", "pipeline", "--quick", "--config", str(conf)], cwd=ROOT,
                         capture_output=True, text=True, timeout=60)
    assert run.returncode != 0
    assert "quoter to CPU 1000" in run.stderr and "this machine offers CPUs" in run.stderr
