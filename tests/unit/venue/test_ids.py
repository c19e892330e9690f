"""Thalex ids are exact numbers in our records and come back as the exchange's own text."""
import pytest

from shm.records import split_trade_id
from venue import ids

SPEC_ORDER_IDS = ["001F39C500000000", "00011E570000004A", "001BF14D00000003"]    # the spec's examples
SPEC_TRADE_IDS = ["0080000000000000169F22D05B785A2B", "0080000000000000169F20CE441AD986",
                  "008000000000000017A0CACBF5A3BF38"]


@pytest.mark.parametrize("text", SPEC_ORDER_IDS + ["FFFFFFFFFFFFFFFF", "8000000000000000"])
def test_an_order_id_round_trips_exactly_through_its_u64(text):
    number = ids.order_id(text)
    assert 0 < number <= ids.MAX_U64
    assert ids.order_id_hex(number) == text


@pytest.mark.parametrize("text", SPEC_TRADE_IDS + ["F" * 32, "8" + "0" * 31, "0" * 31 + "1"])
def test_a_trade_id_round_trips_exactly_through_its_two_u64_halves(text):
    hi, lo = split_trade_id(ids.trade_id(text))
    assert 0 <= hi <= ids.MAX_U64 and 0 <= lo <= ids.MAX_U64
    assert ids.trade_id_hex((hi << 64) | lo) == text


def test_lower_case_and_short_ids_read_as_hex_with_leading_zeros():
    assert ids.order_id("001f39c500000000") == ids.order_id("001F39C500000000")
    assert ids.order_id("4A") == 0x4A and ids.order_id_hex(0x4A) == "000000000000004A"
    assert ids.trade_id("5000000001") == 0x5000000001   # an old decimal-looking id stays exact


@pytest.mark.parametrize("parse, value, error, words", [
    (ids.order_id, "", ValueError, "order_id='': expected 1 to 16 hex digits"),
    (ids.order_id, "0" * 17, ValueError, "expected 1 to 16 hex digits"),
    (ids.order_id, "0x1F", ValueError, "hex digits"),
    (ids.order_id, "-1F", ValueError, "hex digits"),
    (ids.order_id, "1_F", ValueError, "hex digits"),     # int(..., 16) alone would take it
    (ids.order_id, " 1F", ValueError, "hex digits"),
    (ids.order_id, "0000000000000000", ValueError, "0 is no id"),
    (ids.order_id, 42, TypeError, "order_id=42: expected a string of 16 hex digits"),
    (ids.trade_id, "G" * 32, ValueError, "expected 1 to 32 hex digits"),
    (ids.trade_id, "1" * 33, ValueError, "expected 1 to 32 hex digits"),
    (ids.trade_id, None, TypeError, "trade_id=None"),
    (ids.client_order_id, -1, ValueError, "client_order_id=-1: expected 0..2**64-1"),
    (ids.client_order_id, 1 << 64, ValueError, "expected 0..2**64-1"),
    (ids.client_order_id, True, TypeError, "expected an integer"),
    (ids.client_order_id, "abc", TypeError, "expected an integer"),
])
def test_an_id_of_another_form_is_refused_with_a_message_naming_it(parse, value, error, words):
    with pytest.raises(error, match=words.replace("*", "\\*").replace("(", "\\(")):
        parse(value)


def test_client_order_ids_are_our_numbers_and_their_decimal_strings():
    assert ids.client_order_id(101) == ids.client_order_id("101") == 101
    assert ids.client_order_id(ids.MAX_U64) == ids.MAX_U64


def test_no_id_writes_as_an_empty_field():
    assert ids.order_id_hex(0) == "" and ids.trade_id_hex(0) == ""
