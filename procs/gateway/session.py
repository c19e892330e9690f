"""The gateway's private connection: connect, log in, protect, reconcile, reconnect.

On every (re)connect: login, ``set_cancel_on_disconnect`` (the exchange pulls our quotes if we
go silent), ``set_mm_protection`` per product, ``session.orders`` and trade history
subscriptions, then reconciliation before quoting again (``reconcile``): every leftover order of
the account is cancelled, and the replay (replay.py) brings risk the trades we may have missed
and the exchange's positions, closed by an EXEC_RECONCILED marker; no ladder is sent before it
(ladders approved meanwhile are dropped: risk sends its newest again once it has read the
marker). The same reconciliation runs when an execution could not be read (executions.py calls
``invalid_execution``), at most every MIN_RECONCILE_INTERVAL_S.

A lost connection leaves the quotes to cancel-on-disconnect and retries on the one reconnect
policy (runtime/reconnect.py, from [venue]). A tripped protection group (MmpRefills) is refilled after
MMP_REFILL_S, and its newest ladders are sent again. ``cancel_everything`` (operator kill,
supervisor cancel before a restart) pulls the mass quotes and every order at once.
"""
from __future__ import annotations

import logging
import time

from shm import records as R
from venue.client import ThalexClient
from venue.subscriptions import subscribe_checked
from venue.errors import ThalexConnectionError, ThalexError

log = logging.getLogger("gateway")
MMP_REFILL_S = 1.0
MIN_RECONCILE_INTERVAL_S = 2.0   # a burst of unreadable executions costs one reconciliation


class MmpRefills:
    """Protection groups (products) that tripped, each with the monotonic time to refill it."""

    def __init__(self, refill_after_s: float = MMP_REFILL_S):
        self.refill_after_s = refill_after_s
        self.due: dict[str, float] = {}

    def trip(self, product: str) -> None:
        """A group ran out: its quotes are gone; refill it after a pause (a burst of fills is
        exactly when quoting again at once is least wise)."""
        log.warning("market-maker protection tripped on %s: refilling in %.1fs", product, self.refill_after_s)
        self.due[product] = time.monotonic() + self.refill_after_s

    def exhausted(self, product: str) -> bool:
        return product in self.due

    def clear(self) -> None:
        self.due.clear()


class Session:
    def __init__(self, url: str, key_id: str, private_key, account: str, timeout_s: float,
                 reconnect, conf, instruments, limits, state, executions, open_orders,
                 quoting, exits, mmp: MmpRefills, replay=None, mmp_amounts: dict | None = None):
        """
        url, key_id, private_key, account   where and as whom to log in ("" account: the key's own)
        timeout_s        bound on connecting and on every blocking call, s
        reconnect        the ReconnectPolicy (runtime/reconnect.py)
        conf             the gateway section (cancel_on_disconnect_s, mass_quote, mmp amounts)
        limits           ThalexLimits (non-persistent rate after cancel-on-disconnect)
        state            SharedState (``connected``)
        executions, open_orders, quoting, exits   what a reconnect or a cancel-all resets
        mmp              MmpRefills
        replay           Replay (replay.py): trades and positions onto ``exec`` after each reconcile
        mmp_amounts      product -> (trade_amount, quote_amount) contracts, per protection group
                         ([products."NAME"]); a product absent here takes conf's mmp amounts
        """
        self.url, self.key_id, self.private_key, self.account = url, key_id, private_key, account
        self.timeout_s, self.reconnect = timeout_s, reconnect
        self.conf, self.instruments, self.limits, self.state = conf, instruments, limits, state
        self.executions, self.open_orders, self.quoting, self.exits = executions, open_orders, quoting, exits
        self.mmp, self.replay = mmp, replay
        self.mmp_amounts = dict(mmp_amounts or {})
        self.reconcile_due = False       # an execution could not be read: reconcile when allowed
        self.next_reconcile_s = 0.0
        self.client: ThalexClient | None = None
        self.next_connect_s = 0.0
        self.connects = 0

    # ---- connecting --------------------------------------------------------------------------
    def connect(self) -> None:
        client = ThalexClient(self.url, timeout_s=self.timeout_s, ping_interval_s=self.conf.ping_interval_s)
        try:
            client.frame_hook = self.executions.on_frame
            client.login(self.key_id, self.private_key, self.account or None)
            now = time.monotonic_ns()
            rate = client.set_cancel_on_disconnect(self.conf.cancel_on_disconnect_s)
            # The exchange's message_rate may only lower our configured pace (venue/ratelimit.py).
            self.limits.set_cancel_on_disconnect(now, (rate or {}).get("message_rate"))
            self.client = client
            self.subscribe(client)
            self.reconcile()
        except BaseException:
            client.close()
            self.client = None
            raise
        self.connects += 1
        self.reconnect.reset()
        self.state.set("connected", 1)
        log.info("connected to %s (connection %d)", self.url, self.connects)

    def arm_mmp(self) -> None:
        """Configure market-maker protection for every product we quote. Needed after every
        connect and after every cancel_mass_quote, which resets the groups (THALEX_API.md 5)."""
        if self.conf.mass_quote:
            for product in sorted({i.product for i in self.instruments}):
                self.client.set_mm_protection(product, *self.protection(product))
        self.mmp.clear()

    def protection(self, product: str) -> tuple[float, float]:
        """(trade_amount, quote_amount) of protection group ``product``, contracts."""
        return self.mmp_amounts.get(product, (self.conf.mmp_trade_amount, self.conf.mmp_quote_amount))

    def subscribe(self, client: ThalexClient) -> None:
        """Subscribe and check the answer (it succeeds even when channels were refused). Without
        session.orders we cannot see our orders, without session.mm_protection (mass quoting) we
        would never refill a tripped group: a SubscriptionError names them and stops this
        connection. The trade history only corrects fees: its absence is logged."""
        channels = ["session.orders", "account.trade_history"]
        required = ["session.orders"]
        if self.conf.mass_quote:
            channels.append("session.mm_protection")
            required.append("session.mm_protection")
        missing = subscribe_checked(client.private_subscribe, "private/subscribe", channels, required)
        if missing:
            log.error("private/subscribe left out %s: going on without", ", ".join(missing))

    def reconcile(self) -> int:
        """Leftover orders of the account cancelled (and market-maker protection armed, which
        cancel_mass_quote resets), then the replay of trades and positions, holding every ladder
        back until its marker; returns the records the replay published so far."""
        self.reconcile_due = False
        self.next_reconcile_s = time.monotonic() + MIN_RECONCILE_INTERVAL_S
        self.open_orders.live.clear()
        self.cancel_all_orders()
        self.arm_mmp()
        self.open_orders.publish()
        return self.replay.request(self.client, hold_quoting=True)

    def invalid_execution(self) -> None:
        """An execution could not be read (Executions.on_invalid): we may have lost a fill or an
        order update. Reconcile soon (not now: this runs inside the client's receive loop)."""
        self.reconcile_due = True

    def reconcile_if_due(self) -> int:
        if self.reconcile_due and self.client is not None and time.monotonic() >= self.next_reconcile_s:
            log.warning("reconciling with the exchange after an execution that could not be read")
            return 1 + self.reconcile()
        return 0

    def replay_done(self) -> None:
        """The marker of a replay that held ladders back is out: what was approved before it is
        dropped (risk approved it on the books before the replay and sends its newest ladders
        again once it has read the marker); pulls stay."""
        desired = self.quoting.desired
        for iid in [iid for iid, q in desired.items() if q["type"][0] == R.QUOTE_SET]:
            del desired[iid]

    def refill_mmp(self) -> None:
        """Refill the protection groups that are due, and resend their newest ladders."""
        now = time.monotonic()
        for product, due in list(self.mmp.due.items()):
            if now >= due:
                del self.mmp.due[product]
                self.client.set_mm_protection(product, *self.protection(product), wait=False)
                self.quoting.resend_group(product)

    def cancel_everything(self, why: str) -> None:
        log.warning("cancelling every order (%s)", why)
        self.quoting.desired.clear()
        # A kill leaves nothing resting; a restart's cancel re-places the take-profits.
        n = self.cancel_all_orders(replace_exits=why != "kill request")
        log.info("cancel_all removed %s orders", n)
        self.arm_mmp()

    def cancel_all_orders(self, timeout_s: float | None = None, replace_exits: bool = True):
        """The one cancel-all (stop, kill, restart, reconnect): the account's mass quotes (when we
        mass-quote: an account that may not would refuse the call), then every order; what we knew
        rests is forgotten. Returns cancel_all's count. cancel_mass_quote resets the MMP groups: a
        caller that quotes on re-arms them (``arm_mmp``)."""
        if self.conf.mass_quote:
            self.client.cancel_mass_quote(timeout_s=timeout_s)
        n = self.client.cancel_all(timeout_s=timeout_s)
        self.quoting.forget_resting()
        self.exits.forget_resting(replace=replace_exits)
        return n

    # ---- losing it ---------------------------------------------------------------------------
    def lost(self, why: str) -> None:
        delay_s = self.reconnect.next_delay_s()
        log.error("private connection lost (%s): the exchange cancels our quotes "
                  "(cancel-on-disconnect); reconnecting in %.2fs", why, delay_s)
        if self.client is not None:
            self.client.close()
        self.client = None
        self.open_orders.forget_all()
        self.state.set("connected", 0)
        self.open_orders.publish()
        self.next_connect_s = time.monotonic() + delay_s

    def reconnect_due(self) -> bool:
        return time.monotonic() >= self.next_connect_s

    def try_reconnect(self) -> None:
        try:
            self.connect()
        except (ThalexConnectionError, ThalexError, TimeoutError, OSError, ValueError) as exc:
            self.client = None
            delay_s = self.reconnect.next_delay_s()
            self.next_connect_s = time.monotonic() + delay_s
            log.warning("reconnect failed (%s); next try in %.2fs", exc, delay_s)

    def close(self) -> None:
        """Leave nothing resting when we stop on purpose, then close the socket."""
        if self.client is not None:
            try:
                self.cancel_all_orders(timeout_s=2.0)
            except (ThalexError, ThalexConnectionError, TimeoutError):
                pass
            self.client.close()
            self.client = None
