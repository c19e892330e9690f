"""FIFO positions and P&L: known answers, duplicates, fee corrections, funding, reconciliation,
and the property that total P&L is the cash flow of the fills plus the marked inventory."""
import pytest
from hypothesis import given, settings, strategies as st

from procs.risk.position import PositionBook


def test_a_sell_consumes_the_oldest_lot_first():
    b = PositionBook(1)
    b.fill(0, 1, 100.0, 1.0, 0.0, trade_id=1)
    b.fill(0, 1, 110.0, 1.0, 0.0, trade_id=2)
    b.fill(0, -1, 120.0, 1.0, 0.0, trade_id=3)
    assert b.realised == pytest.approx(20.0)          # FIFO: against 100, not the 105 average
    assert list(map(list, b.lots[0])) == [[110.0, 1.0]] and b.average(0) == 110.0


def test_partial_fills_split_a_lot():
    b = PositionBook(1)
    b.fill(0, -1, 200.0, 0.5, 0.0)
    b.fill(0, 1, 190.0, 0.2, 0.0)
    b.fill(0, 1, 195.0, 0.1, 0.0)
    assert b.realised == pytest.approx(0.2 * 10 + 0.1 * 5)
    assert b.position[0] == pytest.approx(-0.2) and b.lots[0][0][0] == 200.0


def test_a_fill_through_zero_realises_then_opens_at_the_fill_price():
    b = PositionBook(1)
    b.fill(0, -1, 100.0, 1.0, 0.0)
    b.fill(0, 1, 90.0, 3.0, 0.0)
    assert b.realised == pytest.approx(10.0)
    assert b.position[0] == 2.0 and b.average(0) == 90.0


def test_fees_add_up_and_the_exchange_fee_replaces_the_estimate():
    b = PositionBook(1)
    b.fill(0, 1, 100.0, 1.0, 0.05, trade_id=7)
    b.fill(0, -1, 101.0, 1.0, 0.05, trade_id=8)
    assert b.fees == pytest.approx(0.10)
    assert b.correct_fee(7, 1, -0.01) == pytest.approx(-0.06)  # a maker rebate
    assert b.fees == pytest.approx(0.04)
    assert b.correct_fee(999, 1, 1.0) == 0.0                   # unknown trade: nothing changes
    assert b.correct_fee(7, -1, 1.0) == 0.0                    # nor the side we did not trade


def test_a_repeated_trade_is_booked_once():
    b = PositionBook(1)
    assert b.fill(0, 1, 100.0, 1.0, 0.0, trade_id=42)
    assert not b.fill(0, 1, 100.0, 1.0, 0.0, trade_id=42)
    assert b.position[0] == 1.0 and b.fills == 1 and b.duplicates == 1


def test_both_fills_of_a_self_trade_are_booked_though_they_share_the_trade_id():
    b = PositionBook(1)   # our bid hit by our own sell: the exchange reports one trade id twice
    assert b.fill(0, 1, 100.0, 1.0, 0.01, trade_id=42)
    assert b.fill(0, -1, 100.0, 1.0, 0.05, trade_id=42)
    assert b.position[0] == 0.0 and b.fills == 2 and b.fees == pytest.approx(0.06)
    assert not b.fill(0, -1, 100.0, 1.0, 0.05, trade_id=42)     # each side still only once
    assert b.seen(42, 1) and b.seen(42, -1) and b.duplicates == 1
    back = PositionBook.from_dict(b.to_dict(), 1)              # and after a restart
    assert back.seen(42, 1) and back.seen(42, -1) and not back.seen(43, 1)


def test_funding_longs_pay_a_positive_rate():
    b = PositionBook(1)
    b.fill(0, 1, 100_000.0, 0.5, 0.0)
    b.accrue_funding(0, 0.0001, 100_000.0, 3600.0)             # 1 bp a day, one hour
    assert b.funding == pytest.approx(-0.5 * 0.0001 * 100_000 / 24)


def test_reconciliation_takes_the_exchange_position_at_the_mark():
    b = PositionBook(1)
    b.fill(0, 1, 100.0, 1.0, 0.0)
    assert b.reconcile(0, 1.5, 104.0) == pytest.approx(0.5)
    assert b.position[0] == 1.5 and list(map(list, b.lots[0])) == [[100.0, 1.0], [104.0, 0.5]]
    equity_before = b.equity([104.0])
    b.reconcile(0, 0.0, 104.0)
    assert b.position[0] == 0.0 and b.equity([104.0]) == pytest.approx(equity_before)


def test_the_book_survives_a_round_trip_through_its_journal_form():
    b = PositionBook(2)
    b.fill(1, -1, 50.0, 2.0, 0.1, trade_id=5)
    b.accrue_funding(1, 0.001, 50.0, 86400.0)
    back = PositionBook.from_dict(b.to_dict(), 2)
    assert back.equity([0.0, 49.0]) == pytest.approx(b.equity([0.0, 49.0]))
    assert not back.fill(1, -1, 50.0, 2.0, 0.1, trade_id=5)    # it still knows trade 5


def test_a_nonsense_fill_is_refused():
    with pytest.raises(ValueError, match="side=0"):
        PositionBook(1).fill(0, 0, 100.0, 1.0, 0.0)


fills = st.lists(st.tuples(st.sampled_from([1, -1]), st.integers(90, 110), st.integers(1, 50),
                           st.integers(0, 30)), min_size=1, max_size=60)


@settings(max_examples=300, deadline=None)
@given(fills=fills, mark=st.integers(80, 120))
def test_total_pnl_is_cash_flow_plus_marked_inventory(fills, mark):
    b = PositionBook(1)
    cash = 0.0
    for side, price, lots, fee_bp in fills:
        amount = lots * 0.001
        fee = price * amount * fee_bp * 1e-5
        b.fill(0, side, float(price), amount, fee)
        cash += -side * price * amount - fee
    assert b.equity([float(mark)]) == pytest.approx(cash + b.position[0] * mark, abs=1e-9)
    assert b.position[0] == pytest.approx(sum(s * l * 0.001 for s, _, l, _ in fills), abs=1e-12)
