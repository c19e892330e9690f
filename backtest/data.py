"""Market data readers: each yields chunks of EVENT_DTYPE records in exchange-time order.

- A CSV pair (plain or .gz, streamed): depth.csv ``ts_ns,side,price,qty`` (side bid/ask, qty the
  absolute size at the level, 0 removes it; side ``clear`` marks a gap: the book is unknown until
  the levels that follow) and trades.csv ``ts_ns,side,price,size`` (aggressor buy/sell). At equal
  ts_ns, trades come before depth rows (the book then shows what the trade left). Every event is
  seen by the exchange at ts_ns and by us at ts_ns + feed latency.
- hftbacktest event files (.npz with a ``data`` array, or .npy, of its 64-byte event dtype: ev
  flags, exch_ts, local_ts, px, qty, ...): its own local_ts is kept (the file carries the feed
  latency); depth and snapshot rows become depth events, a clear of both sides CLEAR, a clear of
  one side BID_CLEAR / ASK_CLEAR (up to its price), as hftbacktest's exchange and local models
  read them; BBO rows are dropped (both of its models ignore them). export_hftbacktest is the
  reverse, for replaying our data through hftbacktest.
- A ``bin/mm record`` capture: a directory of hourly subdirectories, each a CSV pair.
Memory stays bounded by the chunk size (an .npz is decompressed whole: numpy cannot stream it).
"""
from __future__ import annotations

import csv
import gzip
import heapq
import math
from pathlib import Path

import numpy as np

from backtest.events import (ASK_CLEAR, ASK_DEPTH, BID_CLEAR, BID_DEPTH, BUY_TRADE, CLEAR, EVENT_DTYPE, EXCH,
                             LOCAL, SELL_TRADE)

CHUNK = 65_536
# hftbacktest's event flags (py-hftbacktest/hftbacktest/types.py)
HB_EXCH, HB_LOCAL, HB_BUY, HB_SELL = 1 << 31, 1 << 30, 1 << 29, 1 << 28
HB_DEPTH, HB_TRADE, HB_CLEAR, HB_SNAPSHOT, HB_BBO = 1, 2, 3, 4, 5
HB_EVENT_DTYPE = np.dtype([("ev", "<u8"), ("exch_ts", "<i8"), ("local_ts", "<i8"), ("px", "<f8"), ("qty", "<f8"),
                           ("order_id", "<u8"), ("ival", "<i8"), ("fval", "<f8")], align=True)


class DataError(ValueError):
    """Market data the backtester cannot use; the message names the file, the line and the value."""


def open_text(path: Path):
    return gzip.open(path, "rt", newline="") if path.suffix == ".gz" else open(path, newline="")


def find(directory: Path, stem: str) -> Path | None:
    for name in (f"{stem}.csv", f"{stem}.csv.gz"):
        if (directory / name).exists():
            return directory / name
    return None


def _rows(path: Path, header: list[str], sides: dict, order: int):
    """(ts_ns, order, line, kind, price, qty) per row, validated."""
    with open_text(path) as f:
        reader = csv.reader(f)
        got = next(reader, None)
        if got != header:
            raise DataError(f"{path}: header {got} : expected {','.join(header)}")
        last = -1
        for line, row in enumerate(reader, start=2):
            if not row:
                continue
            try:
                ts, side, price, qty = int(row[0]), row[1], float(row[2]), float(row[3])
            except (ValueError, IndexError):
                raise DataError(f"{path} line {line}: {','.join(row)!r}: expected {','.join(header)}") from None
            kind = sides.get(side)
            if kind is None:
                raise DataError(f"{path} line {line}: side={side!r}: expected one of {', '.join(sides)}")
            if kind != CLEAR and not (math.isfinite(price) and price > 0 and math.isfinite(qty) and qty >= 0):
                raise DataError(f"{path} line {line}: price={price} qty={qty}: expected price > 0, qty >= 0")
            if ts < last:
                raise DataError(f"{path} line {line}: ts_ns={ts} goes back in time (previous {last})")
            last = ts
            yield ts, order, line, kind, price, qty


def read_csv_pair(directory: Path, feed_latency_ns: int, chunk: int = CHUNK):
    depth, trades = find(directory, "depth"), find(directory, "trades")
    if depth is None:
        raise DataError(f"{directory}: no depth.csv or depth.csv.gz")
    streams = [_rows(depth, ["ts_ns", "side", "price", "qty"],
                     {"bid": BID_DEPTH, "ask": ASK_DEPTH, "clear": CLEAR}, 1)]
    if trades is not None:
        streams.append(_rows(trades, ["ts_ns", "side", "price", "size"],
                             {"buy": BUY_TRADE, "sell": SELL_TRADE}, 0))
    out = np.zeros(chunk, EVENT_DTYPE)
    n = 0
    for ts, _, _, kind, price, qty in heapq.merge(*streams):
        out[n] = (ts, ts + feed_latency_ns, price, qty, kind, EXCH | LOCAL)
        n += 1
        if n == chunk:
            yield out
            out = np.zeros(chunk, EVENT_DTYPE)
            n = 0
    if n:
        yield out[:n]


def convert_hftbacktest(data: np.ndarray) -> np.ndarray:
    """hftbacktest event records -> EVENT_DTYPE (rows of kinds we do not model are dropped)."""
    ev = data["ev"].astype(np.uint64)
    base = (ev & np.uint64(0xFF)).astype(np.int64)
    buy, sell = (ev & np.uint64(HB_BUY)) != 0, (ev & np.uint64(HB_SELL)) != 0
    depth = np.isin(base, (HB_DEPTH, HB_SNAPSHOT))
    kind = np.zeros(len(data), np.int32)
    clear = base == HB_CLEAR                 # a row flagged both buy and sell is read as buy, as there
    kind[depth & sell] = ASK_DEPTH
    kind[depth & buy] = BID_DEPTH
    kind[(base == HB_TRADE) & sell] = SELL_TRADE
    kind[(base == HB_TRADE) & buy] = BUY_TRADE
    kind[clear & sell] = ASK_CLEAR
    kind[clear & buy] = BID_CLEAR
    kind[clear & ~buy & ~sell] = CLEAR
    flags = np.where((ev & np.uint64(HB_EXCH)) != 0, EXCH, 0) | np.where((ev & np.uint64(HB_LOCAL)) != 0, LOCAL, 0)
    keep = (kind != 0) & (flags != 0)
    out = np.zeros(int(keep.sum()), EVENT_DTYPE)
    out["exch_ts"], out["local_ts"] = data["exch_ts"][keep], data["local_ts"][keep]
    out["price"], out["qty"] = data["px"][keep], data["qty"][keep]
    out["kind"], out["flags"] = kind[keep], flags[keep]
    return out


def export_hftbacktest(events: np.ndarray) -> np.ndarray:
    """EVENT_DTYPE records -> hftbacktest's event records (the same events, in the same order)."""
    base = {BID_DEPTH: HB_DEPTH | HB_BUY, ASK_DEPTH: HB_DEPTH | HB_SELL, BUY_TRADE: HB_TRADE | HB_BUY,
            SELL_TRADE: HB_TRADE | HB_SELL, CLEAR: HB_CLEAR, BID_CLEAR: HB_CLEAR | HB_BUY,
            ASK_CLEAR: HB_CLEAR | HB_SELL}
    table = np.zeros(8, np.uint64)
    for kind, ev in base.items():
        table[kind] = ev
    ev = table[events["kind"]]
    ev |= np.where((events["flags"] & EXCH) != 0, np.uint64(HB_EXCH), np.uint64(0))
    ev |= np.where((events["flags"] & LOCAL) != 0, np.uint64(HB_LOCAL), np.uint64(0))
    out = np.zeros(len(events), HB_EVENT_DTYPE)
    out["ev"], out["exch_ts"], out["local_ts"] = ev, events["exch_ts"], events["local_ts"]
    out["px"], out["qty"] = events["price"], events["qty"]
    return out


def read_hftbacktest(path: Path, chunk: int = CHUNK):
    try:
        data = np.load(path)["data"] if path.suffix == ".npz" else np.load(path, mmap_mode="r")
    except (KeyError, ValueError, OSError) as exc:
        raise DataError(f"{path}: not an hftbacktest event file (.npz with 'data', or .npy): {exc}") from None
    for name in ("ev", "exch_ts", "local_ts", "px", "qty"):
        if data.dtype.names is None or name not in data.dtype.names:
            raise DataError(f"{path}: field {name!r} missing: expected hftbacktest's event dtype")
    for start in range(0, len(data), chunk):
        yield convert_hftbacktest(np.asarray(data[start:start + chunk]))


def open_data(path: Path, feed_latency_ns: int, chunk: int = CHUNK):
    """Chunks of events from DATA (a CSV-pair directory, an .npz/.npy file or a directory of them,
    or a ``bin/mm record`` capture); raises DataError naming what it found."""
    path = Path(path)
    if path.is_file() and path.suffix in (".npz", ".npy"):
        yield from read_hftbacktest(path, chunk)
        return
    if not path.is_dir():
        raise DataError(f"{path}: no such directory or .npz file")
    if find(path, "depth") is not None:
        yield from read_csv_pair(path, feed_latency_ns, chunk)
        return
    files = sorted(list(path.glob("*.npz")) + list(path.glob("*.npy")))
    if files:
        for f in files:
            yield from read_hftbacktest(f, chunk)
        return
    hours = sorted(p for p in path.iterdir() if p.is_dir() and find(p, "depth") is not None)
    if not hours:
        raise DataError(f"{path}: expected depth.csv[.gz] (+ trades.csv[.gz]), hftbacktest .npz files, "
                        "or a bin/mm record capture (hourly subdirectories)")
    for hour in hours:
        yield from read_csv_pair(hour, feed_latency_ns, chunk)
