"""What the exchange publishes about the recent past, fetched once when the quoter starts.

For each instrument, on a public connection of its own (opened and closed here, so the feed's
live connection is left alone):
- the ``recent_trades.<instrument>.single`` snapshot: the first notification after subscribing
  holds the last trades before now (how many is the exchange's choice: the local exchange keeps
  ``--recent-trades``, 100 by default); decoded and validated like live trades
  (venue/decode/market.trades_into) and kept within the lookback;
- ``public/mark_price_historical_data`` at 1m over the lookback (venue/decode/history.py).
Public trades carry no trade id on Thalex (the spec's row is [price, amount, side, time,
instrument, implied_taker]), so a trade is identified by its whole row (procs/quoter_seed.py
dedups on it).

Nothing here may stop the quoter from quoting: a venue that does not answer, refuses a method or
sends garbage gives a History with fewer parts and ``problems`` saying why; the quoter then
starts from what it has (or its priors).
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

import numpy as np

from shm.records import TRADE_DTYPE
from venue.client import ThalexClient
from venue.decode.history import mark_bars
from venue.decode.market import trades_into
from venue.errors import ThalexError
from venue.reasons import REASON_NAMES

log = logging.getLogger("quoter")
MAX_SNAPSHOT_TRADES = 100_000


@dataclass
class History:
    """The recent past of each instrument (by our instrument id)."""
    fetched_at_s: float                                   # Unix s when the trade snapshots were taken
    trades: dict[int, np.ndarray] = field(default_factory=dict)   # TRADE_DTYPE records, oldest first
    bars: dict[int, np.ndarray] = field(default_factory=dict)     # (n, 5): start_s, open, high, low, close
    problems: list[str] = field(default_factory=list)


def fetch_history(url: str, instruments, lookback_s: float, timeout_s: float, clock=time.time) -> History:
    """The trade snapshots and 1m mark bars of ``instruments`` over the last ``lookback_s`` seconds."""
    history = History(fetched_at_s=clock())
    try:
        client = ThalexClient(url, timeout_s=timeout_s)
    except (ThalexError, OSError) as exc:
        history.problems.append(f"cannot connect to {url}: {exc}")
        return history
    try:
        _trade_snapshots(client, instruments, lookback_s, timeout_s, history, clock)
        now = clock()
        for inst in instruments:
            try:
                result = client.mark_price_historical_data(inst.name, now - lookback_s, now, "1m")
                bars, skipped = mark_bars(result, f"mark_price_historical_data of {inst.name}")
            except (ThalexError, ValueError, TimeoutError) as exc:
                history.problems.append(f"{inst.name}: mark history: {exc}")
                continue
            if skipped:
                history.problems.append(f"{inst.name}: {skipped} mark history rows refused as invalid")
            history.bars[inst.id] = bars
    except (ThalexError, OSError, TimeoutError) as exc:
        history.problems.append(f"history from {url}: {exc}")
    finally:
        client.close()
    return history


def _trade_snapshots(client, instruments, lookback_s, timeout_s, history, clock) -> None:
    snapshots: dict[str, list] = {}

    def on_trades(channel, notification, msg):
        if msg.get("snapshot") is True and channel not in snapshots:
            snapshots[channel] = notification

    channels = {f"recent_trades.{inst.name}.single": inst for inst in instruments}
    client.on("recent_trades.", on_trades)
    subscribed = client.public_subscribe(list(channels))
    missing = [c for c in channels if not isinstance(subscribed, list) or c not in subscribed]
    for channel in missing:
        history.problems.append(f"{channel}: not subscribed by the exchange")
    deadline = time.monotonic() + timeout_s
    while len(snapshots) < len(channels) - len(missing) and time.monotonic() < deadline:
        client.poll(min(0.05, max(0.0, deadline - time.monotonic())))
    history.fetched_at_s = clock()
    client.unsubscribe(list(channels), wait=False)
    oldest_ns = int((history.fetched_at_s - lookback_s) * 1e9)
    for channel, inst in channels.items():
        if channel in missing:
            continue
        rows = snapshots.get(channel)
        if rows is None:
            history.problems.append(f"{channel}: no snapshot within {timeout_s:g} s")
            continue
        out = np.zeros(max(1, min(len(rows) if isinstance(rows, list) else 1, MAX_SNAPSHOT_TRADES)), TRADE_DTYPE)
        n = trades_into(rows, inst.id, out, time.monotonic_ns(), 0, {inst.name: inst.id})
        if n < 0:
            history.problems.append(f"{channel}: snapshot refused: {REASON_NAMES[-n]}")
            continue
        trades = out[:n]
        trades = trades[np.argsort(trades["exchange_ts_ns"], kind="stable")]
        history.trades[inst.id] = trades[trades["exchange_ts_ns"] >= oldest_ns]
