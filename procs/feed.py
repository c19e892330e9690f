"""The feed process: Thalex public websocket -> md and trades broadcast rings.

Subscribes ``ticker.<instrument>.<delay>`` and ``recent_trades.<instrument>.single`` for every
configured instrument; the frame decoder turns each notification into fixed records written
straight into the rings (one parse per frame, nothing else allocated). When no ticker arrives
for ``stale_after_s`` it republishes the last record of each instrument with MD_FLAG_STALE (the
quoter pulls its quotes) and raises ``md_stale`` in the shared state. A lost connection is
retried on the one reconnect policy (runtime/reconnect.py: [venue] ``reconnect_min_s`` doubling
to ``reconnect_max_s``); every reconnect resubscribes and forgets the book state. A ticker
channel the exchange did not subscribe is a SubscriptionError naming it: the first connect fails
the start, a reconnect is retried (the data stays stale, so nothing is quoted meanwhile).
"""
from __future__ import annotations

import logging
import time

import numpy as np

from runtime import segments
from runtime.agent import Agent
from runtime.reconnect import ReconnectPolicy
from runtime.settings import config_of, instruments_of
from venue.client import ThalexClient
from venue.subscriptions import subscribe_checked
from venue.errors import ThalexConnectionError, ThalexError
from venue.decode.frame import KIND_BOOK, KIND_INDEX, KIND_TICKER, KIND_TRADES, FrameDecoder
from venue.reasons import NOT_NOTIFICATION
from shm.doorbell import Doorbells
from shm.records import MD_DTYPE, MD_FLAG_STALE, TRADE_DTYPE
from shm.state import SharedState

log = logging.getLogger("feed")


class Feed(Agent):
    name = "feed"
    waits_in_work = True   # do_work blocks on the socket (at most wait_s): data wakes it at once

    def __init__(self, instance: str, url: str, instruments, ticker_delay: str, stale_after_s: float,
                 reconnect: ReconnectPolicy, timeout_s: float = 5.0, wait_s: float = 0.005):
        self.instance, self.url, self.instruments = instance, url, instruments
        self.ticker_delay = ticker_delay
        self.stale_after_ns = int(stale_after_s * 1e9)
        self.reconnect = reconnect
        self.timeout_s, self.wait_s = timeout_s, wait_s
        self.client: ThalexClient | None = None
        self.md = np.zeros(1, MD_DTYPE)
        self.trades = np.zeros(64, TRADE_DTYPE)
        self.last_md = np.zeros(len(instruments), MD_DTYPE)   # last record per instrument
        self.decoder = FrameDecoder(self.md, self.trades,
                                    instrument_ids={i.name: i.id for i in instruments})
        self.channels = []
        for inst in instruments:
            for channel in (f"ticker.{inst.name}.{ticker_delay}", f"recent_trades.{inst.name}.single"):
                self.decoder.add(channel, inst.id)
                self.channels.append(channel)
        self.last_md_ns = 0
        self.stale = True
        self.next_connect_s = 0.0
        self.connects = 0
        self.published = 0

    @classmethod
    def from_settings(cls, settings: dict) -> "Feed":
        c = config_of(settings)
        return cls(settings["instance"], settings["venue_url"], instruments_of(settings),
                   c.feed.ticker_delay, c.feed.stale_after_s, ReconnectPolicy.from_config(c.venue),
                   c.venue.request_timeout_s)

    # ---- lifecycle -------------------------------------------------------------------------
    def on_start(self) -> None:
        self.md_ring = segments.writer(self.instance, "md")
        self.trades_ring = segments.writer(self.instance, "trades")
        self.state = SharedState.attach(self.instance)
        self.bells = Doorbells.attach(self.instance)
        self.ring_quoter = self.bells.bell("quoter").ring
        self.state.set("md_stale", 1)
        self._connect()   # the first connection must work: a wrong URL fails the start

    def _connect(self) -> None:
        client = ThalexClient(self.url, timeout_s=self.timeout_s)
        try:
            client.frame_hook = self._on_frame
            self.decoder.reset_books()
            # Subscribe succeeds even when channels were refused: without a ticker there is
            # nothing to quote from (SubscriptionError names it); missing trades only slow the
            # intensity estimate and are logged.
            missing = subscribe_checked(client.public_subscribe, "public/subscribe", self.channels,
                                        [c for c in self.channels if c.startswith("ticker.")])
        except BaseException:
            client.close()
            raise
        if missing:
            log.error("public/subscribe left out %s: going on without", ", ".join(missing))
        self.client = client
        self.connects += 1
        self.reconnect.reset()
        self.last_md_ns = time.monotonic_ns()
        log.info("connected to %s, subscribed %s", self.url, ", ".join(self.channels))

    def on_close(self) -> None:
        if self.client is not None:
            self.client.close()
        self.ring_quoter = None
        for ring in ("md_ring", "trades_ring", "state", "bells"):
            if hasattr(self, ring):
                getattr(self, ring).close()

    # ---- work ------------------------------------------------------------------------------
    def do_work(self) -> int:
        now_ns = time.monotonic_ns()
        if self.client is None:
            if time.monotonic() >= self.next_connect_s:
                self._try_reconnect()
            else:
                time.sleep(min(self.wait_s, max(0.0, self.next_connect_s - time.monotonic())))
            self._check_stale(now_ns)
            return 0
        try:
            handled = self.client.poll(self.wait_s)
        except ThalexConnectionError as exc:
            self._lost(str(exc))
            return 0
        self._check_stale(now_ns)
        return handled

    def _on_frame(self, frame: bytes) -> bool:
        """Decode a notification into the rings; False hands replies back to the client."""
        if b'"channel_name"' not in frame:
            return False          # a reply (subscribe result, error): the client's business
        d = self.decoder
        if d.decode(frame, time.monotonic_ns()):
            return True           # counted and logged by the decoder; never escapes
        kind = d.kind
        if kind == KIND_TICKER or kind == KIND_BOOK or kind == KIND_INDEX:
            self.md["publish_ts_ns"] = time.monotonic_ns()
            self.md_ring.write(self.md)
            self.ring_quoter()
            iid = int(self.md["instrument_id"][0])
            if iid < len(self.last_md):
                self.last_md[iid] = self.md[0]
            self.last_md_ns = time.monotonic_ns()
            self.published += 1
            if self.stale:
                self.stale = False
                self.state.set("md_stale", 0)
                log.info("market data flowing")
        elif kind == KIND_TRADES and d.count:
            self.trades_ring.write_batch(self.trades[:d.count])
            self.ring_quoter()
        return True

    def _check_stale(self, now_ns: int) -> None:
        if self.stale or now_ns - self.last_md_ns < self.stale_after_ns:
            return
        self.stale = True
        self.state.set("md_stale", 1)
        log.warning("no market data for %.1fs: marking it stale", (now_ns - self.last_md_ns) / 1e9)
        for i in range(len(self.last_md)):
            rec = self.last_md[i:i + 1]
            if rec["type"][0]:
                flags = rec["flags"][0]
                rec["flags"] = flags | MD_FLAG_STALE
                rec["receive_ts_ns"] = now_ns
                self.md_ring.write(rec)
                self.ring_quoter()
                rec["flags"] = flags      # (not &= ~STALE: -2 does not fit the u16 field)

    def _lost(self, why: str) -> None:
        delay_s = self.reconnect.next_delay_s()
        log.error("public connection lost (%s); reconnecting in %.2fs", why, delay_s)
        if self.client is not None:
            self.client.close()
        self.client = None
        self.next_connect_s = time.monotonic() + delay_s

    def _try_reconnect(self) -> None:
        try:
            self._connect()
        except (ThalexConnectionError, ThalexError, TimeoutError, OSError) as exc:
            delay_s = self.reconnect.next_delay_s()
            self.next_connect_s = time.monotonic() + delay_s
            log.warning("reconnect to %s failed (%s); next try in %.2fs", self.url, exc, delay_s)

    def report(self, counters) -> None:
        counts = self.decoder.counts
        counters.set("malformed", sum(counts) - counts[NOT_NOTIFICATION])
