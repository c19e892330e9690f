"""The feed process: Thalex public websocket -> md and trades broadcast rings.

Subscribes ``ticker.<instrument>.<delay>`` and ``recent_trades.<instrument>.single`` for every
configured instrument; the frame decoder turns each notification into fixed records written
straight into the rings (one parse per frame, nothing else allocated). Well-formed records that
lie (a timestamp far from our clock, out of order, a price outside the plausibility band) are
refused by procs/md_checks.py: counted, logged once per episode, never published. The first
recent_trades notification of a subscription is history and is skipped (logged at info): the
quoter takes the same snapshot itself when it starts and feeds it in with its own timestamps
(procs/quoter_warmup.py), so a restarted quoter gets it too and nothing arrives as new flow.

When an instrument has had no publishable record for ``stale_after_s`` the feed republishes its
last record with MD_FLAG_STALE, plus MD_FLAG_IMPLAUSIBLE when records kept arriving but were
refused (the quoter pulls its quotes and says why), and raises ``md_stale`` in the shared state;
the next good record resumes quoting. A lost connection is retried on the one reconnect policy
(runtime/reconnect.py: [venue] ``reconnect_min_s`` doubling to ``reconnect_max_s``); every
reconnect resubscribes and forgets the book state. A ticker channel the exchange did not
subscribe is a SubscriptionError naming it: the first connect fails the start, a reconnect is
retried (the data stays stale, so nothing is quoted meanwhile).
"""
from __future__ import annotations

import logging
import time

import numpy as np

from runtime import segments
from runtime.agent import Agent
from runtime.handoff import hands_back, prewakes, ring_and_wait
from runtime.reconnect import ReconnectPolicy
from runtime.settings import config_of, instruments_of
from venue.client import ThalexClient
from venue.subscriptions import subscribe_checked
from venue.errors import ThalexConnectionError, ThalexError
from venue.decode.frame import KIND_BOOK, KIND_INDEX, KIND_TICKER, KIND_TRADES, FrameDecoder
from venue.reasons import NOT_NOTIFICATION
from shm.doorbell import Doorbells
from conf.schema import Feed as FeedConfig
from procs.md_checks import REASON_NAMES, MdChecks
from shm.records import MD_DTYPE, MD_FLAG_IMPLAUSIBLE, MD_FLAG_STALE, MD_TICKER, TRADE_DTYPE
from shm.state import SharedState

log = logging.getLogger("feed")


class Feed(Agent):
    name = "feed"
    waits_in_work = True   # do_work blocks on the socket (at most wait_s): data wakes it at once

    def __init__(self, instance: str, url: str, instruments, ticker_delay: str, stale_after_s: float,
                 reconnect: ReconnectPolicy, timeout_s: float = 5.0, wait_s: float = 0.005,
                 checks: MdChecks | None = None):
        self.instance, self.url, self.instruments = instance, url, instruments
        self.ticker_delay = ticker_delay
        self.stale_after_ns = int(stale_after_s * 1e9)
        self.reconnect = reconnect
        self.timeout_s, self.wait_s = timeout_s, wait_s
        self.client: ThalexClient | None = None
        self.md = np.zeros(1, MD_DTYPE)
        self.trades = np.zeros(64, TRADE_DTYPE)
        self.last_md = np.zeros(len(instruments), MD_DTYPE)   # last record per instrument
        # the [feed] defaults unless given (tests, from_settings)
        self.checks = checks or MdChecks.from_config([i.name for i in instruments], FeedConfig())
        self.decoder = FrameDecoder(self.md, self.trades,
                                    instrument_ids={i.name: i.id for i in instruments})
        self.channels = []
        for inst in instruments:
            for channel in (f"ticker.{inst.name}.{ticker_delay}", f"recent_trades.{inst.name}.single"):
                self.decoder.add(channel, inst.id)
                self.channels.append(channel)
        n = len(instruments)
        self.last_good_ns = [0] * n        # monotonic ns of each instrument's last published record
        self.stale_flags = [0] * n         # flags of the stale record published; 0 = none yet, -1 = fresh
        self.stale = True                  # some instrument is stale (``md_stale`` in the state)
        self.history_skipped = 0
        self.next_connect_s = 0.0
        self.connects = 0
        self.published = 0
        self.prewake = False       # ring the gateway too: it wakes on its own core while the quoter works
        self.ring_gateway = None
        self.hand_back = False     # after ringing the quoter, wait until its pass is done (same core)

    @classmethod
    def from_settings(cls, settings: dict) -> "Feed":
        c = config_of(settings)
        f = c.feed
        instruments = instruments_of(settings)
        checks = MdChecks.from_config([i.name for i in instruments], f)
        # Busy-spinning (an isolated core: conf/colo.toml) means polling the socket without ever
        # blocking; otherwise the socket wait is the feed's sleep.
        spins = settings.get("process_runtime", {}).get("feed", {}).get("idle") == "busy-spin"
        feed = cls(settings["instance"], settings["venue_url"], instruments, f.ticker_delay,
                   f.stale_after_s, ReconnectPolicy.from_config(c.venue), c.venue.request_timeout_s,
                   wait_s=0.0 if spins else 0.005, checks=checks)
        # On the quoter's core the feed hands it the core after each market record and sleeps on
        # its own bell until the quoter's pass is done (runtime/handoff.py hands_back). Not a nap:
        # a timer woke the feed ~50 us later (timer slack), in the middle of the quoter's pass.
        feed.prewake = prewakes(settings, "feed", "gateway")
        feed.hand_back = hands_back(settings, "feed", "quoter")
        return feed

    # ---- lifecycle -------------------------------------------------------------------------
    def on_start(self) -> None:
        self.md_ring = segments.writer(self.instance, "md")
        self.trades_ring = segments.writer(self.instance, "trades")
        self.state = SharedState.attach(self.instance)
        self.bells = Doorbells.attach(self.instance)
        ring_quoter = self.bells.bell("quoter").ring
        if self.hand_back:
            ring_quoter = ring_and_wait(ring_quoter, self.bells.bell("feed"))
        self.ring_quoter = ring_quoter
        # The gateway's early ring goes out as a ticker frame arrives, before it is decoded: the
        # wake-up of the other core (an IPI; on the VM an exit to the host, 100-150 us from an idle
        # core) then overlaps the decode and the quoter's pass, and the futex call (~20 us) is not
        # between the market record and the quoter. Three probe pairs: approve hop 65-76 -> 42-44
        # us, quoter hop 88-99 -> 69-73 us (the ring's cost moves before the receive stamp).
        self.ring_gateway = self.bells.bell("gateway").ring if self.prewake else None
        self.state.set("md_stale", 1)
        self._connect()   # the first connection must work: a wrong URL fails the start

    def _connect(self) -> None:
        client = ThalexClient(self.url, timeout_s=self.timeout_s)
        try:
            client.frame_hook = self._on_frame
            self.decoder.reset_books()
            self.checks.forget_order()
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
        log.info("connected to %s, subscribed %s", self.url, ", ".join(self.channels))

    def on_close(self) -> None:
        if self.client is not None:
            self.client.close()
        self.ring_quoter = self.ring_gateway = None
        for ring in ("md_ring", "trades_ring", "state", "bells"):
            if hasattr(self, ring):
                getattr(self, ring).close()

    # ---- work ------------------------------------------------------------------------------
    def do_work(self) -> int:
        if self.client is None:
            if time.monotonic() >= self.next_connect_s:
                self._try_reconnect()
            else:
                time.sleep(min(self.wait_s, max(0.0, self.next_connect_s - time.monotonic())))
            self._check_stale(time.monotonic_ns())
            return 0
        try:
            handled = self.client.poll(self.wait_s)
        except ThalexConnectionError as exc:
            self._lost(str(exc))
            return 0
        # The clock after the poll, which may have waited up to wait_s: a stale record stamped
        # with the time before it looked that much older to the quoter (its md -> quote, 5.4 ms
        # where 0.1 ms was true, was the quoter hop's p99 in bin/mm-bench pipeline).
        self._check_stale(time.monotonic_ns())
        return handled

    def _on_frame(self, frame: bytes) -> bool:
        """Decode a notification into the rings; False hands replies back to the client."""
        if b'"channel_name"' not in frame:
            return False          # a reply (subscribe result, error): the client's business
        if self.ring_gateway is not None and b'"ticker.' in frame:
            self.ring_gateway()   # early: a ladder may follow (see on_start)
        d = self.decoder
        if d.decode(frame, time.monotonic_ns()):
            return True           # counted and logged by the decoder; never escapes
        kind = d.kind
        if kind == KIND_TICKER or kind == KIND_BOOK or kind == KIND_INDEX:
            md = self.md
            now = time.monotonic_ns()
            if self.checks.check_md(md, time.time_ns(), now):
                return True       # refused: counted and logged by the checks, never published
            md["publish_ts_ns"] = now
            self.md_ring.write(md)
            self.ring_quoter()
            iid = int(md["instrument_id"][0])
            if iid < len(self.last_md):
                self.last_md[iid] = md[0]
                self.last_good_ns[iid] = now
                if self.stale_flags[iid] >= 0:
                    self.stale_flags[iid] = -1
                    log.info("%s: market data flowing", self.instruments[iid].name)
                    self._update_stale_state()
            self.published += 1
        elif kind == KIND_TRADES:
            if d.count:
                self._write_trades(d.count)
            elif d.history:
                self.history_skipped += d.history
                log.info("recent_trades snapshot: %d past trades skipped (history, not new flow)",
                         d.history)
        return True

    def _write_trades(self, n: int) -> None:
        trades, check, wall_ns = self.trades, self.checks.check_trade, time.time_ns()
        kept = 0
        for i in range(n):
            if check(trades[i:i + 1], wall_ns) == 0:
                if kept != i:
                    trades[kept] = trades[i]
                kept += 1
        if kept:
            # No ring: trades only feed the quoter's estimators, read on its next pass; waking it
            # for each frame of a burst would take the core from the market record that matters.
            self.trades_ring.write_batch(trades[:kept])

    def _check_stale(self, now_ns: int) -> None:
        """Mark each instrument stale that had nothing publishable for ``stale_after_ns``."""
        for iid in range(len(self.last_md)):
            if now_ns - self.last_good_ns[iid] < self.stale_after_ns:
                continue
            flags = MD_FLAG_STALE | (MD_FLAG_IMPLAUSIBLE if self.checks.refused[iid] else 0)
            if self.stale_flags[iid] == flags:
                continue
            rec = self.last_md[iid:iid + 1].copy()   # the last good record stays as it was
            if not rec["type"][0]:
                if not self.checks.refused[iid]:
                    continue      # nothing ever arrived: there is nothing to pull yet
                rec["type"], rec["instrument_id"] = MD_TICKER, iid   # refused from the first record on
                rec["best_bid_price"] = rec["best_ask_price"] = rec["mark_price"] = np.nan
            rec["flags"] = int(rec["flags"][0]) | flags
            rec["receive_ts_ns"] = rec["publish_ts_ns"] = now_ns
            self.md_ring.write(rec)
            if self.ring_gateway is not None:
                self.ring_gateway()      # the quoter's pull follows
            self.ring_quoter()
            was_stale = self.stale_flags[iid] > 0
            self.stale_flags[iid] = flags
            if flags & MD_FLAG_IMPLAUSIBLE:
                log.warning("%s: nothing plausible for %.1fs (last refusal: %s): marking it stale",
                            self.instruments[iid].name, (now_ns - self.last_good_ns[iid]) / 1e9,
                            REASON_NAMES[self.checks.last_reason[iid]])
            elif not was_stale:
                log.warning("%s: no market data for %.1fs: marking it stale", self.instruments[iid].name,
                            (now_ns - self.last_good_ns[iid]) / 1e9)
            self._update_stale_state()

    def _update_stale_state(self) -> None:
        stale = any(f >= 0 for f in self.stale_flags)
        if stale != self.stale:
            self.stale = stale
            self.state.set("md_stale", int(stale))

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
        self.state.table["md_refused"][0] = self.checks.counts[1:]
