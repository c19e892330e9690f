"""The recorder writes the exchange's ids as the exchange writes them, and each trade once."""
import csv

import numpy as np

from procs.recorder import Recorder
from report.load import load
from runtime import segments
from shm import records as R

ORDER = "001F39C50000004A"
TRADE = "0080000000000000169F22D05B785A2B"
SAME_LOW_HALF = "0081000000000000169F22D05B785A2B"


def trade_report(order_id: str, trade_id: str) -> np.ndarray:
    rec = np.zeros(1, R.EXEC_DTYPE)
    rec["type"], rec["side"], rec["liquidity"] = R.EXEC_TRADE, 1, R.LIQ_MAKER
    rec["order_id"] = int(order_id, 16)
    rec["trade_id_hi"], rec["trade_id_lo"] = R.split_trade_id(int(trade_id, 16))
    rec["price"], rec["amount"], rec["fee"], rec["position"] = 65000.0, 0.001, 0.0065, 0.001
    rec["receive_ts_ns"] = 1
    return rec


def test_fills_csv_holds_hex_ids_and_a_replayed_trade_once(instance, tmp_path):
    made = segments.create_all(instance)
    recorder = Recorder(instance, tmp_path)
    try:
        recorder.on_start()
        for order_id, trade_id in ((ORDER, TRADE), (ORDER, SAME_LOW_HALF), (ORDER, TRADE)):
            made["exec"].write(trade_report(order_id, trade_id))
        recorder.do_work()
        recorder.flush()
    finally:
        recorder.on_close()
        for seg in made.values():
            seg.close()
    with open(tmp_path / "fills.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert [(r["order_id"], r["trade_id"]) for r in rows] == [(ORDER, TRADE), (ORDER, SAME_LOW_HALF)]
    (tmp_path / "settings.json").write_text("{}")
    fills = load(tmp_path, progress=False).fills       # the report reads them back as text
    assert list(fills["trade_id"]) == [TRADE, SAME_LOW_HALF] and fills["price"][0] == 65000.0
