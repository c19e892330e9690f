"""Average-price accounting: realised P&L on reductions, flips, fees, reconciliation."""
import pytest

from procs.risk.position import PositionBook


def test_buys_average_and_a_sell_realises_against_the_average():
    b = PositionBook(1)
    b.fill(0, 1, 100.0, 1.0, 0.01)
    b.fill(0, 1, 110.0, 1.0, 0.01)
    assert b.position[0] == 2.0 and b.average[0] == pytest.approx(105.0)
    b.fill(0, -1, 120.0, 1.0, 0.01)
    assert b.realised == pytest.approx(15.0) and b.position[0] == 1.0 and b.average[0] == 105.0
    assert b.fees == pytest.approx(0.03) and b.fills == 3


def test_a_fill_through_zero_realises_then_opens_at_the_fill_price():
    b = PositionBook(1)
    b.fill(0, -1, 100.0, 1.0, 0.0)
    b.fill(0, 1, 90.0, 3.0, 0.0)
    assert b.realised == pytest.approx(10.0)
    assert b.position[0] == 2.0 and b.average[0] == 90.0


def test_unrealised_uses_the_mark():
    b = PositionBook(2)
    b.fill(1, -1, 200.0, 0.5, 0.0)
    assert b.unrealised([0.0, 190.0]) == pytest.approx(5.0)


def test_reconciliation_adopts_the_exchange_position():
    b = PositionBook(1)
    b.fill(0, 1, 100.0, 1.0, 0.0)
    assert b.reconcile(0, 1.5, 101.0) == pytest.approx(0.5)
    assert b.position[0] == 1.5
    assert b.reconcile(0, 0.0, 101.0) == pytest.approx(-1.5) and b.average[0] == 0.0


def test_a_nonsense_fill_is_refused():
    with pytest.raises(ValueError, match="side=0"):
        PositionBook(1).fill(0, 0, 100.0, 1.0, 0.0)
