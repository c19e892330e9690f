"""The risk journal keeps fill keys as exact 128-bit trade ids, and refuses an older journal."""
import json

import pytest

from procs.risk.journal import FORMAT, Journal, JournalFormatError
from procs.risk.position import PositionBook

TRADE = 0x0080000000000000169F22D05B785A2B
SAME_LOW_HALF = 0x0081000000000000169F22D05B785A2B


def saved_book(tmp_path, book: PositionBook) -> Journal:
    journal = Journal(tmp_path / "risk_book.json")
    journal.dirty = True
    journal.save(lambda: {"book": book.to_dict(), "high_water": 1.5}, force=True)
    return journal


def test_a_restart_reads_back_every_fill_key_exactly(tmp_path):
    book = PositionBook(1)
    assert book.fill(0, 1, 100.0, 1.0, 0.01, TRADE)
    assert book.fill(0, -1, 101.0, 1.0, 0.02, SAME_LOW_HALF)
    data = saved_book(tmp_path, book).load()
    assert data["format"] == FORMAT and data["high_water"] == 1.5
    assert [k for k, _ in data["book"]["fee_by_trade"]] == ["0080000000000000169F22D05B785A2B",
                                                            "0081000000000000169F22D05B785A2B"]
    back = PositionBook.from_dict(data["book"], 1)
    assert back.seen(TRADE) and back.seen(SAME_LOW_HALF) and not back.seen(TRADE + 1)
    assert not back.fill(0, 1, 100.0, 1.0, 0.01, TRADE)          # replayed trade: not booked again
    assert back.correct_fee(SAME_LOW_HALF, 0.03) == pytest.approx(0.01)


def test_a_journal_of_the_old_format_is_refused_with_what_to_do(tmp_path):
    path = tmp_path / "risk_book.json"
    old = {"book": {"lots": [[]], "realised": 0.0, "fees": 0.0, "funding": 0.0, "fills": 1,
                    "duplicates": 0, "fee_by_trade": [[3735928559, 0.01]]},   # a CRC-32 key
           "high_water": 0.0, "day": "", "day_start_equity": 0.0}
    path.write_text(json.dumps(old))
    with pytest.raises(JournalFormatError) as err:
        Journal(path).load()
    text = str(err.value)
    assert str(path) in text and "format=1, expected 2" in text and "Start a new run" in text


def test_no_journal_and_an_unreadable_one_still_start_from_the_shared_state(tmp_path):
    assert Journal(tmp_path / "none.json").load() is None
    (tmp_path / "torn.json").write_text('{"book": ')
    assert Journal(tmp_path / "torn.json").load() is None
