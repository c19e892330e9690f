"""The gateway's ladders: the newest set per instrument, checked, encoded and sent when tokens allow.

Ladders come from the quoter on ``quotes`` (and risk's pulls on ``orders``); they are coalesced
per instrument (only the newest matters) and each leaves as one ``private/mass_quote``; an
identical level keeps its queue priority on Thalex. Without mass quoting each ladder is kept as
single orders (ladder_orders.py). Right before a ladder leaves, a copy of it passes the pre-trade
checks (pretrade.py, kernels/pretrade.pyx); the quoter's own record is kept as it came, so that a
ladder held back while quoting was blocked (paused, HALTED, risk silent) can be checked and sent
again the moment the block lifts (``unblocked``), and every instrument we quote is pulled the
moment a block starts (``blocked``). The request is written from the record by
kernels/mass_quote.pyx and framed by kernels/ws_frame.pyx: no dicts, lists or JSON library on the
way. The matching-engine token bucket (venue/ratelimit.py) paces everything. A mass_quote in
flight counts as open until its reply (open_orders.py); a refused side becomes an EXEC_REJECT
(executions.py).

Every ladder that leaves adds a sample of how long after its market record it left (ns), kept
apart for fast cancels, and a row of per-hop times (shm/latency.py HOPS: feed, quoter, approve,
send, total). A ladder sent again (the block lifted, a protection group refilled) is counted in
``resends`` instead: its market record's age says how long quoting was held, not how fast we react.
"""
from __future__ import annotations

from collections import deque
import time

import numpy as np

from kernels.mass_quote import decimals_of, encode_mass_quote
from kernels.pretrade import ladder_totals
from venue.decode.account import QuoteError, mass_quote_errors
from venue.ids import order_id_hex
from shm import records as R
from procs.gateway.labels import label_for
from procs.gateway.trips import TripPulls, strip

HOP_SAMPLES = 1000


def urgent(q: np.ndarray) -> bool:
    """A pull or a fast cancel: it only removes risk, so it goes before any ladder."""
    return q["type"][0] != R.QUOTE_SET or bool(q["flags"][0] & R.QUOTE_FLAG_FAST_CANCEL)


def plain_ascii(name: str) -> bytes:
    """An instrument name as the encoder writes it: ASCII without quotes or backslashes."""
    if not (name.isascii() and name.isprintable()) or '"' in name or "\\" in name:
        raise ValueError(f"instrument name {name!r}: expected plain ASCII without quotes or backslashes")
    return name.encode()


class Quoting(TripPulls):
    def __init__(self, instruments, mass_quote: bool, limits, ladders, open_orders, reject, mmp, pretrade):
        """
        instruments  our Instrument list (id = index)
        mass_quote   True: one private/mass_quote per ladder; False: single orders (``ladders``)
        limits       ThalexLimits shared by everything the connection sends
        ladders      instrument id -> LadderOrders (used without mass quoting)
        open_orders  OpenOrders (a mass_quote in flight is counted there until answered)
        reject       Executions.reject(iid, code, text) for refused quote sides
        mmp          MmpRefills: no ladder for a product whose protection group is exhausted
        pretrade     PreTrade: the checks every ladder passes right before it leaves
        """
        self.instruments, self.mass_quote, self.limits = instruments, mass_quote, limits
        self.ladders, self.open_orders, self.reject, self.mmp = ladders, open_orders, reject, mmp
        self.pretrade = pretrade
        self.names = [plain_ascii(i.name) for i in instruments]
        self.decimals = [(decimals_of(i.tick_size), decimals_of(i.amount_tick)) for i in instruments]
        self.desired: dict[int, np.ndarray] = {}    # newest set (or PULL) per instrument, unsent
        self.latest: dict[int, np.ndarray] = {}     # the quoter's newest ladder, as it came
        self.last_sent: dict[int, np.ndarray] = {}
        self.pulled: dict[int, bool] = {}           # the last mass quote sent was a PULL
        self.checked = np.zeros(1, R.QUOTE_DTYPE)   # the copy that is checked and sent
        self.checked_bytes = self.checked.view(np.uint8)   # copied into as bytes (module doc of shm.records.copy_record)
        self.scratch = np.zeros(1, R.QUOTE_DTYPE)   # rehearse()'s copy
        self.scratch_bytes = self.scratch.view(np.uint8)
        self.send_lat: deque[int] = deque(maxlen=1000)     # market record received -> ladder sent, ns
        self.fast_lat: deque[int] = deque(maxlen=1000)     # the same for fast cancels
        self.hops: deque[tuple] = deque(maxlen=HOP_SAMPLES)       # shm/latency.py HOPS, ns
        self.fast_hops: deque[tuple] = deque(maxlen=HOP_SAMPLES)
        self.fast_sends = 0
        self.sent = 0
        self.histogram = None    # shm.histogram.LatencyHistogram of md -> send (every ladder that leaves), or None
        self.token_wait = None   # the same for the wait for an order token (ladders that waited)
        self.waiting_since: dict[int, int] = {}     # instrument -> when its ladder first found no token
        self.cancelling: set[int] = set()           # order ids sent a cancel, not answered yet
        self.pulls_by_cancel = 0
        self.resend: set[int] = set()               # instruments whose wanted ladder is a resend
        self.resends = 0                            # ladders sent again (unblocked, protection refilled)
        self.blocked_since_ns = 0                   # when the last block began (monotonic ns)
        self.live_sides: dict[int, int] = {}        # sides (1 bids, 2 asks) the last mass quote sent left quoted
        self.init_trips()                           # trips.py: the tripwire's state

    def want(self, iid: int, q: np.ndarray) -> None:
        """Risk's newest record for instrument ``iid`` (a PULL on HALTED); a copy is kept."""
        self.desired[iid] = R.copy_record(q)
        self.resend.discard(iid)

    def want_ladder(self, iid: int, q: np.ndarray) -> None:
        """The quoter's newest ladder (or PULL) of instrument ``iid``; a copy is kept. A fast
        cancel not sent yet stays one: the ladder replacing it keeps its flag and its stamps, so
        the pull is counted (and timed) from the market record that triggered it."""
        new = R.copy_record(q)
        old = self.desired.get(iid)
        if self.tripwire is not None:
            self.sigma_due = True     # passed on off the path (pass_sigma)
        if old is not None and old["flags"][0] & R.QUOTE_FLAG_FAST_CANCEL and (
                old is self.latest.get(iid) or iid in self.tripping):
            new["flags"] |= R.QUOTE_FLAG_FAST_CANCEL
            for stamp in ("md_receive_ts_ns", "md_publish_ts_ns", "md_exchange_ts_ns", "created_ts_ns"):
                new[stamp] = old[stamp]
        self.desired[iid] = self.latest[iid] = new
        self.resend.discard(iid)

    def blocked(self, block: int) -> None:
        """Quoting was just blocked (``block``: RISK_* bits): pull every instrument we quoted."""
        self.blocked_since_ns = time.monotonic_ns()
        for iid in self.last_sent:
            pull = np.zeros(1, R.QUOTE_DTYPE)
            pull["type"], pull["instrument_id"], pull["reason"] = R.QUOTE_PULL, iid, block
            pull["created_ts_ns"] = time.monotonic_ns()
            self.desired[iid] = pull

    def unblocked(self) -> None:
        """The block lifted: the quoter's newest ladders go out again (checked as they leave); in
        a quiet market the quoter has nothing new to publish."""
        for iid, q in self.latest.items():
            self.desired[iid] = q
            if int(q["created_ts_ns"][0]) < self.blocked_since_ns:   # held through the block
                self.resend.add(iid)

    def send_ready(self, client, now: int) -> None:
        """Send what is desired while the token bucket allows (``now``: monotonic ns). Pulls and
        fast cancels first; one that finds no order token takes the exposed side down with
        cancels from the cancel bucket (``_pull_by_cancels``), never waiting for an order token."""
        desired, tripwire = self.desired, self.tripwire
        order = list(desired)
        if len(order) > 1:
            order.sort(key=lambda i: not urgent(desired[i]))
        for iid in order:
            q = desired[iid]
            if not self.mass_quote:
                checked = self.checked
                self.checked_bytes[:] = q.view(np.uint8)
                self.pretrade.check(checked, iid)
                held = tripwire.holding(iid) if tripwire is not None else 0
                if held and strip(checked, held):    # while a trip holds: a ladder priced before the jump, too
                    self.stripped.add(iid)
                approved = time.monotonic_ns()
                ts = int(checked["md_exchange_ts_ns"][0])
                if self.ladders[iid].apply(client, checked, label_for(ts) if ts else None, now):
                    del desired[iid]
                    self.last_sent[iid] = q
                    self._note_sent(checked, approved, time.monotonic_ns(), iid)
                else:
                    self.waiting_since.setdefault(iid, now)
                continue
            if self.mmp.exhausted(self.instruments[iid].product) and q["type"][0] == R.QUOTE_SET:
                continue   # its protection group is exhausted: quotes would be refused until refilled
            checked = self.checked
            self.checked_bytes[:] = q.view(np.uint8)
            self.pretrade.check(checked, iid)
            held = tripwire.holding(iid) if tripwire is not None else 0
            if held and strip(checked, held):    # while a trip holds: a ladder priced before the jump, too
                self.stripped.add(iid)
            approved = time.monotonic_ns()
            pull = checked["type"][0] != R.QUOTE_SET
            if pull and self.pulled.get(iid):
                del desired[iid]    # pulled already, and nothing was quoted since
                self.waiting_since.pop(iid, None)
                continue
            if not self.limits.try_order(now):
                if urgent(checked) and self._pull_by_cancels(client, iid, now) and pull:
                    del desired[iid]
                    self.last_sent[iid] = q
                    self.pulled[iid] = True
                    self._note_sent(checked, approved, time.monotonic_ns(), iid)
                else:
                    self.waiting_since.setdefault(iid, now)
                continue
            del desired[iid]
            self.last_sent[iid] = q
            self.pulled[iid] = pull
            self._send_quote(client, iid, approved)

    def rehearse(self) -> None:
        """Go through the latency path of the quoter's newest ladder without sending it: the check
        and the encoding on a scratch copy. Run while idle, it keeps that code and its data in the
        caches: a ladder that comes after 20 ms of sleep otherwise runs it cold, ~3x slower on the
        VM (want -> checked ~87 us p50 cold)."""
        for iid, q in self.latest.items():
            scratch = self.scratch
            self.scratch_bytes[:] = q.view(np.uint8)
            self.pretrade.check(scratch, iid, rehearsal=True)
            pd, ad = self.decimals[iid]
            encode_mass_quote(scratch, 0, self.names[iid], pd, ad, b"")
            return

    def _pull_by_cancels(self, client, iid: int, now: int) -> bool:
        """Cancel, from the cancel bucket, every order of instrument ``iid`` resting on a side the
        checked record quotes nothing on (a PULL: both). True when every such order was sent a
        cancel. An order of a mass quote still in flight is not known yet: the record stays
        wanted (a fast cancel) or pulled (a PULL), and the next mass quote replaces it."""
        r = self.checked[0]
        empty = (int(r["n_bids"]) == 0) | (int(r["n_asks"]) == 0) << 1
        if r["type"] != R.QUOTE_SET:
            empty = 3
        sent = self._cancel_sides(client, iid, empty, now)
        if sent:
            self.live_sides[iid] = self.live_sides.get(iid, 0) & ~empty
        return sent

    def _cancel_sides(self, client, iid: int, sides: int, now: int) -> bool:
        """Cancel every known order of instrument ``iid`` on ``sides`` (1 bids, 2 asks, 3 both)
        from the cancel bucket; True when every one was sent a cancel."""
        bids, asks = bool(sides & 1), bool(sides & 2)
        sent, n = True, 0
        for oid, (i, side, _) in list(self.open_orders.live.items()):
            if i != iid or not (bids if side > 0 else asks) or oid in self.cancelling:
                continue
            if not self.limits.try_cancel(now):
                sent = False
                break
            self.cancelling.add(oid)
            client.cancel(order_id=order_id_hex(oid), wait=False,
                          callback=lambda result, error, oid=oid: self.cancelling.discard(oid))
            n += 1
        self.pulls_by_cancel += n > 0
        return sent

    def _send_quote(self, client, iid: int, approved: int) -> None:
        """Encode the checked copy and send it."""
        checked = self.checked
        ts = int(checked["md_exchange_ts_ns"][0])
        rid = client.next_id()
        pd, ad = self.decimals[iid]
        payload = encode_mass_quote(checked, rid, self.names[iid], pd, ad,
                                    label_for(ts).encode() if ts else b"")
        # Until the exchange answers, the new ladder may be live beside fills of the old one.
        self.open_orders.inflight[iid] = ladder_totals(checked)
        client.send_encoded(rid, "private/mass_quote", payload,
                            lambda result, error, iid=iid: self._quote_reply(iid, result, error))
        sent = time.monotonic_ns()
        r = checked[0]
        self.live_sides[iid] = 0 if r["type"] != R.QUOTE_SET else int(r["n_bids"] > 0) | int(r["n_asks"] > 0) << 1
        self._note_sent(checked, approved, sent, iid)
        self.open_orders.publish()

    def _note_sent(self, q: np.ndarray, approved: int, sent: int, iid: int) -> None:
        """Count a ladder that left, how long after its market record it left, its hops and how
        long it waited for an order token (only one that waited)."""
        r = q[0]
        self.sent += 1
        queued_trip = iid in self.tripping     # this is our own trip's pull (single orders)
        self.tripping.discard(iid)
        if iid in self.resend:
            # Sent again after a block or a protection refill: how old the market record is says
            # how long quoting was held, not how fast we react; counted apart.
            self.resend.discard(iid)
            self.resends += 1
            self.waiting_since.pop(iid, None)
            return
        waited = self.waiting_since.pop(iid, None)
        if waited is not None and self.token_wait is not None:
            self.token_wait.observe(sent - waited)
        received = int(r["md_receive_ts_ns"])
        if received:
            fast = bool(r["flags"] & R.QUOTE_FLAG_FAST_CANCEL)
            if fast and not queued_trip and self.tripwire is not None and self._follows_trip(iid, r):
                fast = False
                self.followups += 1
            (self.fast_lat if fast else self.send_lat).append(sent - received)
            published, created = int(r["md_publish_ts_ns"]), int(r["created_ts_ns"])
            if published and created:
                (self.fast_hops if fast else self.hops).append(
                    (published - received, created - published, approved - created, sent - approved,
                     sent - received))
            if self.histogram is not None:
                self.histogram.observe(sent - received)
            self.fast_sends += fast   # after the send: the exposure it adds is booked before risk's next look

    def _quote_reply(self, iid: int, result, error) -> None:
        self.open_orders.inflight.pop(iid, None)
        self.open_orders.publish()
        self._refused(iid, result, error, "mass_quote")

    def _refused(self, iid: int, result, error, what: str) -> bool:
        """The exchange's answer to a mass quote of instrument ``iid``: an error, or a side it
        refused (or an answer we cannot read), becomes a reject (executions.py); True if any."""
        if error is not None:
            self.reject(iid, error.code, f"{what}: {error}")
            return True
        self.limits.on_accepted()
        try:
            errors = mass_quote_errors(result)
        except ValueError as exc:
            errors = [QuoteError(0, str(exc))]
        for err in errors:
            self.reject(iid, err.code, f"{what} side {err.side} price {err.price}: {err.message}")
        return bool(errors)

    def forget_resting(self) -> None:
        """After a cancel-all or a reconnect nothing of ours rests: the single-order ladders start
        empty (the next ladder is inserted from scratch)."""
        for ladder in self.ladders.values():
            ladder.clear()
        self.cancelling.clear()
        self.live_sides.clear()

    def resend_group(self, product: str) -> None:
        """A refilled protection group: send the newest ladder of each of its instruments again."""
        for inst in self.instruments:
            if inst.product != product:
                continue
            if inst.id in self.desired:
                self.resend.add(inst.id)         # held through the exhaustion: its age is the hold
            elif inst.id in self.last_sent:
                self.desired[inst.id] = self.last_sent[inst.id]
                self.resend.add(inst.id)
