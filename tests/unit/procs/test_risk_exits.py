"""Risk's exits as records for the gateway: take-profit resting at the entry + distance and resized
with the position, stop-loss once per position when the mark crosses, flatten of every position."""
import pytest

from procs.risk.exits import Exits
from procs.risk.position import PositionBook
from shm import records as R

from agent_kit import BTC


@pytest.fixture
def sent():
    return []


def exits(sent, tp=0.0, sl=0.0):
    return Exits([BTC], tp, sl, lambda iid, q, key: sent.append((key, q.copy())))


def long_book(amount=0.02, price=100_000.4) -> PositionBook:
    book = PositionBook(1)
    book.fill(0, 1, price, amount, 0.0, trade_id=1)
    return book


def test_a_long_position_rests_a_take_profit_sell_above_the_entry_rounded_away_from_it(sent):
    ex = exits(sent, tp=25.0)
    ex.update(long_book(), [100_000.0], halted=False)
    ((key, q),) = sent
    assert key == ("tp", 0) and q["type"][0] == R.QUOTE_TP
    assert (q["n_asks"][0], q["n_bids"][0]) == (1, 0)
    assert q["ask_price"][0][0] == 100_026.0 and q["ask_amount"][0][0] == pytest.approx(0.02)


def test_the_take_profit_is_sent_again_only_when_the_position_changes_and_emptied_when_flat(sent):
    ex = exits(sent, tp=25.0)
    book = long_book()
    ex.update(book, [100_000.0], halted=False)
    ex.update(book, [100_010.0], halted=False)
    assert len(sent) == 1
    book.fill(0, 1, 100_000.4, 0.01, 0.0, trade_id=2)
    ex.update(book, [100_000.0], halted=False)
    assert len(sent) == 2 and sent[1][1]["ask_amount"][0][0] == pytest.approx(0.03)
    book.fill(0, -1, 100_000.0, 0.03, 0.0, trade_id=3)
    ex.update(book, [100_000.0], halted=False)
    assert len(sent) == 3 and sent[2][1]["n_asks"][0] == 0 and sent[2][1]["n_bids"][0] == 0


def test_halted_cancels_the_take_profit(sent):
    ex = exits(sent, tp=25.0)
    book = long_book()
    ex.update(book, [100_000.0], halted=False)
    ex.update(book, [100_000.0], halted=True)
    assert sent[-1][1]["n_asks"][0] == 0


def test_a_short_position_rests_a_take_profit_buy_below_the_entry(sent):
    ex = exits(sent, tp=25.0)
    book = PositionBook(1)
    book.fill(0, -1, 100_000.4, 0.02, 0.0, trade_id=1)
    ex.update(book, [100_000.0], halted=False)
    q = sent[0][1]
    assert (q["n_bids"][0], q["bid_price"][0][0]) == (1, 99_975.0)


def test_the_stop_loss_closes_the_position_once_when_the_mark_crosses(sent):
    ex = exits(sent, sl=50.0)
    book = long_book(price=100_000.0)
    ex.update(book, [99_951.0], halted=False)
    assert sent == []
    ex.update(book, [99_950.0], halted=False)
    ex.update(book, [99_900.0], halted=False)
    ((key, q),) = sent
    assert key == ("flatten", 0) and q["type"][0] == R.QUOTE_FLATTEN
    assert (q["n_asks"][0], q["ask_amount"][0][0], q["inventory"][0], q["mid"][0]) == (1, 0.02, 0.02, 99_950.0)


def test_flatten_closes_every_position_of_at_least_min_amount(sent):
    ex = exits(sent)
    book = PositionBook(1)
    book.fill(0, -1, 100_000.0, 0.0004, 0.0, trade_id=1)
    ex.flatten(book, [100_000.0])
    assert sent == []                                   # below min_amount: nothing to send
    book.fill(0, -1, 100_000.0, 0.0106, 0.0, trade_id=2)
    ex.flatten(book, [100_000.0])
    ((key, q),) = sent
    assert key == ("flatten", 0) and (q["n_bids"][0], q["n_asks"][0]) == (1, 0)
    assert q["bid_amount"][0][0] == pytest.approx(0.011)


def test_exits_are_off_when_both_distances_are_zero(sent):
    assert not exits(sent).enabled and exits(sent, tp=1.0).enabled and exits(sent, sl=1.0).enabled
