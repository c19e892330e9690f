"""The recorder from real rings to CSV files: market data, public trades, published ladders, our
order events and fills (a trade replayed after a reconnect recorded once), P&L and process health."""
import csv
import json

import numpy as np
import pytest

from procs.recorder import HEADERS, Recorder
from shm import records as R
from shm.counters import STATE_RUNNING

from agent_kit import MARK, execution, ladder, ticker


def rows(run_dir, name):
    with open(run_dir / f"{name}.csv", newline="") as f:
        return list(csv.DictReader(f))


@pytest.fixture
def recorder(segs, instance, tmp_path):
    rec = Recorder(instance, tmp_path, flush_interval_s=60.0, n_instruments=1)
    rec.on_start()
    return rec


def test_every_file_starts_with_its_header_and_the_clock_is_written_once(segs, recorder, tmp_path):
    recorder.on_close()
    for name, header in HEADERS.items():
        with open(tmp_path / f"{name}.csv", newline="") as f:
            assert next(csv.reader(f)) == header
    clock = json.loads((tmp_path / "clock.json").read_text())
    assert clock["monotonic_ns"] > 0 and clock["unix_ns"] > 0


def test_records_on_the_rings_become_rows_of_their_files(segs, recorder, tmp_path):
    segs["md"].write(ticker(mark=MARK))
    trade = np.zeros(1, R.TRADE_DTYPE)
    trade["type"], trade["side"], trade["price"], trade["amount"], trade["receive_ts_ns"] = 1, -1, 99_990.0, 0.5, 7
    segs["trades"].write(trade)
    q = ladder(bids=[99_990.0, 99_980.0], asks=[100_010.0], amount=0.01)
    q["md_receive_ts_ns"] = q["created_ts_ns"] - 1500
    segs["quote_log"].write(q)
    segs["exec"].write(execution(R.EXEC_ACK, side=1, price=99_990.0, amount=0.01))
    segs["exec"].write(execution(R.EXEC_FILL, side=1, price=99_990.0, amount=0.01, trade_id=5))
    report = execution(R.EXEC_TRADE, side=1, price=99_990.0, amount=0.01, trade_id=5, fee=0.1, position=0.01)
    segs["exec"].write(report)
    segs["exec"].write(report)                       # the trade history replayed after a reconnect
    assert recorder.do_work() == 7
    recorder.on_close()
    (md,) = rows(tmp_path, "md")
    assert (float(md["mark"]), float(md["bid"]), md["stale"]) == (MARK, MARK - 5.0, "0")
    (t,) = rows(tmp_path, "trades")
    assert (t["side"], float(t["price"]), float(t["amount"])) == ("-1", 99_990.0, 0.5)
    (quote,) = rows(tmp_path, "quotes")
    assert (quote["kind"], quote["n_bids"], quote["bids"], quote["asks"], quote["latency_ns"]) == \
        ("set", "2", "99990@0.01|99980@0.01", "100010@0.01", "1500")
    assert [r["event"] for r in rows(tmp_path, "orders")] == ["ack", "fill"]
    (fill,) = rows(tmp_path, "fills")
    assert (fill["trade_id"], float(fill["fee"]), float(fill["position"])) == (f"{5:032X}", 0.1, 0.01)
    (latency,) = rows(tmp_path, "latency")
    assert (latency["count"], latency["p50_ns"]) == ("1", "1500")


def test_pnl_and_process_health_are_sampled_from_shared_memory(segs, recorder, tmp_path):
    segs["state"].set("realised", 12.5)
    segs["state"].table["position"][0][0] = -0.03
    slot = segs["counters"].register(2, "risk")
    slot.set_state(STATE_RUNNING)
    slot.set("malformed", 3)
    slot.set("duplicates", 9)
    recorder.do_work()
    recorder.on_close()
    (pnl,) = rows(tmp_path, "pnl")
    assert (pnl["state"], float(pnl["realised"]), float(pnl["position"])) == ("ACTIVE", 12.5, -0.03)
    (health,) = [r for r in rows(tmp_path, "counters") if r["process"] == "risk"]
    assert (health["state"], health["malformed"], health["duplicates"]) == ("running", "3", "9")
    assert {r["side"] for r in rows(tmp_path, "markout")} == {"buys", "sells"}


def test_a_restarted_recorder_appends_to_the_files_of_its_run(segs, instance, recorder, tmp_path):
    segs["md"].write(ticker())
    recorder.do_work()
    recorder.on_close()
    again = Recorder(instance, tmp_path, flush_interval_s=60.0, n_instruments=1)
    again.on_start()
    segs["md"].write(ticker(mark=MARK + 1))
    again.do_work()
    again.on_close()
    assert [float(r["mark"]) for r in rows(tmp_path, "md")] == [MARK, MARK + 1]


def test_rows_reach_the_files_every_flush_interval_without_closing(segs, instance, tmp_path):
    rec = Recorder(instance, tmp_path, flush_interval_s=0.0, n_instruments=1)
    rec.on_start()
    try:
        segs["md"].write(ticker())
        rec.do_work()
        assert len(rows(tmp_path, "md")) == 1
    finally:
        rec.on_close()
