"""Our decoders over the spec's own examples (copied into tests/sim/fixtures/thalex_spec_subset.json
by make_spec_subset.py): each example is decoded, or refused with a named reason where the spec's
example itself leaves out a field the spec calls required; no decoder raises on any of them."""
from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from shm.records import (EXEC_ACK, EXEC_CANCEL, EXEC_DTYPE, EXEC_TRADE, MD_DTYPE, MD_TICKER,
                         TRADE_DTYPE)
from venue import reasons as R
from venue.client import ThalexClient
from venue.decode.account import mass_quote_errors, portfolio_positions, trade_report_into
from venue.decode.frame import FrameDecoder
from venue.decode.market import BookState, book_into, index_into, ticker_into, trades_into
from venue.errors import ThalexError

from conftest import scripted_server

FIXTURE = Path(__file__).resolve().parents[2] / "sim" / "fixtures" / "thalex_spec_subset.json"
EXAMPLES = {name: entry["value"] for name, entry in json.loads(FIXTURE.read_text())["examples"].items()}
BTC = "BTC-PERPETUAL"


def example(name):
    return json.loads(json.dumps(EXAMPLES[name]))


def md():
    return np.zeros(1, MD_DTYPE)


def test_the_ticker_example_lacks_the_required_index_and_is_refused_for_it():
    assert ticker_into(example("ticker"), 1, md(), 5) == -R.MISSING_FIELD
    t = example("ticker")
    t["index"] = 47200.0                   # the one required field the example leaves out
    out = md()
    assert ticker_into(t, 1, out, 5) == 1
    rec = out[0]
    assert rec["type"] == MD_TICKER and (rec["best_bid_price"], rec["best_ask_price"]) == (47240, 47260)
    assert rec["mark_price"] == 47238.64 and rec["exchange_ts_ns"] == 946684800 * 10**9
    assert math.isnan(rec["last_price"]) and math.isnan(rec["funding_rate"])


def test_the_index_example_decodes():
    out = md()
    assert index_into(example("index"), 2, out, 5) == 1
    assert out[0]["index_price"] == pytest.approx(47389.10833333334)


def test_the_book_example_decodes_as_a_snapshot_and_is_refused_as_a_first_delta():
    book, trades = BookState(), np.zeros(8, TRADE_DTYPE)
    assert book_into(example("book_notification"), 1, book, False, md(), trades, 5) == -R.NO_SNAPSHOT
    out = md()
    assert book_into(example("book_notification"), 1, book, True, out, trades, 5) == 2
    assert book.bids == {9121: 54} and book.asks == {}      # amount 0 removed 9120.5
    assert list(trades["price"][:2]) == [9120.5, 9121] and list(trades["side"][:2]) == [1, 1]
    assert out[0]["best_bid_price"] == 9121 and math.isnan(out[0]["best_ask_price"])


def test_the_book_example_as_a_whole_frame_through_the_frame_decoder():
    channel = f"book.{BTC}.none.all.1000ms"
    d = FrameDecoder(md(), instrument_ids={BTC: 0})
    d.add(channel, 0)
    frame = json.dumps({"channel_name": channel, "notification": example("book_notification"),
                        "snapshot": True})
    assert d.decode(frame, 5) == R.OK and d.count == 2


def test_the_recent_trade_example_decodes_for_its_instrument_and_is_skipped_for_others():
    out = np.zeros(4, TRADE_DTYPE)
    row = example("recent_trade_item")
    assert trades_into([row], 4, out, 5, instrument_ids={row[4]: 4}) == 1
    assert (out[0]["price"], out[0]["amount"], out[0]["side"]) == (400, 1, 1)
    assert trades_into([row], 4, out, 5, instrument_ids={BTC: 0}) == 0


def test_the_order_status_examples_decode_into_an_ack_and_a_cancel():
    d = FrameDecoder(md(), exec_out=np.zeros(8, EXEC_DTYPE), instrument_ids={BTC: 3})
    d.add("session.orders", 0)
    frame = json.dumps({"channel_name": "session.orders",
                        "notification": [example("order_status"), example("cancel_result")]})
    assert d.decode(frame, 5) == R.OK
    events = d.exec_out[:d.count]
    assert list(events["type"]) == [EXEC_ACK, EXEC_CANCEL]
    assert list(events["instrument_id"]) == [3, 3] and events[0]["price"] == 45000
    assert events[0]["exchange_ts_ns"] == 0        # the example has no create_time: unknown


def test_the_portfolio_example_gives_the_position():
    assert portfolio_positions([example("portfolio_entry")], [BTC]) == {BTC: 1.0}


def test_the_trade_examples_decode_and_a_missing_fee_stays_unknown():
    out = np.zeros(1, EXEC_DTYPE)
    assert trade_report_into(example("trade"), {BTC: 0}, out, 5) == 1
    assert out[0]["type"] == EXEC_TRADE and out[0]["fee"] == 1.18 and out[0]["liquidity"] == 0
    for t in example("trade_history_result")["trades"]:     # neither fee nor maker_taker
        assert trade_report_into(t, {BTC: 0}, out, 5) == 1
        assert math.isnan(out[0]["fee"]) and out[0]["position"] == t["position_after"]


def test_the_mass_quote_result_example_has_no_errors():
    assert mass_quote_errors(example("mass_quote_result")) == []


def test_the_error_example_becomes_a_thalex_error_with_its_code():
    def script(conn):
        req = json.loads(conn.recv())
        conn.send(json.dumps({"id": req["id"], "error": example("error_object")}))
        conn.recv()

    with scripted_server(script) as url, ThalexClient(url) as c:
        with pytest.raises(ThalexError) as err:
            c.call("private/withdraw")
    assert err.value.code == 27 and "insufficient funds" in err.value.message


DECODERS = {
    "ticker": lambda v: ticker_into(v, 0, md(), 1),
    "index": lambda v: index_into(v, 0, md(), 1),
    "book": lambda v: book_into(v, 0, BookState(), True, md(), np.zeros(4, TRADE_DTYPE), 1),
    "trades": lambda v: trades_into(v, 0, np.zeros(4, TRADE_DTYPE), 1),
    "trade_report": lambda v: trade_report_into(v, {BTC: 0}, np.zeros(1, EXEC_DTYPE), 1),
    "orders": lambda v: FrameDecoder(md(), instrument_ids={BTC: 0}).decode(
        json.dumps({"channel_name": "session.orders", "notification": v}), 1),
}


@pytest.mark.parametrize("decoder", sorted(DECODERS))
@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_no_decoder_raises_on_any_spec_example_even_the_wrong_kind(decoder, name):
    for value in (example(name), [example(name)]):
        assert isinstance(DECODERS[decoder](value), int)
    for reader in (portfolio_positions, mass_quote_errors):
        try:
            reader(example(name), [BTC]) if reader is portfolio_positions else reader(example(name))
        except ValueError:
            pass                           # refused with a message: allowed; anything else is not
