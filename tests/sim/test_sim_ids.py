"""The local exchange issues ids shaped like Thalex's: order ids of 16 hex digits, trade ids of 32.

Clients must treat them as the strings they are (a client that folded them into small numbers, or
read them as decimal, fails here as it would on Thalex)."""
from __future__ import annotations

import re
import time

import pytest

from sim.ids import IdMaker
from still_market import BEST_ASK, BTC
from venue import ids

pytestmark = pytest.mark.timeout(60)
ORDER_ID = re.compile(r"[0-9A-F]{16}")
TRADE_ID = re.compile(r"[0-9A-F]{32}")


def test_order_and_trade_ids_are_fixed_width_hex_and_never_repeat():
    maker = IdMaker()
    orders = [maker.order_id() for _ in range(1000)]
    trades = [maker.trade_id(1702583649.25) for _ in range(1000)]   # all in one instant
    assert all(ORDER_ID.fullmatch(o) for o in orders) and all(TRADE_ID.fullmatch(t) for t in trades)
    assert len(set(orders)) == len(set(trades)) == 1000
    assert orders[0] == "001F39C500000001" and trades[0] == "0080000000000000" + f"{int(1702583649.25 * 1e9):016X}"
    assert [ids.trade_id(t) for t in trades] == sorted(ids.trade_id(t) for t in trades)


def test_a_fill_carries_thalex_shaped_ids_in_the_order_the_trade_history_and_cancel_by_id(sim, trader):
    time.sleep(0.25)                              # let earlier tests' trades refill the ladder
    status = trader.result("private/insert", {"direction": "buy", "instrument_name": BTC,
                                              "amount": 0.01, "price": BEST_ASK + 10})
    assert ORDER_ID.fullmatch(status["order_id"]), status["order_id"]
    assert status["fills"] and all(TRADE_ID.fullmatch(f["trade_id"]) for f in status["fills"])
    [trade] = trader.result("private/trade_history")["trades"]
    assert trade["order_id"] == status["order_id"] and trade["trade_id"] == status["fills"][0]["trade_id"]
    assert ids.trade_id_hex(ids.trade_id(trade["trade_id"])) == trade["trade_id"]   # exact round trip
    resting = trader.result("private/insert", {"direction": "buy", "instrument_name": BTC,
                                               "amount": 0.01, "price": BEST_ASK - 500})
    assert ORDER_ID.fullmatch(resting["order_id"]) and resting["order_id"] != status["order_id"]
    cancelled = trader.result("private/cancel", {"order_id": resting["order_id"]})
    assert cancelled["status"] == "cancelled"
