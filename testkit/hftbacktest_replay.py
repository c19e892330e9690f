"""Replays one backtest run's order decisions through hftbacktest and prints its fills as JSON.

Runs inside .venv-hftbacktest (testkit/hftbacktest_env.py): numpy and hftbacktest only.

    python hftbacktest_replay.py EVENTS.npy ORDERS.csv PARAMS.json

EVENTS.npy: the market data in hftbacktest's event dtype (backtest.data.export_hftbacktest);
ORDERS.csv: the run's orders.csv, of which the insert / amend / cancel rows are sent, each at its
local time; PARAMS.json: tick, lot, entry_ns, response_ns, maker_fee, taker_fee, queue_model
("risk_averse", "power", "log_prob"), queue_power, partial_fills.

Each action is sent after hftbacktest has gone up to its local time (elapse: every event at or
before that time is processed first, as our core does before a quote step), post-only (GTX) for
inserts. Printed: {"fills": [[order_id, exch_ts, price, amount], ...], "refused": [[ts, event,
order_id, code], ...], "late": [...], "version": ...} ("late": actions once every event has been processed, which
hftbacktest's clock cannot reach and which cannot fill in either engine). The fills are read from hftbacktest's own order records at
the end (no partial fills: an order fills at most once; nothing is cleared, so all are there).
"""
import csv
import ctypes
import json
import sys

import numpy as np

import hftbacktest
from hftbacktest import BacktestAsset
from hftbacktest import binding as B
from hftbacktest._hftbacktest import build_hashmap_backtest
from hftbacktest.order import FILLED, GTX, LIMIT
from hftbacktest.types import order_dtype


def asset(data, p):
    a = BacktestAsset().data(data).linear_asset(1.0)
    a = a.constant_order_latency(int(p["entry_ns"]), int(p["response_ns"]))
    if p.get("queue_model", "risk_averse") == "risk_averse":
        a = a.risk_adverse_queue_model()
    elif p["queue_model"] == "power":
        a = a.power_prob_queue_model(float(p["queue_power"]))
    else:
        a = a.log_prob_queue_model()
    a = a.partial_fill_exchange() if p.get("partial_fills") else a.no_partial_fill_exchange()
    return (a.trading_value_fee_model(float(p["maker_fee"]), float(p["taker_fee"]))
            .tick_size(float(p["tick"])).lot_size(float(p["lot"])).last_trades_capacity(0))


def actions(path):
    with open(path, newline="") as f:
        for row in csv.DictReader(f):
            if row["event"] in ("insert", "amend", "cancel"):
                yield (int(row["time_ns"]), row["event"], int(row["side"]), int(row["client_order_id"]),
                       float(row["price"]), float(row["amount"]))


def read_order(ptr):
    raw = (ctypes.c_char * order_dtype.itemsize).from_address(ptr)
    return np.frombuffer(bytes(raw), order_dtype)[0]


def main(events_path, orders_path, params_path):
    p = json.load(open(params_path))
    data = np.load(events_path)
    a = asset(data, p)
    hbt = build_hashmap_backtest([a])
    refused, late, sent = [], [], []
    ended = B.hashmapbt_elapse(hbt, 0) == 1     # loads the data: the clock starts at the first event
    for ts, event, side, oid, price, amount in actions(orders_path):
        now = B.hashmapbt_current_timestamp(hbt)
        if not ended and ts > now:
            code = B.hashmapbt_elapse(hbt, ts - now)
            if code not in (0, 1):        # hftbacktest stopped on an error of its own
                refused.append([ts, "elapse", 0, int(code)])
                break
            ended = code == 1
        if ended:
            # every event has been processed (hftbacktest's clock stops with the last one): an
            # action from now on cannot fill in either engine
            late.append([ts, event, oid])
            continue
        if B.hashmapbt_current_timestamp(hbt) != ts:
            refused.append([ts, event, oid, "clock at %d" % B.hashmapbt_current_timestamp(hbt)])
        if event == "insert":
            submit = B.hashmapbt_submit_buy_order if side > 0 else B.hashmapbt_submit_sell_order
            code = submit(hbt, 0, oid, price, amount, GTX, LIMIT, False)
            sent.append(oid)
        elif event == "amend":
            code = B.hashmapbt_modify(hbt, 0, oid, price, amount, False)
        else:
            code = B.hashmapbt_cancel(hbt, 0, oid, False)
        if code != 0:
            refused.append([ts, event, oid, int(code)])
    B.hashmapbt_goto_end(hbt)
    orders = B.hashmapbt_orders(hbt, 0)
    fills = []
    for oid in sent:
        ptr = B.orders_get(orders, oid)
        if not ptr:
            continue
        o = read_order(ptr)
        if int(o["status"]) == FILLED:
            fills.append([oid, int(o["exch_timestamp"]), int(o["exec_price_tick"]) * float(o["tick_size"]),
                          float(o["exec_qty"])])
    print(json.dumps({"fills": fills, "refused": refused, "late": late, "version": hftbacktest.__version__,
                      "events": int(len(data))}))
    del data                              # hftbacktest read the array in place: keep it alive until here


if __name__ == "__main__":
    main(*sys.argv[1:4])
