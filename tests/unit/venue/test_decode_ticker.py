"""decode_ticker: a Thalex ticker into one MD record, field by field; bad tickers write nothing."""
import math

import numpy as np
import orjson
import pytest

from venue import reasons as R
from venue.decode.market import decode_ticker, decode_ticker_reason
from shm.records import MD_DTYPE, MD_FLAG_NO_ASK, MD_FLAG_NO_BID, MD_TICKER, empty

from bench._thalex_frames import ticker_frame, ticker_payload


@pytest.fixture
def out():
    return empty(MD_DTYPE)


def test_a_good_ticker_fills_every_md_field(out):
    assert decode_ticker(ticker_payload(), 7, out, receive_ts_ns=123456789)
    r = out[0]
    assert r["type"] == MD_TICKER and r["flags"] == 0 and r["instrument_id"] == 7
    assert r["receive_ts_ns"] == 123456789
    assert abs(int(r["exchange_ts_ns"]) - 1702583649_379417000) < 1000  # seconds -> ns
    assert (r["best_bid_price"], r["best_bid_amount"]) == (65000.0, 1.234)
    assert (r["best_ask_price"], r["best_ask_amount"]) == (65001.0, 0.8)
    assert r["mark_price"] == 65000.71234 and r["index_price"] == 64990.12
    assert r["last_price"] == 65000.5 and math.isnan(r["last_amount"])
    assert r["funding_rate"] == 0.0001 and r["publish_ts_ns"] == 0


@pytest.mark.parametrize("source", ["dict", "payload bytes", "frame bytes"])
def test_a_ticker_decodes_from_a_dict_its_bytes_or_the_whole_frame(out, source):
    payload = ticker_payload()
    given = {"dict": payload, "payload bytes": orjson.dumps(payload), "frame bytes": ticker_frame()}[source]
    assert decode_ticker(given, 1, out, 5)
    assert out[0]["mark_price"] == payload["mark_price"]


def test_integer_prices_are_accepted(out):
    assert decode_ticker(ticker_payload(best_bid_price=65000, best_ask_price=65001), 1, out, 0)
    assert out[0]["best_ask_price"] == 65001.0


@pytest.mark.parametrize("side, flag", [("bid", MD_FLAG_NO_BID), ("ask", MD_FLAG_NO_ASK)])
def test_an_empty_side_is_nan_with_zero_amount_and_a_flag(out, side, flag):
    assert decode_ticker(ticker_payload(**{f"best_{side}_price": None, f"best_{side}_amount": None}), 1, out, 0)
    assert out[0]["flags"] == flag
    assert math.isnan(out[0][f"best_{side}_price"]) and out[0][f"best_{side}_amount"] == 0.0


def test_absent_optional_fields_are_nan(out):
    assert decode_ticker(ticker_payload(funding_rate=..., last_price=...), 1, out, 0)
    assert math.isnan(out[0]["funding_rate"]) and math.isnan(out[0]["last_price"])


def test_a_negative_funding_rate_is_a_value_not_an_error(out):
    assert decode_ticker(ticker_payload(funding_rate=-0.0003), 1, out, 0)
    assert out[0]["funding_rate"] == -0.0003


BAD = [
    ("nan mark", dict(mark_price=float("nan")), R.BAD_PRICE),
    ("nan bid", dict(best_bid_price=float("nan")), R.BAD_PRICE),
    ("inf ask", dict(best_ask_price=float("inf")), R.BAD_PRICE),
    ("negative bid", dict(best_bid_price=-1.0), R.BAD_PRICE),
    ("zero ask", dict(best_ask_price=0.0), R.BAD_PRICE),
    ("zero index", dict(index=0), R.BAD_PRICE),
    ("negative last", dict(last_price=-5.0), R.BAD_PRICE),
    ("negative amount", dict(best_bid_amount=-1.0), R.BAD_AMOUNT),
    ("nan amount", dict(best_ask_amount=float("nan")), R.BAD_AMOUNT),
    ("crossed", dict(best_bid_price=65002.0), R.CROSSED_BOOK),
    ("locked", dict(best_bid_price=65001.0), R.CROSSED_BOOK),
    ("missing mark", dict(mark_price=...), R.MISSING_FIELD),
    ("null index", dict(index=None), R.MISSING_FIELD),
    ("missing timestamp", dict(mark_timestamp=...), R.MISSING_FIELD),
    ("bid without amount", dict(best_bid_amount=...), R.MISSING_FIELD),
    ("string price", dict(mark_price="65000"), R.BAD_TYPE),
    ("bool price", dict(best_ask_price=True), R.BAD_TYPE),
    ("list amount", dict(best_bid_amount=[1]), R.BAD_TYPE),
    ("timestamp in ms", dict(mark_timestamp=1702583649379.0), R.BAD_VALUE),
    ("nan funding", dict(funding_rate=float("nan")), R.BAD_VALUE),
]


@pytest.mark.parametrize("name, overrides, reason", BAD, ids=[b[0] for b in BAD])
def test_a_bad_ticker_is_rejected_with_its_reason_and_writes_nothing(out, name, overrides, reason):
    out[0]["mark_price"] = 1.5
    before = out.tobytes()
    assert decode_ticker_reason(ticker_payload(**overrides), 1, out, 0) == reason
    assert not decode_ticker(ticker_payload(**overrides), 1, out, 0)
    assert out.tobytes() == before


@pytest.mark.parametrize("payload, reason", [
    (b"{not json", R.BAD_JSON), (b'{"mark_price": NaN}', R.BAD_JSON), ([1, 2], R.BAD_TYPE),
    ("null", R.BAD_TYPE), ({}, R.MISSING_FIELD),
])
def test_garbage_payloads_are_rejected_not_raised(out, payload, reason):
    assert decode_ticker_reason(payload, 1, out, 0) == reason


def test_the_output_must_be_a_writable_md_array():
    with pytest.raises(TypeError, match="numpy array"):
        decode_ticker(ticker_payload(), 1, np.zeros(1, np.float64), 0)
    with pytest.raises(TypeError):
        decode_ticker(ticker_payload(), 1, empty(MD_DTYPE)[0], 0)  # a numpy.void is read-only here
