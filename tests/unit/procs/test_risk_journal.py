"""The risk journal: the book survives a save and a load exactly; it is written atomically, only
when changed and at most every interval; a corrupt journal is refused with a message naming it."""
import json
import logging

import pytest

from procs.risk.journal import FORMAT, Journal, JournalFormatError
from procs.risk.position import PositionBook


def a_book() -> PositionBook:
    book = PositionBook(2)
    book.fill(0, 1, 100_000.0, 0.02, 0.2, trade_id=11)
    book.fill(0, -1, 100_050.0, 0.01, 0.1, trade_id=12)
    book.fill(1, -1, 3_000.0, 0.5, 0.15, trade_id=13)
    book.fill(1, -1, 3_000.0, 0.5, 0.15, trade_id=13)   # a duplicate: counted
    book.accrue_funding(0, 0.0001, 100_000.0, 3600.0)
    return book


def test_the_book_and_the_day_survive_a_save_and_a_load_exactly(tmp_path):
    book = a_book()
    data = {"book": book.to_dict(), "high_water": 12.5, "day": "2026-11-05", "day_start_equity": -3.0}
    journal = Journal(tmp_path / "risk_book.json")
    journal.dirty = True
    journal.save(lambda: data)
    loaded = Journal(tmp_path / "risk_book.json").load()
    assert loaded["high_water"] == 12.5 and loaded["day"] == "2026-11-05"
    back = PositionBook.from_dict(loaded["book"], 2)
    assert back.position == book.position and back.realised == book.realised
    assert back.fees == book.fees and back.funding == book.funding and back.fills == book.fills
    assert back.duplicates == 1 and back.seen(13, -1) and not back.seen(13, 1) and not back.seen(14, -1)
    assert [list(map(list, lots)) for lots in back.lots] == [list(map(list, lots)) for lots in book.lots]
    assert not (tmp_path / "risk_book.tmp").exists()          # the temp file was renamed into place


def test_nothing_is_written_unless_something_changed_or_before_the_interval_unless_forced(tmp_path):
    path = tmp_path / "risk_book.json"
    journal = Journal(path, min_interval_s=60.0)
    journal.save(lambda: {"book": {}})
    assert not path.exists()                                   # not dirty
    journal.dirty = True
    journal.save(lambda: {"book": {"fills": 1}})
    assert json.loads(path.read_text())["book"]["fills"] == 1 and not journal.dirty
    journal.dirty = True
    journal.save(lambda: {"book": {"fills": 2}})
    assert json.loads(path.read_text())["book"]["fills"] == 1  # within the interval
    journal.save(lambda: {"book": {"fills": 3}}, force=True)
    assert json.loads(path.read_text())["book"]["fills"] == 3


def test_no_path_or_no_file_means_no_journal(tmp_path):
    assert Journal(None).load() is None
    assert Journal(tmp_path / "absent.json").load() is None


@pytest.mark.parametrize("text, why", [
    ('{"book": {"lots": [[1', "unreadable"),
    ("[1, 2, 3]", 'no "book" object'),
    ('{"format": 3, "book": {"lots": [[100000.0]]}}', "not a risk book"),
    ('{"format": 3, "book": {"lots": 5}}', "not a risk book"),
    ('{"format": 3, "book": {"realised": "lots"}}', "not a risk book"),
    ('{"format": 3, "book": {}, "high_water": "high"}', "not a risk book"),
    ('{"format": 3, "book": {"fee_by_trade": [["2A", 0, 0.1]]}}', "not a risk book"),   # side 0
    ('{"format": 3, "book": {}, "exec": {"seq": -4}}', "not a risk book"),
    ('{"format": 3, "book": {"realised": Infinity}}', "unreadable"),
    ('{"format": 3, "book": {"fees": NaN}}', "unreadable"),
    ('{"format": 3, "book": {"fees": 1e400}}', "unreadable"),                      # parses to inf
])
def test_a_corrupt_journal_is_refused_with_a_message_naming_the_file(tmp_path, caplog, text, why):
    path = tmp_path / "risk_book.json"
    path.write_text(text)
    with caplog.at_level(logging.ERROR, logger="risk"):
        assert Journal(path).load() is None
    (record,) = caplog.records
    assert str(path) in record.getMessage() and why in record.getMessage()
    assert "starting from an empty book" in record.getMessage()


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
    assert [k[:2] for k in data["book"]["fee_by_trade"]] == [["0080000000000000169F22D05B785A2B", 1],
                                                             ["0081000000000000169F22D05B785A2B", -1]]
    back = PositionBook.from_dict(data["book"], 1)
    assert back.seen(TRADE, 1) and back.seen(SAME_LOW_HALF, -1) and not back.seen(TRADE + 1, 1)
    assert not back.fill(0, 1, 100.0, 1.0, 0.01, TRADE)          # replayed trade: not booked again
    assert back.correct_fee(SAME_LOW_HALF, -1, 0.03) == pytest.approx(0.01)


def test_a_journal_of_the_old_format_is_refused_with_what_to_do(tmp_path):
    path = tmp_path / "risk_book.json"
    old = {"book": {"lots": [[]], "realised": 0.0, "fees": 0.0, "funding": 0.0, "fills": 1,
                    "duplicates": 0, "fee_by_trade": [[3735928559, 0.01]]},   # a CRC-32 key
           "high_water": 0.0, "day": "", "day_start_equity": 0.0}
    path.write_text(json.dumps(old))
    with pytest.raises(JournalFormatError) as err:
        Journal(path).load()
    text = str(err.value)
    assert str(path) in text and "format=1, expected 3" in text and "Start a new run" in text


def test_a_journal_keyed_by_trade_id_alone_is_refused_too(tmp_path):
    path = tmp_path / "risk_book.json"
    path.write_text(json.dumps({"format": 2, "book": {"fee_by_trade": [["2A", 0.01]]}}))
    with pytest.raises(JournalFormatError, match="format=2, expected 3.*without the side"):
        Journal(path).load()


def test_a_book_holding_a_number_that_is_not_finite_is_never_written(tmp_path, caplog):
    path = tmp_path / "risk_book.json"
    journal = Journal(path)
    journal.dirty = True
    assert journal.save(lambda: {"book": {"fees": 0.5}}, force=True)
    for bad in (float("inf"), float("-inf"), float("nan")):
        journal.dirty = True
        with caplog.at_level(logging.ERROR, logger="risk"):
            assert not journal.save(lambda: {"book": {"fees": bad}}, force=True)
    assert journal.refused == 3
    assert json.loads(path.read_text())["book"]["fees"] == 0.5          # the last good journal stays
    assert "NOT written" in caplog.text and str(path) in caplog.text
    assert len(caplog.records) == 1                                      # logged once, counted always


def test_no_journal_and_an_unreadable_one_mean_no_journal(tmp_path):
    assert Journal(tmp_path / "none.json").load() is None
    (tmp_path / "torn.json").write_text('{"book": ')
    assert Journal(tmp_path / "torn.json").load() is None
