"""session.orders into exec events: acks, amends, fills (maker/taker), cancels; duplicates dropped."""
import math

import pytest

from bench._thalex_frames import frame
from venue import reasons as R
from venue.decode.frame import FrameDecoder
from venue.decode.orders import DELETE_REASONS, SeenFills
from venue.decode.frame import KIND_ORDERS
from shm.records import (EXEC_ACK, EXEC_AMEND, EXEC_CANCEL, EXEC_DTYPE, EXEC_FILL, LIQ_MAKER, LIQ_TAKER,
                         MD_DTYPE, empty, trade_id_of)

T0 = 1702583649.25
OID = "001F39C500000001"                      # Thalex's shapes: 16 and 32 hex digits
TID = "0080000000000000169F22D05B785A2B"


def order(**kw):
    o = {"order_id": OID, "order_type": "limit", "time_in_force": "good_till_cancelled",
         "instrument_name": "BTC-PERPETUAL", "direction": "buy", "price": 65000.0, "amount": 0.5,
         "filled_amount": 0.0, "remaining_amount": 0.5, "client_order_id": 101, "status": "open",
         "fills": [], "change_reason": "insert", "insert_reason": "client_request", "create_time": T0,
         "persistent": False}
    o.update(kw)
    return o


def fill(trade_id=TID, price=65000.0, amount=0.2, maker_taker="maker", time=T0 + 1):
    return {"trade_id": trade_id, "price": price, "amount": amount, "time": time,
            "maker_taker": maker_taker, "leg_index": 0}


@pytest.fixture
def dec():
    d = FrameDecoder(empty(MD_DTYPE), exec_out=empty(EXEC_DTYPE, 4), instrument_ids={"BTC-PERPETUAL": 7})
    assert d.add("session.orders", 0) == KIND_ORDERS
    return d


def events(d):
    return d.exec_out[:d.count]


def test_an_insert_is_an_ack_with_every_order_field(dec):
    assert dec.decode(frame("session.orders", [order()]), 55) == R.OK
    (e,) = events(dec)
    assert e["type"] == EXEC_ACK and e["side"] == 1 and e["instrument_id"] == 7
    assert e["client_order_id"] == 101 and e["order_id"] == 0x001F39C500000001
    assert (e["price"], e["amount"], e["remaining"]) == (65000.0, 0.5, 0.5)
    assert e["exchange_ts_ns"] == int(T0 * 1e9) and e["receive_ts_ns"] == 55
    assert math.isnan(e["position"]) and e["trade_id_hi"] == e["trade_id_lo"] == 0


def test_a_partial_fill_is_a_fill_event_with_liquidity_trade_id_and_remaining(dec):
    o = order(change_reason="fill", status="partially_filled", filled_amount=0.2, remaining_amount=0.3,
              fills=[fill()])
    assert dec.decode(frame("session.orders", [o]), 1) == R.OK
    (e,) = events(dec)
    assert e["type"] == EXEC_FILL and e["liquidity"] == LIQ_MAKER and trade_id_of(e) == int(TID, 16)
    assert (e["trade_id_hi"], e["trade_id_lo"]) == (0x0080000000000000, 0x169F22D05B785A2B)
    assert (e["price"], e["amount"], e["remaining"]) == (65000.0, 0.2, 0.3)
    assert e["exchange_ts_ns"] == int((T0 + 1) * 1e9)


def test_an_ioc_that_trades_and_dies_is_ack_then_fills_then_cancel(dec):
    o = order(direction="sell", time_in_force="immediate_or_cancel", status="cancelled_partially_filled",
              remaining_amount=0.0, fills=[fill("1", 64990.0, 0.1, "taker"), fill("2", 64980.0, 0.2, "taker")],
              delete_reason="immediate_cancel", close_time=T0 + 0.5)
    assert dec.decode(frame("session.orders", [o]), 1) == R.OK
    ev = events(dec)
    assert list(ev["type"]) == [EXEC_ACK, EXEC_FILL, EXEC_FILL, EXEC_CANCEL]
    assert list(ev["side"]) == [-1] * 4
    assert list(ev["liquidity"][1:3]) == [LIQ_TAKER, LIQ_TAKER]
    assert ev[3]["reason"] == DELETE_REASONS["immediate_cancel"]
    assert ev[3]["exchange_ts_ns"] == int((T0 + 0.5) * 1e9)
    assert list(ev["seq"]) == [0, 1, 2, 3]


def test_an_amend_and_a_cancel(dec):
    frames = [order(change_reason="amend", price=64999.0, amount=0.4, remaining_amount=0.4),
              order(change_reason="cancel", status="cancelled", delete_reason="client_cancel", close_time=T0 + 3)]
    assert dec.decode(frame("session.orders", frames), 1) == R.OK
    ev = events(dec)
    assert list(ev["type"]) == [EXEC_AMEND, EXEC_CANCEL]
    assert ev[0]["price"] == 64999.0 and ev[1]["reason"] == DELETE_REASONS["client_cancel"]


def test_a_duplicated_fill_is_dropped_and_counted(dec):
    o = order(change_reason="fill", status="partially_filled", remaining_amount=0.3, fills=[fill()])
    assert dec.decode(frame("session.orders", [o]), 1) == R.OK and dec.count == 1
    assert dec.decode(frame("session.orders", [o]), 2) == R.OK
    assert dec.count == 0 and dec.counts[R.DUPLICATE_FILL] == 1


def test_existing_orders_on_subscribe_are_acks_without_replaying_old_fills(dec):
    o = order(change_reason="existing", status="partially_filled", remaining_amount=0.3, fills=[fill()])
    assert dec.decode(frame("session.orders", [o]), 1, ) == R.OK
    assert list(events(dec)["type"]) == [EXEC_ACK]


def test_a_large_snapshot_grows_the_exec_buffer_instead_of_losing_events(dec):
    many = [order(order_id=f"{i + 1:016X}", client_order_id=i, change_reason="existing") for i in range(10)]
    assert dec.decode(frame("session.orders", many), 1) == R.OK
    assert dec.count == 10 and len(dec.exec_out) >= 10
    assert list(events(dec)["client_order_id"]) == list(range(10))


@pytest.mark.parametrize("bad, reason", [
    (dict(direction="up"), R.BAD_VALUE),
    (dict(instrument_name=None), R.BAD_TYPE),
    (dict(price=-5.0), R.BAD_PRICE),
    (dict(amount=-0.5), R.BAD_AMOUNT),
    (dict(remaining_amount="lots"), R.BAD_TYPE),
    (dict(order_id=None), R.BAD_TYPE),
    (dict(order_id=12), R.BAD_TYPE),                          # the spec says string
    (dict(order_id="001F39C5000000010"), R.BAD_VALUE),        # 17 digits
    (dict(order_id="0x1F39C5"), R.BAD_VALUE),
    (dict(order_id="0000000000000000"), R.BAD_VALUE),         # 0 is "no order"
    (dict(fills=[fill(trade_id=TID + "0")], change_reason="fill"), R.BAD_VALUE),   # 33 digits
    (dict(fills=[fill(trade_id="trade-7")], change_reason="fill"), R.BAD_VALUE),
    (dict(client_order_id="x1"), R.BAD_TYPE),
    (dict(fills=[fill(maker_taker="both")], change_reason="fill"), R.BAD_VALUE),
    (dict(fills=[fill(price=float("nan"))], change_reason="fill"), R.BAD_TYPE),  # NaN -> JSON null
    (dict(fills=[{"price": 1.0}], change_reason="fill"), R.MISSING_FIELD),
])
def test_a_malformed_order_rejects_the_whole_frame_and_remembers_no_fill(dec, bad, reason):
    good = order(change_reason="fill", status="partially_filled", remaining_amount=0.3, fills=[fill("77")])
    bad_item = order(**{"order_id": "0000000000000002", **bad})
    assert dec.decode(frame("session.orders", [good, bad_item]), 1) == reason
    assert dec.counts[reason] == 1
    # the good item's fill was not remembered: it is reported when the frame comes back corrected
    assert dec.decode(frame("session.orders", [good]), 2) == R.OK and dec.count == 1


def test_an_order_of_an_instrument_we_do_not_trade_is_skipped_and_counted_not_the_frame(dec):
    good = order(change_reason="fill", status="partially_filled", remaining_amount=0.3, fills=[fill("77")])
    foreign = order(order_id="2", instrument_name="DOGE-PERPETUAL", change_reason="fill",
                    status="partially_filled", remaining_amount=0.3, fills=[fill("78")])
    assert dec.decode(frame("session.orders", [foreign, good, foreign]), 1) == R.OK
    assert list(events(dec)["type"]) == [EXEC_FILL] and trade_id_of(events(dec)[0]) == 0x77
    assert dec.counts[R.UNKNOWN_INSTRUMENT] == 2


def test_a_combination_order_with_legs_is_skipped_and_counted_not_the_frame(dec):
    combo = order(order_id="3", time_in_force="immediate_or_cancel", status="cancelled",
                  remaining_amount=0.0, change_reason="cancel", delete_reason="immediate_cancel",
                  legs=[{"instrument_name": "BTC-PERPETUAL", "quantity": 1, "filled_amount": 0,
                         "remaining_amount": 0},
                        {"instrument_name": "BTC-27DEC24", "quantity": -1, "filled_amount": 0,
                         "remaining_amount": 0}])
    del combo["instrument_name"]
    assert dec.decode(frame("session.orders", [combo, order()]), 1) == R.OK
    assert list(events(dec)["type"]) == [EXEC_ACK]
    assert dec.counts[R.COMBINATION_ORDER] == 1 and dec.rejected() == {"combination_order": 1}


def test_missing_required_order_fields_are_named_missing(dec):
    o = order()
    del o["status"]
    assert dec.decode(frame("session.orders", [o]), 1) == R.MISSING_FIELD


def test_trade_ids_differing_only_in_one_half_are_two_fills(dec):
    """The old 32-bit fold (and a 64-bit one) would merge these; exact ids keep both."""
    same_lo = "0081" + TID[4:]
    same_hi = TID[:16] + "169F22D05B785A2C"
    o = order(change_reason="fill", status="partially_filled", remaining_amount=0.0,
              fills=[fill(TID), fill(same_lo), fill(same_hi)])
    assert dec.decode(frame("session.orders", [o]), 1) == R.OK
    assert sorted(trade_id_of(e) for e in events(dec)) == sorted(int(t, 16) for t in (TID, same_lo, same_hi))
    assert dec.counts[R.DUPLICATE_FILL] == 0


def test_a_short_or_lower_case_hex_id_is_the_same_number_with_leading_zeros(dec):
    o = order(order_id="1f39c5", change_reason="fill", status="partially_filled", remaining_amount=0.3,
              fills=[fill("5000000001")])   # the shape older local exchanges and old data used
    assert dec.decode(frame("session.orders", [o]), 1) == R.OK
    (e,) = events(dec)
    assert e["order_id"] == 0x1F39C5 and trade_id_of(e) == 0x5000000001


def test_the_duplicate_window_forgets_the_oldest_fill_first():
    seen = SeenFills(capacity=3)
    keys = [(int(TID, 16) + i, 1) for i in range(4)]
    assert all(seen.add(k) for k in keys)        # the fourth pushes the first out
    assert not seen.add(keys[1]) and not seen.add(keys[3])
    assert seen.add(keys[0])                     # forgotten, so new again (and keys[1] now out)
    assert seen.add(keys[1])
    assert not seen.add((int(TID, 16) + 3, 1)) and seen.add((int(TID, 16) + 3, 2))   # keyed by order too
