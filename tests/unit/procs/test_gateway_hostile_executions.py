"""Executions are input: whatever a private frame holds, the gateway's Executions neither raises nor
publishes garbage. A frame it refuses is counted, logged once per reason and asks the session to
reconcile; frames of any size work; a broken protection notice trips nothing. Real rings, a real
decoder, the frames in the exchange's format."""
import logging

import orjson
import pytest

from bench._thalex_frames import frame
from shm import records as R

from agent_kit import BTC
from test_gateway_executions import Wiring, kinds


def an_order(**kw):
    o = {"order_id": "00000000000000A1", "order_type": "limit", "time_in_force": "good_till_cancelled",
         "instrument_name": BTC.name, "direction": "buy", "price": 99_990.0, "amount": 0.01,
         "filled_amount": 0.004, "remaining_amount": 0.006, "status": "partially_filled",
         "change_reason": "fill", "client_order_id": 10, "create_time": 1.7e9, "persistent": False,
         "fills": [{"trade_id": "91", "price": 99_990.0, "amount": 0.004, "time": 1.7e9,
                    "maker_taker": "maker", "leg_index": 0}]}
    o.update(kw)
    return o


def a_report(**kw):
    t = {"trade_type": "normal", "trade_id": "77", "order_id": "5", "instrument_name": BTC.name,
         "direction": "sell", "price": 100_000.0, "amount": 0.002, "time": 1.7e9, "fee": 0.1,
         "position_after": -0.002, "maker_taker": "taker"}
    t.update(kw)
    return t


@pytest.fixture
def wired(segs, instance):
    w = Wiring(segs, instance)
    w.asked = []
    w.executions.on_invalid = lambda: w.asked.append(1)
    yield w
    w.close()


def fill_of(**kw):
    return {**an_order()["fills"][0], **kw}


BAD_ORDER_FRAMES = {
    "notification an object": frame("session.orders", an_order()),
    "an item a list": frame("session.orders", [[an_order()]]),
    "a trade time of 1e300": frame("session.orders", [an_order(fills=[fill_of(time=1e300)])]),
    "a string amount": frame("session.orders", [an_order(amount="0.01")]),
    "a list instrument": frame("session.orders", [an_order(instrument_name=[BTC.name])]),
    "a list product": frame("session.orders", [an_order(instrument_name={"product": ["FBTCUSD"]})]),
    "a price of 1e300": frame("session.orders", [an_order(price=1e300)]),
    "a fill price of 1e300": frame("session.orders", [an_order(fills=[fill_of(price=1e300)])]),
    "a fill amount of 0": frame("session.orders", [an_order(fills=[fill_of(amount=0.0)])]),
    "a fill above the order": frame("session.orders", [an_order(fills=[fill_of(amount=0.5)])]),
    "more left than ordered": frame("session.orders", [an_order(remaining_amount=5.0)]),
    "an absurd amount": frame("session.orders", [an_order(amount=1e300, remaining_amount=1e300)]),
    "a trade id a number": frame("session.orders", [an_order(fills=[fill_of(trade_id=91)])]),
    "infinity in the text": b'{"channel_name": "session.orders", "notification": [{"amount": 1e999}]}',
    "torn JSON": b'{"channel_name": "session.orders", "notification": [{"order_id": "00',
}


@pytest.mark.parametrize("name", list(BAD_ORDER_FRAMES))
def test_a_session_orders_frame_that_cannot_be_read_is_refused_and_reconciled_never_raised(wired, caplog, name):
    with caplog.at_level(logging.ERROR, logger="gateway"):
        assert wired.executions.on_frame(BAD_ORDER_FRAMES[name]) is True
        assert wired.executions.on_frame(BAD_ORDER_FRAMES[name]) is True
    assert len(wired.records()) == 0 and wired.open_orders.live == {}
    assert wired.executions.invalid == 2 and len(wired.asked) == 2
    assert len([r for r in caplog.records if "execution refused" in r.getMessage()]) == 1   # once a reason


BAD_REPORTS = {
    "notification an object": frame("account.trade_history", a_report()),
    "a fee of 1e12": frame("account.trade_history", [a_report(fee=1e12)]),
    "an absurd rebate": frame("account.trade_history", [a_report(fee=-500.0)]),
    "a zero amount": frame("account.trade_history", [a_report(amount=0)]),
    "a string price": frame("account.trade_history", [a_report(price="100000")]),
    "a position of 1e300": frame("account.trade_history", [a_report(position_after=1e300)]),
    "a trade time of 1e300": frame("account.trade_history", [a_report(time=1e300)]),
    "infinity in the text": b'{"channel_name": "account.trade_history", "notification": [{"fee": 1e999}]}',
    "a list": b'["account.trade_history", "channel_name"]',
}


@pytest.mark.parametrize("name", list(BAD_REPORTS))
def test_a_trade_report_that_cannot_be_read_is_refused_and_reconciled(wired, name):
    assert wired.executions.on_frame(BAD_REPORTS[name]) is True
    assert len(wired.records()) == 0 and wired.executions.invalid == 1 and wired.asked == [1]


def test_a_good_report_beside_a_bad_one_is_published_and_the_bad_one_reconciled(wired):
    assert wired.executions.on_frame(frame("account.trade_history", [a_report(), a_report(fee=1e12)]))
    (t,) = wired.records()
    assert t["type"] == R.EXEC_TRADE and t["fee"] == 0.1 and wired.asked == [1]


@pytest.mark.parametrize("notice", [
    {"product": "FBTCUSD", "remaining_amount": 0.0, "reason": "executions"},      # an object, not a list
    [{"product": ["FBTCUSD"], "remaining_amount": 0.0, "reason": "executions"}],  # a list product
    [{"product": "FBTCUSD", "remaining_amount": "0", "reason": "executions"}],
    [["FBTCUSD", 0.0]],
    "tripped",
])
def test_a_protection_notice_that_cannot_be_read_trips_nothing_and_raises_nothing(wired, notice):
    assert wired.executions.on_frame(frame("session.mm_protection", notice)) is True
    assert not wired.mmp.due and len(wired.records()) == 0
    assert wired.executions.invalid_by_reason.get("mm_protection") == 1 and wired.asked == []


def test_a_frame_updating_hundreds_of_orders_with_fills_reaches_exec_whole(wired):
    orders = [an_order(order_id=f"{0x100 + i:016X}", client_order_id=3000 + i,
                       fills=[fill_of(trade_id=f"{0x500 + 2 * i:X}"), fill_of(trade_id=f"{0x501 + 2 * i:X}",
                                                                            amount=0.002)])
              for i in range(300)]
    assert wired.executions.on_frame(frame("session.orders", orders))
    got = wired.records()
    assert kinds(got) == [R.EXEC_FILL] * 600 and wired.executions.invalid == 0
    assert sorted({int(r["client_order_id"]) for r in got}) == list(range(3000, 3300))


def test_a_reply_mentioning_channel_name_is_still_the_clients(wired):
    reply = orjson.dumps({"id": 9, "result": {"channel_name": "session.orders"}})
    assert wired.executions.on_frame(reply) is False and wired.executions.invalid == 0


def test_a_channel_we_do_not_handle_is_ignored_not_reconciled(wired):
    assert wired.executions.on_frame(frame("account.portfolio", [{"position": 1e300}])) is True
    assert wired.executions.invalid == 0 and wired.asked == [] and len(wired.records()) == 0


def test_an_ack_delivered_again_after_its_cancel_does_not_bring_the_order_back(wired):
    ack = frame("session.orders", [an_order(change_reason="insert", status="open", filled_amount=0.0,
                                             remaining_amount=0.01, fills=[])])
    cancel = frame("session.orders", [an_order(change_reason="cancel", status="cancelled", filled_amount=0.0,
                                                remaining_amount=0.01, fills=[], delete_reason="client_cancel")])
    for f in (ack, cancel, ack):                   # the first ack again, late
        assert wired.executions.on_frame(f)
    assert wired.open_orders.live == {} and wired.open_orders.stale == 1
    assert wired.segs["state"].snapshot()["open_bid"][0] == 0.0 and wired.executions.invalid == 0
