"""What the gateway's Quoting does for its tripwire (tripwire.pyx): the one-sided pull of a jump.

``TripPulls`` is a part of procs/gateway/quoting.py's Quoting kept apart (Quoting inherits it and
shares its state: the ladders wanted, sent and latest, the open sides, the rate limits, the
latency samples). A trip sends at once one ``private/mass_quote`` naming only the exposed side
(an empty array): Thalex leaves a side it is not given as it is (thalex-openapi.json, mass_quote
``quotes``), so the other side keeps its orders and their queue priority. A pull needs no
pre-trade check; without an order token the side goes by cancels from the cancel bucket. While a
trip holds, Quoting strips the side off every ladder as it leaves (``strip``); when it settles, a
ladder stripped meanwhile goes out again whole (``settled``). Without mass quoting the newest
ladder, stripped, is queued ahead of the rest instead (``_queue_trip``).
"""
from __future__ import annotations

import time

import numpy as np

from procs.gateway.labels import label_for
from shm import records as R


def _quotes_pulled_side(q: np.ndarray, pulls: int) -> bool:
    """Does QuoteSet ``q`` quote a side that GUARD_PULL_* ``pulls`` takes down (1 bids, 2 asks, 3 both)?"""
    return bool((pulls & 1 and q["n_bids"][0]) or (pulls & 2 and q["n_asks"][0]))


def side_pull_request(name: bytes, sides: int, rid: int, label: str) -> bytes:
    """The ``private/mass_quote`` request that removes every quote of instrument ``name`` on
    ``sides`` (1 bids, 2 asks, 3 both: an empty array each) and leaves the other side alone (not
    given); ``label`` ties it to the ticker it reacts to (none: b"")."""
    quote = b'{"i":"%s"%s%s}' % (name, b',"b":[]' if sides & 1 else b"", b',"a":[]' if sides & 2 else b"")
    labelled = b',"label":"%s"' % label.encode() if label else b""
    return b'{"method":"private/mass_quote","params":{"quotes":[%s]%s,"post_only":true},"id":%d}' % (
        quote, labelled, rid)


def strip(q: np.ndarray, pulls: int) -> bool:
    """Take the side(s) GUARD_PULL_* ``pulls`` names off QuoteSet ``q``, in place; True when a
    side with levels was taken off."""
    took = False
    if pulls & 1 and q["n_bids"][0]:
        q["n_bids"], took = 0, True
    if pulls & 2 and q["n_asks"][0]:
        q["n_asks"], took = 0, True
    return took


class TripPulls:
    def init_trips(self) -> None:
        self.tripwire = None      # procs/gateway/tripwire.pyx Tripwire: our own fast cancels, or None
        self.tripping: set[int] = set()             # single orders: instruments whose trip is queued, unsent
        self.sigma_due = False        # a ladder came whose sigma the tripwire has not taken yet
        self.stripped: set[int] = set()             # instruments a ladder left without a side a trip held
        self.trip_pulls = 0                          # tripwire pulls sent or queued (a side that was quoted)
        self.followups = 0        # the quoter's fast cancels that came after our trip had pulled the side

    def _follows_trip(self, iid: int, r) -> bool:
        """Is record ``r`` (sent for instrument ``iid``, flagged a fast cancel) the quoter's pull
        of sides our tripwire pulled already? Then it is a ladder following the market, not the
        pull: counted as a ladder (``followups``), so the fast-cancel figures time the first pull
        of each jump. Asked after the send, off the path."""
        held = self.tripwire.holding(iid)
        return bool(held) and (int(r["n_bids"]) > 0 or held & 1) and (int(r["n_asks"]) > 0 or held & 2)

    def settled(self, iid: int) -> bool:
        """Our trip of instrument ``iid`` settled. A ladder we stripped while it held goes out
        again whole: the quoter's guard may have settled a record before ours, and a quiet
        market gives it nothing new to publish (counted in ``resends``: its market record's age
        is how long the side was held, not a reaction time)."""
        if iid not in self.stripped:
            return False
        self.stripped.discard(iid)
        q = self.latest.get(iid)
        if q is None or iid in self.desired or q["type"][0] != R.QUOTE_SET:
            return False
        self.desired[iid] = q
        self.resend.add(iid)
        return True

    def pass_sigma(self) -> None:
        """The quoter's newest sigma per instrument (USD/sqrt(s), carried by its ladders) to the
        tripwire's threshold. Called between passes' slow work (~every ms), not per ladder: the
        copy out of the record costs a few us cold, and sigma moves slowly."""
        self.sigma_due = False
        for iid, q in self.latest.items():
            sigma = float(q["sigma"][0])
            if sigma > 0.0:
                self.tripwire.set_sigma(iid, sigma)

    def trip(self, client, tw, now: int) -> bool:
        """Our tripwire fired (``tw``: procs/gateway/tripwire.pyx Tripwire; its ``iid``, ``state``
        (GUARD_PULL_*) and the stamps of the record that tripped it): the side(s) it exposes that
        rest (or are on their way) go at once, as one mass quote naming only those sides (the
        exchange leaves a side it is not given as it is: thalex-openapi.json, mass_quote
        ``quotes``), ahead of everything else in the pass. A pull only removes risk: no pre-trade
        check, and with no order token left the side goes by cancels from the cancel bucket.
        Without mass quoting the newest ladder, stripped of the side, is queued ahead of the
        rest instead (``_queue_trip``). True when something was sent or queued."""
        iid, pulls = tw.iid, tw.state
        if not self.mass_quote:
            return self._queue_trip(iid, pulls, tw, now)
        exposed = self.live_sides.get(iid, 0) & pulls
        if not exposed or client is None:
            return False
        if self.limits.try_order(now):
            rid = client.next_id()
            ts = tw.exchange_ns
            client.send_encoded(rid, "private/mass_quote",
                                side_pull_request(self.names[iid], exposed, rid, label_for(ts) if ts else ""),
                                lambda result, error, iid=iid, sides=exposed: self._pull_reply(iid, sides, result, error))
        elif not self._cancel_sides(client, iid, exposed, now):
            return False     # not one cancel could go: the held strip takes the side off the next ladder
        sent = time.monotonic_ns()
        self.live_sides[iid] &= ~exposed
        self.sent += 1
        self.trip_pulls += 1
        self.fast_sends += 1
        received, published = tw.receive_ns, tw.publish_ns
        self.fast_lat.append(sent - received)
        # No approval: the approve hop is zero; "quoter" is our own pick-up of the record.
        self.fast_hops.append((published - received, now - published, 0, sent - now, sent - received))
        if self.histogram is not None:
            self.histogram.observe(sent - received)
        return True

    def _pull_reply(self, iid: int, sides: int, result, error) -> None:
        """The exchange's answer to a tripwire pull: a refused side may still rest (counted as
        live again, so the next trip pulls it again; the held strip keeps it off every ladder)."""
        if self._refused(iid, result, error, "mass_quote pull"):
            self.live_sides[iid] = self.live_sides.get(iid, 0) | sides

    def _queue_trip(self, iid: int, pulls: int, tw, now: int) -> bool:
        """Single orders: the newest ladder (wanted or sent), stripped of the side(s) at its
        check (``_strip``), goes ahead of any ladder, timed and labelled from the record that
        tripped. Nothing when no side we quote is exposed, or when a PULL is wanted already."""
        desired, sent = self.desired.get(iid), self.last_sent.get(iid)
        if desired is not None and desired["type"][0] != R.QUOTE_SET:
            return False
        if not any(r is not None and r["type"][0] == R.QUOTE_SET and _quotes_pulled_side(r, pulls)
                   for r in (desired, sent)):
            return False
        new = R.copy_record(desired if desired is not None else sent)
        new["flags"] |= R.QUOTE_FLAG_FAST_CANCEL
        new["md_receive_ts_ns"], new["md_publish_ts_ns"] = tw.receive_ns, tw.publish_ns
        new["md_exchange_ts_ns"], new["created_ts_ns"] = tw.exchange_ns, now
        self.desired[iid] = new
        self.tripping.add(iid)
        self.resend.discard(iid)
        self.trip_pulls += 1
        return True

