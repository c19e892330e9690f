"""The local exchange's own past: public/mark_price_historical_data from its one-minute mark bars
(the spec's shapes, resolutions, ``to`` exclusive, no_data) and ``--history-s``, which starts it as
a market that has been running: bars and a recent_trades snapshot stamped in the past."""
from __future__ import annotations

import math
import time

import pytest

from sim.engine import Engine
from sim.history import MarkHistory, run_past
from sim.instruments import default_instruments
from sim.market import Market
from testkit.exchange import running_sim

pytestmark = pytest.mark.timeout(120)
BTC = "BTC-PERPETUAL"
NOW = 1_800_000_000.0        # a Unix minute boundary


def past_market(seconds=1800.0, step_s=0.5, seed=4, **market):
    engine = Engine(default_instruments(), recent_trades_kept=500)
    m = Market(engine, seed=seed, **market)
    history = MarkHistory(engine, m)
    steps = run_past(engine, m, history, seconds, step_s, now=NOW)
    return engine, m, history, steps


def test_bars_are_aligned_minutes_in_the_spec_shape_with_the_top_of_book(tmp_path):
    engine, market, history, steps = past_market()
    assert steps == 3600
    rows = history.rows(BTC, NOW - 1800, NOW, "1m")
    assert [r[0] for r in rows] == [NOW - 1800 + 60 * i for i in range(30)]
    for start, o, h, low, c, funding, tob in rows:
        assert low <= min(o, c) <= max(o, c) <= h and type(funding) is float
        bid, bid_size, ask, ask_size = tob
        assert bid < ask and bid_size > 0 and ask_size > 0
    future = next(n for n, i in engine.instruments.items() if i.type == "future")
    assert all(len(r) == 6 and len(r[5]) == 4 for r in history.rows(future, NOW - 600, NOW, "1m"))
    # consecutive minutes join up: each opens one step after the last close
    assert all(abs(b[1] - a[4]) < 30 for a, b in zip(rows, rows[1:]))


def test_a_coarser_resolution_aggregates_the_minutes_and_has_no_top_of_book():
    _, _, history, _ = past_market()
    minutes = history.rows(BTC, NOW - 1800, NOW, "1m")
    fives = history.rows(BTC, NOW - 1800, NOW, "5m")
    assert len(fives) == 6
    for i, (start, o, h, low, c, funding, tob) in enumerate(fives):
        group = minutes[5 * i:5 * i + 5]
        assert start == group[0][0] and o == group[0][1] and c == group[-1][4] and tob is None
        assert h == max(r[2] for r in group) and low == min(r[3] for r in group)
        assert funding == pytest.approx(sum(r[5] for r in group), abs=1e-7)


def test_to_is_exclusive_and_an_empty_range_says_no_data_over_the_wire():
    _, _, history, _ = past_market(seconds=600)
    assert [r[0] for r in history.rows(BTC, NOW - 300, NOW - 120, "1m")] == [NOW - 300, NOW - 240, NOW - 180]
    with running_sim(volatility=0, flow_rate=0, seed=1) as sim:
        client = sim.client()
        now = time.time()
        reply = client.call("public/mark_price_historical_data",
                            {"instrument_name": BTC, "from": now - 7200, "to": now - 3600, "resolution": "1h"})
        assert reply["result"] == {"instrument_type": "perpetual", "mark": [], "no_data": True}
        for params, match in (({"resolution": "2m"}, "resolution='2m'"), ({"from": now, "to": now - 1}, "from="),
                              ({"instrument_name": "BTC-NOPE"}, "BTC-NOPE")):
            bad = client.call("public/mark_price_historical_data",
                              {"instrument_name": BTC, "from": now - 60, "to": now, "resolution": "1m", **params})
            assert "error" in bad and match in bad["error"]["message"], bad
        client.close()


def test_history_s_starts_the_exchange_with_a_past_of_trades_and_bars():
    with running_sim(seed=2, history_s=240, recent_trades=1000) as sim:
        started = time.time()
        client = sim.client()
        client.send("public/subscribe", {"channels": [f"recent_trades.{BTC}.single"]})
        snapshot = client.wait_for(lambda m: m.get("snapshot"))["notification"]
        times = [row[3] for row in snapshot]
        assert len(snapshot) > 300 and times == sorted(times)
        assert started - 250 < times[0] < started - 120            # stamped in the simulated past
        bars = client.call("public/mark_price_historical_data",
                           {"instrument_name": BTC, "from": started - 300, "to": started + 60,
                            "resolution": "1m"})["result"]["mark"]
        assert len(bars) >= 4 and bars[0][0] <= math.floor((started - 180) / 60) * 60
        client.close()
