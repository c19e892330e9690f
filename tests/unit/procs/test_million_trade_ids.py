"""A million distinct Thalex trade ids go through the decoder and risk's fill book: none is lost.

Until issue 14, ids were folded into 32-bit CRCs: among a million random 32-digit ids about a
hundred pairs collide, and the second fill of each pair was dropped as a "duplicate". Here every
id is kept exactly (the u128 in trade_id_hi / trade_id_lo), from the session.orders frame through
the ExecEvent record to PositionBook's fill keys and its journal form.
"""
import zlib

import numpy as np
import pytest

from bench._thalex_frames import frame
from procs.risk.position import PositionBook
from shm.records import EXEC_DTYPE, EXEC_FILL, MD_DTYPE, empty, trade_id_of
from venue import reasons as R
from venue.decode.frame import KIND_ORDERS, FrameDecoder

N = 1_000_000
PER_FRAME = 2_000   # fills per order update: the decoder's per-fill work dominates, not framing
T0 = 1702583649.25


def distinct_trade_ids(n: int) -> list[str]:
    """``n`` distinct 32-hex-digit ids: random, plus pairs that share one half (the cases a
    fold into 64 bits, or into either half, would merge)."""
    rng = np.random.default_rng(14)
    text = rng.bytes(16 * n).hex().upper()
    out = [text[i:i + 32] for i in range(0, 32 * n, 32)]
    for i in range(0, 2000, 2):              # same low half, different high half
        out[i + 1] = out[i + 1][:16] + out[i][16:]
    for i in range(2000, 4000, 2):           # same high half, different low half
        out[i + 1] = out[i][:16] + out[i + 1][16:]
    out[4000], out[4001] = "0" * 31 + "1", "F" * 32   # the extremes of the u128
    assert len(set(out)) == n
    return out


FILL_JSON = ('{"trade_id":"%s","price":65000.0,"amount":0.001,"time":' + repr(T0)
             + ',"maker_taker":"maker","leg_index":0}')


def order_update(k: int, trade_ids: list[str]) -> bytes:
    """One session.orders frame: order ``k`` and one fill per trade id (the JSON is written as
    text: a dict per fill through orjson.dumps would cost as much as the decoding under test)."""
    order = {"order_id": f"{0x001F39C5 << 32 | k:016X}", "instrument_name": "BTC-PERPETUAL",
             "direction": "buy", "price": 65000.0, "amount": 1.0, "filled_amount": 0.0,
             "remaining_amount": 1.0, "status": "partially_filled", "fills": [],
             "change_reason": "fill", "create_time": T0}
    text = frame("session.orders", [order]).decode()
    fills = ",".join(FILL_JSON % t for t in trade_ids)
    return text.replace('"fills":[]', f'"fills":[{fills}]', 1).encode()


@pytest.mark.timeout(120)
def test_a_million_distinct_hex_trade_ids_are_each_booked_once_and_none_is_lost():
    tids = distinct_trade_ids(N)
    # The data would have broken the old 32-bit fold: some ids share a CRC-32.
    assert len({zlib.crc32(t.encode()) for t in tids}) < N

    dec = FrameDecoder(empty(MD_DTYPE), exec_out=empty(EXEC_DTYPE, PER_FRAME + 2),
                       instrument_ids={"BTC-PERPETUAL": 0})
    assert dec.add("session.orders", 0) == KIND_ORDERS
    book = PositionBook(1)
    booked_keys = []
    for k, start in enumerate(range(0, N, PER_FRAME)):
        assert dec.decode(order_update(k, tids[start:start + PER_FRAME]), 1) == R.OK
        events = dec.exec_out[:dec.count]
        assert dec.count == PER_FRAME and (events["type"] == EXEC_FILL).all()
        side = 1
        for hi, lo in zip(events["trade_id_hi"].tolist(), events["trade_id_lo"].tolist()):
            key = (hi << 64) | lo          # what shm.records.trade_id_of reads from each record
            # Buy and sell in turn so the FIFO holds one lot (the lot arithmetic has its own tests).
            assert book.fill(0, side, 65000.0, 0.001, 0.0, key)
            booked_keys.append(key)
            side = -side
    assert trade_id_of(dec.exec_out[0]) == booked_keys[-PER_FRAME]   # the helper agrees

    assert dec.counts[R.DUPLICATE_FILL] == 0
    assert book.fills == N and book.duplicates == 0
    assert booked_keys == [int(t, 16) for t in tids]               # each id exactly as sent

    # Dedupe still works: the same trades reported again (say by the trade history) are refused.
    for key in booked_keys[:: N // 1000]:
        assert not book.fill(0, 1, 65000.0, 0.001, 0.0, key)
    assert book.duplicates == 1000 and book.fills == N
