"""Trade reports, portfolio lines and mass-quote results: what the spec lets them leave out is
kept as "unknown", never as a made-up 0."""
from __future__ import annotations

import math

import numpy as np
import pytest

from shm.records import EXEC_DTYPE, EXEC_TRADE, LIQ_MAKER, trade_id_of
from venue import reasons as R
from venue.decode.account import (QuoteError, mass_quote_errors, portfolio_positions,
                                  trade_report_into)

IDS = {"BTC-PERPETUAL": 3}


def trade(**kw):
    t = {"trade_id": "9001", "order_id": "77", "instrument_name": "BTC-PERPETUAL",
         "direction": "sell", "price": 65000.0, "amount": 0.2, "time": 1630059868.25,
         "position_after": -0.2, "trade_type": "normal", "fee": 1.3, "maker_taker": "maker"}
    t.update(kw)
    return {k: v for k, v in t.items() if v is not None}


def decode(t):
    out = np.zeros(1, EXEC_DTYPE)
    return trade_report_into(t, IDS, out, 123), out[0]


def test_a_full_trade_report_becomes_an_exec_trade_record():
    n, rec = decode(trade())
    assert n == 1 and rec["type"] == EXEC_TRADE and rec["instrument_id"] == 3 and rec["side"] == -1
    assert (trade_id_of(rec), rec["order_id"]) == (0x9001, 0x77)
    assert (rec["price"], rec["amount"], rec["fee"], rec["position"]) == (65000.0, 0.2, 1.3, -0.2)
    assert rec["liquidity"] == LIQ_MAKER and rec["receive_ts_ns"] == 123
    assert rec["exchange_ts_ns"] == int(1630059868.25 * 1e9)


def test_a_report_without_fee_or_maker_taker_says_unknown_not_zero():
    n, rec = decode(trade(fee=None, maker_taker=None, position_after=None))
    assert n == 1 and math.isnan(rec["fee"]) and rec["liquidity"] == 0 and math.isnan(rec["position"])


@pytest.mark.parametrize("change,reason", [
    ({"instrument_name": "ETH-PERPETUAL"}, R.UNKNOWN_INSTRUMENT),
    ({"trade_type": "daily_mark"}, R.OTHER_TRADE_TYPE),
    ({"direction": "long"}, R.BAD_VALUE),
    ({"price": -1.0}, R.BAD_PRICE),
    ({"amount": 0}, R.BAD_AMOUNT),
    ({"fee": "1.3"}, R.BAD_TYPE),
    ({"maker_taker": "both"}, R.BAD_VALUE),
    ({"trade_id": None}, R.MISSING_FIELD),
    ({"trade_id": [1]}, R.BAD_TYPE),
    ({"time": -5}, R.BAD_TYPE),
])
def test_an_unusable_trade_report_is_refused_with_its_reason(change, reason):
    t = trade()
    t.update(change)
    if change.get("trade_id", 0) is None:
        del t["trade_id"]
    assert decode(t)[0] == -reason
    assert decode([t])[0] == -R.NOT_OBJECT


def test_portfolio_positions_cover_our_instruments_and_ignore_the_others():
    lines = [{"instrument_name": "ETH-PERPETUAL", "position": "junk"},
             {"instrument_name": "BTC-PERPETUAL", "position": -0.3, "mark_price": 1.0}]
    assert portfolio_positions(lines, ["BTC-PERPETUAL", "BTC-27DEC24"]) == {
        "BTC-PERPETUAL": -0.3, "BTC-27DEC24": 0.0}
    with pytest.raises(ValueError, match="position=None"):
        portfolio_positions([{"instrument_name": "BTC-PERPETUAL"}], ["BTC-PERPETUAL"])
    with pytest.raises(ValueError, match="expected a list"):
        portfolio_positions({"BTC-PERPETUAL": 1}, ["BTC-PERPETUAL"])


def test_mass_quote_errors_follow_the_spec_and_odd_items_are_kept_as_code_0():
    result = {"n_success": 1, "n_fail": 3, "errors": [
        {"code": 44, "message": "too big", "side": "bid", "price": 64000},
        {"code": 23.0, "message": "no protection"},
        "garbage"]}
    assert mass_quote_errors(result) == [QuoteError(44, "too big", "bid", 64000.0),
                                         QuoteError(23, "no protection"),
                                         QuoteError(0, "unreadable mass quote error item 'garbage'")]
    assert mass_quote_errors({"n_success": 4, "n_fail": 0, "errors": []}) == []
    for bad in (None, [], {"n_success": 1, "n_fail": 0}, {"n_fail": 0, "errors": []}):
        with pytest.raises(ValueError, match="mass_quote result"):
            mass_quote_errors(bad)
