"""FrameDecoder: raw frame bytes -> records; every bad-input class is counted by reason, never raised."""
import logging
import math

import pytest
from hypothesis import given, settings, strategies as st

from bench._thalex_frames import TICKER_CHANNEL, frame, ticker_frame, ticker_payload
from venue import reasons as R
from venue.decode.frame import FrameDecoder
from venue.decode.frame import KIND_BOOK, KIND_INDEX, KIND_TICKER, KIND_TRADES
from shm.records import (MD_BOOK, MD_DTYPE, MD_FLAG_NO_ASK, MD_INDEX, TRADE_DTYPE, TRADE_PUBLIC, empty)

BOOK = "book.BTC-PERPETUAL.none.all.100ms"
TRADES = "recent_trades.BTCUSD.all"
INDEX = "price_index.BTCUSD"
T0 = 1702583649.5


@pytest.fixture
def dec():
    d = FrameDecoder(empty(MD_DTYPE), empty(TRADE_DTYPE, 4), instrument_ids={"BTC-PERPETUAL": 7, "ETH-PERPETUAL": 8})
    d.add(TICKER_CHANNEL, 7)
    d.add(BOOK, 7)
    d.add(TRADES, 0)
    d.add(INDEX, 100)
    return d


def test_a_ticker_frame_is_written_into_the_md_record_with_a_running_seq(dec):
    assert dec.decode(ticker_frame(), 42) == R.OK
    assert (dec.kind, dec.count) == (KIND_TICKER, 1)
    r = dec.md_out[0]
    assert r["instrument_id"] == 7 and r["receive_ts_ns"] == 42 and r["best_bid_price"] == 65000.0
    assert dec.decode(ticker_frame(), 43) == R.OK
    assert dec.md_out[0]["seq"] == 1 and dec.seq == 2
    assert dec.rejected() == {}


def test_channels_get_their_kind_from_the_prefix_and_unknown_prefixes_are_refused(dec):
    assert dec.add("ticker.ETH-PERPETUAL.raw", 8) == KIND_TICKER
    assert dec.add("book.ETH-PERPETUAL.none.10.raw", 8) == KIND_BOOK
    assert dec.add("recent_trades.ETH-PERPETUAL.single", 8) == KIND_TRADES
    assert dec.add("price_index.ETHUSD", 101) == KIND_INDEX
    with pytest.raises(ValueError, match="lwt.BTC"):
        dec.add("lwt.BTC-PERPETUAL.100ms", 7)


BAD_FRAMES = [
    ("bad json", b'{"channel_name": "ticker.BTC-PERPETUAL.100ms", "notif', R.BAD_JSON),
    ("NaN literal", ticker_frame().replace(b'"mark_price":65000.71234', b'"mark_price":NaN'), R.BAD_JSON),
    ("not utf-8", b'{"a": "\xff\xfe"}', R.BAD_JSON),
    ("empty frame", b"", R.BAD_JSON),
    ("a list", b"[1, 2, 3]", R.NOT_OBJECT),
    ("a number", b"12", R.NOT_OBJECT),
    ("a reply", b'{"id": 3, "result": {}}', R.NOT_NOTIFICATION),
    ("no payload", b'{"channel_name": "ticker.BTC-PERPETUAL.100ms"}', R.NOT_NOTIFICATION),
    ("unknown channel", frame("ticker.DOGE-PERPETUAL.100ms", ticker_payload()), R.UNKNOWN_CHANNEL),
    ("unhashable channel", b'{"channel_name": ["x"], "notification": {}}', R.UNKNOWN_CHANNEL),
    ("missing field", ticker_frame(index=...), R.MISSING_FIELD),
    ("negative price", ticker_frame(best_ask_price=-65001.0), R.BAD_PRICE),
    ("zero price", ticker_frame(mark_price=0), R.BAD_PRICE),
    ("crossed book", ticker_frame(best_bid_price=65100.0), R.CROSSED_BOOK),
    ("string price", ticker_frame(best_bid_price="65000"), R.BAD_TYPE),
    ("payload a list", frame(TICKER_CHANNEL, [1, 2]), R.BAD_TYPE),
]


@pytest.mark.parametrize("name, data, reason", BAD_FRAMES, ids=[b[0] for b in BAD_FRAMES])
def test_each_bad_frame_class_is_counted_with_its_reason_and_writes_nothing(dec, name, data, reason):
    dec.decode(ticker_frame(), 1)
    before = dec.md_out.tobytes()
    assert dec.decode(data, 2) == reason
    assert dec.counts[reason] == 1 and sum(dec.counts) == 1
    assert dec.rejected() == {R.REASON_NAMES[reason]: 1}
    assert dec.md_out.tobytes() == before and dec.seq == 1


def test_a_rejected_frame_is_logged_with_its_channel_and_reason(dec, caplog):
    with caplog.at_level(logging.WARNING, logger="venue.decode"):
        dec.decode(ticker_frame(best_bid_price=65100.0), 1)
    assert "crossed_book" in caplog.text and TICKER_CHANNEL in caplog.text


def test_a_flood_of_bad_frames_is_counted_in_full_but_logged_sparingly(dec, caplog):
    with caplog.at_level(logging.WARNING, logger="venue.decode"):
        for _ in range(2500):
            dec.decode(b"garbage", 1)
    assert dec.counts[R.BAD_JSON] == 2500
    assert len(caplog.records) < 20


@settings(max_examples=300, deadline=None)
@given(st.recursive(st.none() | st.booleans() | st.floats(allow_nan=False) | st.integers() | st.text(max_size=8),
                    lambda kids: st.lists(kids, max_size=4) | st.dictionaries(st.text(max_size=12), kids, max_size=5),
                    max_leaves=20))
def test_arbitrary_json_as_a_ticker_payload_never_raises(payload):
    d = FrameDecoder(empty(MD_DTYPE))
    d.add(TICKER_CHANNEL, 1)
    try:
        data = frame(TICKER_CHANNEL, payload)
    except TypeError:  # orjson refuses e.g. integers beyond 64 bits: nothing to decode
        return
    assert d.decode(data, 1) in range(R.N_REASONS)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=200))
def test_arbitrary_bytes_never_raise(data):
    d = FrameDecoder(empty(MD_DTYPE))
    d.add(TICKER_CHANNEL, 1)
    assert d.decode(data, 1) in range(R.N_REASONS)


# ---- book -----------------------------------------------------------------------------------
def book(bids=(), asks=(), trades=(), time=T0):
    return {"bid_changes": [list(b) for b in bids], "ask_changes": [list(a) for a in asks],
            "trades": [list(t) for t in trades], "total_bid_amount": 0, "total_ask_amount": 0, "time": time}


def test_a_book_snapshot_then_deltas_keep_the_top_of_book(dec):
    snap = frame(BOOK, book(bids=[(100.0, 1.0, 0), (99.0, 2.0, 0)], asks=[(101.0, 3.0, 0), (102.0, 1.0, 0)]),
                 snapshot=True)
    assert dec.decode(snap, 1) == R.OK
    r = dec.md_out[0]
    assert r["type"] == MD_BOOK and r["instrument_id"] == 7
    assert (r["best_bid_price"], r["best_bid_amount"], r["best_ask_price"], r["best_ask_amount"]) == (100.0, 1.0, 101.0, 3.0)
    assert r["exchange_ts_ns"] == int(T0 * 1e9) and math.isnan(r["mark_price"])
    # the best bid leaves, a better ask arrives
    assert dec.decode(frame(BOOK, book(bids=[(100.0, 0, 0)], asks=[(100.5, 0.5, 0)])), 2) == R.OK
    r = dec.md_out[0]
    assert (r["best_bid_price"], r["best_bid_amount"], r["best_ask_price"], r["best_ask_amount"]) == (99.0, 2.0, 100.5, 0.5)


def test_book_trades_become_trade_records_and_the_last_one_is_in_md(dec):
    dec.decode(frame(BOOK, book(bids=[(100.0, 1.0, 0)], asks=[(101.0, 1.0, 0)]), snapshot=True), 1)
    upd = book(trades=[(101.0, 0.25, "buy", T0 + 1, False), (100.0, 0.5, "sell", T0 + 2, False)])
    assert dec.decode(frame(BOOK, upd), 9) == R.OK
    assert dec.count == 2
    t = dec.trades_out
    assert list(t["type"][:2]) == [TRADE_PUBLIC] * 2 and list(t["side"][:2]) == [1, -1]
    assert list(t["price"][:2]) == [101.0, 100.0] and list(t["amount"][:2]) == [0.25, 0.5]
    assert t["exchange_ts_ns"][1] == int((T0 + 2) * 1e9) and t["instrument_id"][0] == 7
    assert dec.md_out[0]["last_price"] == 100.0 and dec.md_out[0]["last_amount"] == 0.5


def test_an_emptied_side_is_flagged(dec):
    dec.decode(frame(BOOK, book(bids=[(100.0, 1.0, 0)], asks=[(101.0, 1.0, 0)]), snapshot=True), 1)
    assert dec.decode(frame(BOOK, book(asks=[(101.0, 0.0, 0)])), 2) == R.OK
    assert dec.md_out[0]["flags"] == MD_FLAG_NO_ASK and math.isnan(dec.md_out[0]["best_ask_price"])


def test_a_book_delta_before_its_snapshot_is_rejected(dec):
    assert dec.decode(frame(BOOK, book(bids=[(100.0, 1.0, 0)])), 1) == R.NO_SNAPSHOT


@pytest.mark.parametrize("bad, reason", [
    (book(bids=[(float("inf"), 1.0, 0)]), R.BAD_TYPE),  # JSON has no inf: it arrives as null
    (book(bids=[(-100.0, 1.0, 0)]), R.BAD_PRICE),
    (book(asks=[(101.0, -1.0, 0)]), R.BAD_AMOUNT),
    (book(asks=[(101.0,)]), R.BAD_TYPE),
    (book(asks=[(99.5, 1.0, 0)]), R.CROSSED_BOOK),
    ({"bid_changes": []}, R.MISSING_FIELD),
])
def test_a_bad_book_update_is_rejected_and_leaves_the_book_intact(dec, bad, reason):
    dec.decode(frame(BOOK, book(bids=[(100.0, 1.0, 0)], asks=[(101.0, 1.0, 0)]), snapshot=True), 1)
    assert dec.decode(frame(BOOK, bad), 2) == reason
    if reason != R.CROSSED_BOOK:
        assert dec.decode(frame(BOOK, book(bids=[(99.0, 1.0, 0)])), 3) == R.OK
        assert dec.md_out[0]["best_bid_price"] == 100.0 and dec.md_out[0]["best_ask_price"] == 101.0


def test_a_new_snapshot_replaces_the_whole_book(dec):
    dec.decode(frame(BOOK, book(bids=[(100.0, 1.0, 0)], asks=[(101.0, 1.0, 0)]), snapshot=True), 1)
    dec.decode(frame(BOOK, book(bids=[(90.0, 1.0, 0)], asks=[(91.0, 2.0, 0)]), snapshot=True), 2)
    assert (dec.md_out[0]["best_bid_price"], dec.md_out[0]["best_ask_price"]) == (90.0, 91.0)


# ---- recent_trades, price_index ---------------------------------------------------------------
def test_recent_trades_of_an_underlying_map_names_to_ids_and_skip_others(dec):
    rows = [[65000.0, 0.1, "buy", T0, "BTC-PERPETUAL", False],
            [3000.0, 2.0, "sell", T0 + 1, "ETH-PERPETUAL", True],
            [1.0, 5.0, "sell", T0 + 2, "SOL-PERPETUAL", False]]
    assert dec.decode(frame(TRADES, rows), 5) == R.OK
    assert dec.count == 2
    assert list(dec.trades_out["instrument_id"][:2]) == [7, 8]
    assert list(dec.trades_out["side"][:2]) == [1, -1]


def test_more_trades_than_the_buffer_holds_are_truncated_and_counted(dec):
    rows = [[65000.0, 0.1, "buy", T0 + i, "BTC-PERPETUAL", False] for i in range(6)]
    assert dec.decode(frame(TRADES, rows), 5) == R.OK
    assert dec.count == 4 and dec.counts[R.TRUNCATED] == 1


@pytest.mark.parametrize("row, reason", [
    ([65000.0, 0.1, "hold", T0, "BTC-PERPETUAL", False], R.BAD_VALUE),
    ([-65000.0, 0.1, "buy", T0, "BTC-PERPETUAL", False], R.BAD_PRICE),
    ([65000.0, 0.0, "buy", T0, "BTC-PERPETUAL", False], R.BAD_AMOUNT),
    ([65000.0, 0.1, "buy"], R.BAD_TYPE),
    ([65000.0, 0.1, "buy", "yesterday", "BTC-PERPETUAL", False], R.BAD_TYPE),
])
def test_a_bad_trade_row_rejects_the_frame(dec, row, reason):
    assert dec.decode(frame(TRADES, [row]), 5) == reason


def test_an_index_frame_writes_an_md_index_record(dec):
    assert dec.decode(frame(INDEX, {"index_name": "BTCUSD", "price": 64990.5, "timestamp": T0}), 3) == R.OK
    r = dec.md_out[0]
    assert r["type"] == MD_INDEX and r["instrument_id"] == 100 and r["index_price"] == 64990.5
    assert dec.decode(frame(INDEX, {"index_name": "BTCUSD", "price": -1, "timestamp": T0}), 3) == R.BAD_PRICE
