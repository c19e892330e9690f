"""A restarted risk process misses nothing: risk SIGKILLed 30 times while fills flow hard, and
afterwards our fills, fees, position and equity equal the exchange's exactly. Each restart
continues from its journal's exec sequence (or the exchange's replayed history) and approves
nothing until the gateway has reconciled; quoting resumes after every restart."""
import os
import random
import signal
import time

import pytest

from testkit.chaos import exchange_books
from testkit.pipeline import Pipeline, protection

pytestmark = pytest.mark.timeout(420)
KILLS = 30


def pid_of(mm, name):
    return {p["name"]: p for p in mm.ctl("status")["processes"]}[name]


def test_thirty_sigkills_of_risk_under_heavy_flow_lose_no_fill_and_book_none_twice(tmp_path):
    mm = Pipeline(tmp_path, "--set", "risk.stop_loss=0", "--set", "risk.max_drawdown=0",
                  "--set", "risk.max_position=0.05",
                  *protection(50))
    rng = random.Random(13)
    try:
        mm.wait(lambda s: s["quoting"], 30, "quoting")
        mm.sim("sim/options", flow_rate=60.0)
        mm.wait(lambda s: s["fills"] >= 20, 60, "fills flowing")
        requotes = []
        for _ in range(KILLS):
            before = pid_of(mm, "risk")
            os.kill(before["pid"], signal.SIGKILL)
            killed = time.monotonic()
            mm.wait(lambda s: {p["name"]: p for p in s["processes"]}["risk"]["restarts"] > before["restarts"]
                    and all(p["alive"] for p in s["processes"]), 20, "risk restarted")
            mm.wait(lambda s: s["quoting"], 30, "quoting again after the restart")
            requotes.append(time.monotonic() - killed)
            time.sleep(rng.uniform(0.2, 1.5))          # fills flow while risk is up, too
        mm.sim("sim/options", flow_rate=0.0, volatility=0.0)
        mm.ctl("pause")
        mm.wait(lambda s: not s["quoting"], 10, "quotes pulled")
        time.sleep(2.0)                                   # let the mark settle
        x = exchange_books(mm)
        ours = mm.wait(lambda s: s["fills"] == x["fills"] and
                       all(abs(s["positions"][n] - x["positions"].get(n, 0.0)) < 1e-9 for n in s["positions"]),
                       20, "our books equal the exchange's")
        print(f"\n{KILLS} kills of risk; quoting again after {min(requotes):.2f}-{max(requotes):.2f} s; "
              f"ours: fills {ours['fills']} fees {ours['pnl']['fees']:.6f} equity {ours['pnl']['equity']:.4f} | "
              f"exchange: trades {x['fills']} fees {x['fees']:.6f} equity {x['equity']:.4f}")
        assert x["fills"] >= 100, "too few fills for the kills to have mattered"
        assert ours["pnl"]["fees"] == pytest.approx(x["fees"], abs=1e-6)
        # Marks differ by the settling EMA only; funding is accrued from tickers: cents at most.
        assert ours["pnl"]["equity"] == pytest.approx(x["equity"], abs=0.05 + abs(x["position"]) * 2.0)
        status = mm.ctl("status")
        assert status["trading_state"] == "ACTIVE", status["reason"]
    finally:
        assert mm.stop() == 0, mm.output()
        assert mm.leftovers() == []
