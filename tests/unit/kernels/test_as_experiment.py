"""bin/as-table: the paper's findings reproduced by a real Monte Carlo run."""
import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

from kernels import as_experiment as X

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def rows():
    table = X.table(paths=20_000, seed=3)
    return {(r["gamma"], r["strategy"]): r for r in table}


def test_inventory_strategy_has_less_profit_and_inventory_risk_at_every_gamma(rows):
    for gamma in X.GAMMAS:
        inv, sym = rows[(gamma, "inventory")], rows[(gamma, "symmetric")]
        assert inv["std_profit"] < sym["std_profit"]
        assert inv["std_final_q"] < sym["std_final_q"]


def test_the_gap_shrinks_as_gamma_falls(rows):
    def gap(gamma, field):
        return rows[(gamma, "symmetric")][field] / rows[(gamma, "inventory")][field]
    for field in ("std_profit", "std_final_q"):
        assert gap(1.0, field) > gap(0.1, field) > gap(0.01, field) > 1.0


def test_average_spread_is_the_formula_averaged_over_the_200_steps(rows):
    for gamma in X.GAMMAS:
        mean_tau = sum(1.0 - i * 0.005 for i in range(200)) / 200
        expected = gamma * 4.0 * mean_tau + 2.0 / gamma * math.log(1.0 + gamma / 1.5)
        assert rows[(gamma, "inventory")]["avg_spread"] == pytest.approx(expected, rel=1e-12)
        assert rows[(gamma, "symmetric")]["avg_spread"] == pytest.approx(expected, rel=1e-12)
    assert rows[(0.1, "inventory")]["avg_spread"] == pytest.approx(1.49, abs=0.005)  # the paper's 1.49


def test_the_paper_figures_for_gamma_0_1_are_reproduced_within_noise(rows):
    inv, sym = rows[(0.1, "inventory")], rows[(0.1, "symmetric")]
    assert inv["profit"] == pytest.approx(62.94, rel=0.06) and inv["std_profit"] == pytest.approx(5.89, rel=0.15)
    assert sym["profit"] == pytest.approx(67.21, rel=0.05) and sym["std_profit"] == pytest.approx(13.43, rel=0.1)
    assert inv["std_final_q"] == pytest.approx(2.80, rel=0.1) and sym["std_final_q"] == pytest.approx(8.66, rel=0.1)


def test_different_seeds_give_different_runs_and_the_same_seed_the_same():
    a, b, c = X.table(500, 1, (0.1,)), X.table(500, 1, (0.1,)), X.table(500, 2, (0.1,))
    assert a == b and a != c


@pytest.mark.timeout(120)
def test_the_command_prints_one_json_row_per_gamma_and_strategy():
    proc = subprocess.run([sys.executable, "-m", "kernels.as_experiment", "--paths", "200", "--json"],
                          cwd=ROOT, capture_output=True, text=True, timeout=100, check=True)
    rows = [json.loads(line) for line in proc.stdout.splitlines()]
    assert len(rows) == 6
    assert set(rows[0]) == {"gamma", "strategy", "avg_spread", "profit", "std_profit", "final_q",
                            "std_final_q", "paths"}
    assert {(r["gamma"], r["strategy"]) for r in rows} == {(g, s) for g in (0.1, 0.01, 1.0)
                                                           for s in ("inventory", "symmetric")}
