"""Who hears what: routes engine events to private channels, publishes market data each step,
and sends the snapshot that opens each stateful subscription."""
from __future__ import annotations

import time
from collections import defaultdict

from .channels import trade_matches
from .feeds import book_changes
from .latency import label_for

MARKET_KINDS = ("ticker", "lwt", "book", "price_index")
SUMMARY_PERIOD_S = 1.0
PORTFOLIO_MARK_MOVE = 0.01


class Publisher:
    def __init__(self, app):
        self.app = app
        self.last_summary = 0.0

    # ---------------------------------------------------------------- engine events
    def route(self, events: list[tuple]) -> None:
        """Send each event to its subscribers, one notification per (connection, channel)."""
        if not events:
            return
        app = self.app
        batches: dict = defaultdict(list)          # (conn, channel) -> payload items
        portfolio_lines: dict = defaultdict(set)   # conn -> instrument names
        conditional_accounts: dict = {}            # account number -> account
        by_account = defaultdict(list)
        for conn in app.connections:
            if conn.session.account is not None:
                by_account[conn.session.account.account_number].append(conn)
        for event in events:
            kind = event[0]
            if kind == "order":
                _, session, account, status = event
                conn = app.conn_of(session)
                if conn is not None and "session.orders" in session.subscriptions:
                    batches[(conn, "session.orders")].append(status)
                for c in by_account[account.account_number]:
                    subs = c.session.subscriptions
                    if "account.orders" in subs:
                        batches[(c, "account.orders")].append(status)
                    if status["persistent"] and "account.persistent_orders" in subs:
                        batches[(c, "account.persistent_orders")].append(status)
            elif kind == "trade":
                for c in by_account[event[1].account_number]:
                    if "account.trade_history" in c.session.subscriptions:
                        batches[(c, "account.trade_history")].append(event[2])
            elif kind == "portfolio":
                for c in by_account[event[1].account_number]:
                    if "account.portfolio" in c.session.subscriptions:
                        portfolio_lines[c].add(event[2])
            elif kind == "mmp":
                conn = app.conn_of(event[1])
                if conn is not None and "session.mm_protection" in event[1].subscriptions:
                    batches[(conn, "session.mm_protection")].extend(event[2])
            elif kind == "public_trade":
                self._public_trade(event[1], event[2], batches)
            elif kind == "conditional":
                conditional_accounts[event[1].account_number] = event[1]
        for (conn, channel), items in batches.items():
            conn.notify(channel, items)
        for number, account in conditional_accounts.items():   # the full list, once per account
            for c in by_account[number]:
                if "account.conditional_orders" in c.session.subscriptions:
                    c.notify("account.conditional_orders", app.conditional.listed(account))
        for conn, names in portfolio_lines.items():
            self.send_portfolio(conn, names)

    def _public_trade(self, name: str, row: list, batches) -> None:
        underlying = self.app.engine.instruments[name].underlying
        for conn in self.app.connections:
            for ch in conn.session.subscriptions.values():
                if ch.kind == "recent_trades" and trade_matches(ch, name, underlying):
                    batches[(conn, ch.name)].append(row)
                elif ch.kind == "book" and ch.target == name:
                    ch.pending_trades.append([row[0], row[1], row[2], row[3], False])

    def send_portfolio(self, conn, names=None) -> None:
        account = conn.session.account
        ch = conn.session.subscriptions.get("account.portfolio")
        if ch is None or account is None:
            return
        lines = self.app.portfolio(account, names, include_flat=names is not None)
        for line in lines:
            ch.sent_marks[line["instrument_name"]] = line["mark_price"]
        if lines or names is None:
            conn.notify("account.portfolio", lines, snapshot=names is None)

    # ---------------------------------------------------------------- per market step
    def market_step(self) -> None:
        app = self.app
        now = time.monotonic()
        cache: dict = {}
        stalled = app.faults.feed_stalled()
        for conn in list(app.connections):
            for ch in list(conn.session.subscriptions.values()):
                if ch.kind in MARKET_KINDS and not stalled and now - ch.last_sent >= ch.delay_s - 0.005:
                    self._market(conn, ch, cache, now)
        if now - self.last_summary >= SUMMARY_PERIOD_S:
            self.last_summary = now
            for conn in list(app.connections):
                subs = conn.session.subscriptions
                if "account.summary" in subs and conn.session.account is not None:
                    conn.notify("account.summary", app.summary(conn.session.account))
                if "account.portfolio" in subs:
                    self._portfolio_marks(conn, subs["account.portfolio"])

    def _market(self, conn, ch, cache, now) -> None:
        feeds = self.app.feeds
        if ch.kind == "book":
            bids, asks = feeds.book_levels(ch.target, ch.grouping, ch.depth)
            changes_b = book_changes(ch.book_state[0], bids)
            changes_a = book_changes(ch.book_state[1], asks)
            if not (changes_b or changes_a or ch.pending_trades):
                return
            ch.book_state = (bids, asks)
            conn.notify(ch.name, self._book_payload(changes_b, changes_a, bids, asks, ch))
            ch.last_sent = now
            return
        key = (ch.kind, ch.target)
        if key not in cache:
            cache[key] = (feeds.ticker(ch.target) if ch.kind == "ticker" else
                          feeds.lwt(ch.target) if ch.kind == "lwt" else feeds.index(ch.target))
        payload = cache[key]
        if ch.kind == "ticker":
            label = label_for(payload["mark_timestamp"])
            probe = self.app.latency
            conn.notify(ch.name, payload, on_send=lambda: probe.ticker_sent(label, time.monotonic_ns()))
        else:
            conn.notify(ch.name, payload)
        ch.last_sent = now

    @staticmethod
    def _book_payload(changes_b, changes_a, bids, asks, ch) -> dict:
        trades, ch.pending_trades = ch.pending_trades, []
        return {"bid_changes": changes_b, "ask_changes": changes_a, "trades": trades,
                "total_bid_amount": round(sum(bids.values()), 8),
                "total_ask_amount": round(sum(asks.values()), 8), "time": time.time()}

    def _portfolio_marks(self, conn, ch) -> None:
        """Re-send portfolio lines whose mark moved more than 1 % since they were last sent."""
        account = conn.session.account
        if account is None:
            return
        moved = set()
        for name, pos in account.positions.items():
            sent = ch.sent_marks.get(name)
            if pos.position and sent and abs(self.app.market.mark(name) / sent - 1) > PORTFOLIO_MARK_MOVE:
                moved.add(name)
        if moved:
            self.send_portfolio(conn, moved)

    # ---------------------------------------------------------------- subscription snapshots
    def snapshot(self, conn, ch) -> None:
        app, s = self.app, conn.session
        if ch.kind == "book":
            bids, asks = app.feeds.book_levels(ch.target, ch.grouping, ch.depth)
            ch.book_state = (bids, asks)
            payload = self._book_payload(book_changes({}, bids), book_changes({}, asks), bids, asks, ch)
            conn.notify(ch.name, payload, snapshot=True)
            ch.last_sent = time.monotonic()
        elif ch.kind == "instruments":
            conn.notify(ch.name, [{"added": i.to_dict()} for i in app.engine.instruments.values()],
                        snapshot=True)
        elif ch.kind == "recent_trades":
            rows = [r for name, trades in app.engine.recent_trades.items()
                    if trade_matches(ch, name, app.engine.instruments[name].underlying)
                    for r in trades]
            kept = app.engine.recent_trades_kept
            conn.notify(ch.name, sorted(rows, key=lambda r: r[3])[-kept:], snapshot=True)
        elif ch.kind == "session.orders":
            conn.notify(ch.name, [o.status_dict("existing", o.all_fills) for o in s.orders.values()],
                        snapshot=True)
        elif ch.kind in ("account.orders", "account.persistent_orders"):
            orders = [o for o in s.account.orders.values()
                      if o.persistent or ch.kind == "account.orders"]
            conn.notify(ch.name, [o.status_dict("existing", o.all_fills) for o in orders],
                        snapshot=True)
        elif ch.kind == "account.portfolio":
            self.send_portfolio(conn)
        elif ch.kind == "account.summary":
            conn.notify(ch.name, app.summary(s.account))
        elif ch.kind == "account.conditional_orders":
            conn.notify(ch.name, app.conditional.listed(s.account))
