"""``bin/mm record [--config FILE] [--set SECTION.KEY=VALUE ...] [--out DIR] [--seconds S]``:
public market data of the configured instruments, straight into files bin/mm-backtest reads.

Public channels only (no credentials): ``book.<instrument>.none.all.raw``,
``ticker.<instrument>.raw``, ``recent_trades.<instrument>.single`` and ``price_index.<underlying>``.
Layout, one directory per instrument and per hour (UTC; ``--rotate-s`` for other periods):

    DIR/<instrument>/<YYYYmmddTHHMMSS>/depth.csv    ts_ns,side,price,qty   (the backtester's pair)
                                       trades.csv   ts_ns,side,price,size  (aggressor buy/sell)
                                       ticker.csv   ts_ns,bid,bid_amount,ask,ask_amount,mark,index,last,funding_rate
                                       index.csv    ts_ns,index_name,price
    DIR/gaps.csv                       start_ns,end_ns,reason

so ``bin/mm-backtest DIR/<instrument>`` replays the capture. Times are the exchange's (book and
trade ``time``, ticker ``mark_timestamp``, index ``timestamp``; our clock where one is missing),
kept non-decreasing per file. A ``clear`` row (``ts,clear,0,0``) starts every depth file and every
book snapshot, followed by the whole book: each hour stands alone. A lost connection writes a
``clear`` row at once (the backtester then sees no book and quotes nothing until the snapshot of
the next connection: a gap is never replayed as if nothing happened), a line in gaps.csv when
data flows again, and reconnects on [venue] reconnect_min_s doubling to reconnect_max_s. The
first recent_trades notification of each subscription is history and is not written.
"""
from __future__ import annotations

import argparse
import csv
import logging
import signal
import sys
import time
from pathlib import Path

from conf.load import ConfigError, load
from runtime.reconnect import ReconnectPolicy
from venue.client import ThalexClient
from venue.errors import ThalexConnectionError, ThalexError
from venue.subscriptions import subscribe_checked

log = logging.getLogger("record")

HEADERS = {"depth": ["ts_ns", "side", "price", "qty"], "trades": ["ts_ns", "side", "price", "size"],
           "ticker": ["ts_ns", "bid", "bid_amount", "ask", "ask_amount", "mark", "index", "last", "funding_rate"],
           "index": ["ts_ns", "index_name", "price"]}
TICKER_FIELDS = ("best_bid_price", "best_bid_amount", "best_ask_price", "best_ask_amount", "mark_price", "index",
                 "last_price", "funding_rate")


def _ns(seconds, fallback: int) -> int:
    return int(round(float(seconds) * 1e9)) if isinstance(seconds, (int, float)) and seconds > 0 else fallback


def _num(v) -> str:
    return "" if v is None else repr(float(v))


class Capture:
    """One instrument's files of the current period, its book, and the last time of each file."""

    def __init__(self, root: Path, name: str):
        self.root, self.name = root / name, name
        self.bids: dict[float, float] = {}
        self.asks: dict[float, float] = {}
        self.files, self.writers = {}, {}
        self.last = dict.fromkeys(HEADERS, 0)
        self.have_book = False        # a snapshot since the last (re)connect
        self.trades_live = False      # the history notification of recent_trades was skipped
        self.rows = 0

    def open(self, period: str, now_ns: int) -> None:
        """Start the period's directory; the depth file begins with the book as we know it."""
        self.close()
        d = self.root / period
        d.mkdir(parents=True, exist_ok=True)
        for kind, header in HEADERS.items():
            f = open(d / f"{kind}.csv", "a", newline="")
            self.files[kind], self.writers[kind] = f, csv.writer(f, lineterminator="\n")
            if f.tell() == 0:
                self.writers[kind].writerow(header)
        self.write("depth", now_ns, "clear", 0, 0)
        if self.have_book:
            self._levels(now_ns, "bid", self.bids.items())
            self._levels(now_ns, "ask", self.asks.items())

    def write(self, kind: str, ts: int, *values) -> None:
        ts = max(ts, self.last[kind])          # the backtester refuses a file that goes back in time
        self.last[kind] = ts
        self.writers[kind].writerow((ts, *values))
        self.rows += 1

    def _levels(self, ts: int, side: str, levels) -> None:
        for price, qty in sorted(levels):
            self.write("depth", ts, side, repr(price), repr(qty))

    def gap(self, now_ns: int) -> None:
        """The connection is gone: the book is unknown from now on."""
        self.write("depth", now_ns, "clear", 0, 0)
        self.bids.clear()
        self.asks.clear()
        self.have_book = self.trades_live = False

    def on_book(self, n: dict, snapshot: bool, now_ns: int) -> None:
        ts = _ns(n.get("time"), now_ns)
        if snapshot:
            self.bids.clear()
            self.asks.clear()
            self.write("depth", ts, "clear", 0, 0)
        for side, key, book in (("bid", "bid_changes", self.bids), ("ask", "ask_changes", self.asks)):
            for level in n.get(key) or ():
                price, qty = float(level[0]), float(level[1])
                if qty > 0:
                    book[price] = qty
                else:
                    book.pop(price, None)
                self.write("depth", ts, side, repr(price), repr(qty))
        self.have_book = self.have_book or snapshot

    def on_trades(self, trades: list, snapshot: bool, now_ns: int) -> None:
        if snapshot or not self.trades_live:
            self.trades_live = True            # history: what traded before we listened
            return
        for t in trades:
            if t[2] in ("buy", "sell"):
                self.write("trades", _ns(t[3], now_ns), t[2], repr(float(t[0])), repr(float(t[1])))

    def on_ticker(self, n: dict, now_ns: int) -> None:
        self.write("ticker", _ns(n.get("mark_timestamp"), now_ns), *(_num(n.get(k)) for k in TICKER_FIELDS))

    def on_index(self, n: dict, now_ns: int) -> None:
        self.write("index", _ns(n.get("timestamp"), now_ns), n.get("index_name", ""), _num(n.get("price")))

    def flush(self) -> None:
        for f in self.files.values():
            f.flush()

    def close(self) -> None:
        for f in self.files.values():
            f.close()
        self.files, self.writers = {}, {}


class Recorder:
    def __init__(self, url: str, instruments, out: Path, reconnect: ReconnectPolicy, rotate_s: float = 3600.0,
                 timeout_s: float = 5.0):
        if not rotate_s > 0:
            raise ValueError(f"rotate_s={rotate_s}: must be > 0")
        self.url, self.out, self.reconnect, self.timeout_s = url, Path(out), reconnect, timeout_s
        self.rotate_ns = int(rotate_s * 1e9)
        self.captures = {name: Capture(self.out, name) for name in instruments}
        self.index_of: dict[str, list[Capture]] = {}
        self.client: ThalexClient | None = None
        self.period_end = 0
        self.gap_start = 0            # ns of the loss being waited out; 0 = connected
        self.gaps = self.connects = 0
        self.stopping = False

    # ---- the loop ---------------------------------------------------------------------------
    def run(self, seconds: float | None = None) -> dict:
        self.out.mkdir(parents=True, exist_ok=True)
        gaps_path = self.out / "gaps.csv"
        self.gaps_file = open(gaps_path, "a", newline="")
        if self.gaps_file.tell() == 0:
            self.gaps_file.write("start_ns,end_ns,reason\n")
        deadline = time.monotonic() + seconds if seconds else None
        next_attempt = 0.0
        try:
            while not self.stopping and (deadline is None or time.monotonic() < deadline):
                now = time.time_ns()
                if now >= self.period_end:
                    self._rotate(now)
                if self.client is None:
                    if time.monotonic() >= next_attempt:
                        try:
                            self._connect()
                        except (ThalexConnectionError, ThalexError, OSError) as exc:
                            wait = self.reconnect.next_delay_s()
                            log.warning("record: connect to %s failed (%s); next attempt in %.2f s", self.url, exc, wait)
                            next_attempt = time.monotonic() + wait
                    else:
                        time.sleep(min(0.05, max(0.0, next_attempt - time.monotonic())))
                    continue
                try:
                    self.client.poll(0.1)
                except ThalexConnectionError as exc:
                    self._lost(str(exc))
                    next_attempt = time.monotonic() + self.reconnect.next_delay_s()
        finally:
            if self.client is not None:
                self.client.close()
            for c in self.captures.values():
                c.close()
            self.gaps_file.close()
        return {"rows": sum(c.rows for c in self.captures.values()), "connects": self.connects, "gaps": self.gaps,
                "out": str(self.out)}

    def _rotate(self, now: int) -> None:
        start = now - now % self.rotate_ns
        self.period_end = start + self.rotate_ns
        period = time.strftime("%Y%m%dT%H%M%S", time.gmtime(start / 1e9))
        for c in self.captures.values():
            c.open(period, now)

    def _connect(self) -> None:
        client = ThalexClient(self.url, timeout_s=self.timeout_s)
        self.index_of = {}
        try:
            channels, required = [], []
            for name, c in self.captures.items():
                underlying = client.instrument(name).get("underlying")
                book, ticker = f"book.{name}.none.all.raw", f"ticker.{name}.raw"
                client.on(book, lambda ch, n, f, c=c: c.on_book(n, bool(f.get("snapshot")), time.time_ns()))
                client.on(ticker, lambda ch, n, f, c=c: c.on_ticker(n, time.time_ns()))
                trades = f"recent_trades.{name}.single"
                client.on(trades, lambda ch, n, f, c=c: c.on_trades(n, bool(f.get("snapshot")), time.time_ns()))
                channels += [book, ticker, trades]
                required += [book, trades]
                if underlying:
                    index = f"price_index.{underlying}"
                    self.index_of.setdefault(index, []).append(c)
                    if index not in channels:
                        channels.append(index)
            for index, caps in self.index_of.items():
                client.on(index, lambda ch, n, f, caps=caps: [c.on_index(n, time.time_ns()) for c in caps])
            missing = subscribe_checked(client.public_subscribe, "public/subscribe", channels, required)
            if missing:
                log.warning("record: not subscribed (written without them): %s", ", ".join(missing))
        except BaseException:
            client.close()
            raise
        self.client = client
        self.connects += 1
        self.reconnect.reset()
        if self.gap_start:
            now = time.time_ns()
            self.gaps_file.write(f"{self.gap_start},{now},reconnected\n")
            self.gaps_file.flush()
            self.gap_start = 0
        log.info("record: connected to %s (%d channels)", self.url, len(channels))

    def _lost(self, why: str) -> None:
        now = time.time_ns()
        log.warning("record: connection lost (%s): a gap from %d", why, now)
        self.client.close()
        self.client = None
        self.gaps += 1
        self.gap_start = self.gap_start or now
        for c in self.captures.values():
            c.gap(now)
            c.flush()


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--config", help="TOML configuration file (default conf/paper.toml)")
    p.add_argument("--set", action="append", default=[], metavar="SECTION.KEY=VALUE")
    p.add_argument("--out", type=Path, help="capture directory (default captures/<UTC time>)")
    p.add_argument("--seconds", type=float, help="stop after this long (default: until SIGINT/SIGTERM)")
    p.add_argument("--rotate-s", type=float, default=3600.0, help="seconds per directory (default an hour)")


def run(args) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    try:
        config = load(args.config, args.set)
    except ConfigError as exc:
        print(f"bin/mm record: {exc}", file=sys.stderr)
        return 2
    url = config.venue.url
    if not url.startswith(("ws://", "wss://")):
        print(f"bin/mm record: venue.url={url!r} in {config.source}: expected a ws:// or wss:// URL of an "
              "exchange (e.g. conf/production.toml, conf/testnet.toml or --set venue.url=ws://...)", file=sys.stderr)
        return 2
    out = args.out or Path("captures") / time.strftime("%Y%m%d-%H%M%S", time.gmtime())
    rec = Recorder(url, config.venue.instruments, out, ReconnectPolicy.from_config(config.venue), args.rotate_s,
                   config.venue.request_timeout_s)

    def stop(signum, frame):
        rec.stopping = True
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    summary = rec.run(args.seconds)
    print(f"bin/mm record: {summary['rows']:,} rows in {summary['out']}, {summary['connects']} connection(s), "
          f"{summary['gaps']} gap(s)")
    return 0
