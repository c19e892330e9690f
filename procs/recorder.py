"""Recorder agent: CSV metrics of a run, buffered, never slowing the pipeline.

Reads the md, trades, quote_log and exec broadcast rings with lap-tolerant readers (a recorder
that falls behind loses rows, counted in its counters slot, and never holds a writer back),
samples the shared state for position and P&L, and the counters table for process health.
Rows collect in memory and are written every ``flush_interval_s`` into ``<run_dir>/``:

    md.csv        time_ns, instrument_id, bid, bid_amount, ask, ask_amount, mark, index, funding_rate, stale
    trades.csv    time_ns, instrument_id, side, price, amount                      (public trades)
    quotes.csv    time_ns, instrument_id, seq, kind (set|pull), reason, mid, reservation_price,
                  half_spread, sigma, gamma, A, k, inventory, n_bids, n_asks, bid0, ask0,
                  latency_ns (market record received -> ladder published), bids, asks
                  (levels as price@amount|...)
    fills.csv     time_ns, instrument_id, side, liquidity (1 maker, 2 taker), price, amount, fee,
                  position (after the fill), order_id, trade_id    (the exchange's trade reports;
                  ids as the exchange writes them: 16 and 32 hex digits)
    orders.csv    time_ns, event (ack|amend|fill|cancel|reject), instrument_id, side, client_order_id,
                  price, amount, reason (delete reason or error code)
    pnl.csv       time_ns, state, paused, quoting, position, realised, unrealised, fees, funding,
                  equity, high_water, fills                                   (every pnl_interval_s)
    latency.csv   time_ns, count, p50_ns, p99_ns, max_ns  (md -> quote, per flush interval)
    markout.csv   time_ns, instrument_id, side (buys|sells), markout_1s, markout_5s, markout_30s
                  (USD per contract, EWMA over our fills, empty until marked out), fast_cancels,
                  guard (0 calm, 1 pull bids, 2 pull asks, 3 both)          (every pnl_interval_s)
    instruments.csv  time_ns, instrument_id, position, mark, delta_usd, open_bid, open_ask, fills,
                  quotes_published                                          (every pnl_interval_s)
    portfolio.csv time_ns, underlying, net_delta_usd, gross_notional_usd    (every pnl_interval_s)
    sending.csv   time_ns, ladders_sent, md_to_send_hist, md_to_send_sum_ns, token_wait_hist,
                  token_wait_sum_ns, throttled, pulls_by_cancel, budget_low_ladders: the gateway's
                  counts since the run began (histograms as "|"-joined bucket counts of
                  shm/histogram.py LATENCY_BOUNDS_NS; issue 19's message budget)  (every pnl_interval_s)
    counters.csv  time_ns, process, pid, state, work_count, errors, lapped, ring_full, malformed,
                  restarts, latency_p50_ns, latency_p99_ns, duplicates
    clock.json    {"monotonic_ns", "unix_ns"} at the start: every time_ns is time.monotonic_ns();
                  unix time = time_ns - monotonic_ns + unix_ns
Prices and money USD, amounts contracts. settings.json beside them is the configuration the run
used.
"""
from __future__ import annotations

import csv
import json
import time
from pathlib import Path

import numpy as np

from runtime.agent import Agent
from runtime import segments
from runtime.settings import config_of, instruments_of, underlyings
from shm.counters import Counters
from shm.records import (EXEC_ACK, EXEC_CANCEL, EXEC_FILL, EXEC_REJECT, EXEC_AMEND, EXEC_TRADE,
                         MD_FLAG_STALE, MD_TICKER, MD_BOOK, QUOTE_SET, trade_id_of)
from venue.ids import order_id_hex, trade_id_hex
from shm.state import SharedState, TRADING_STATE_NAMES

HEADERS = {
    "md": ["time_ns", "instrument_id", "bid", "bid_amount", "ask", "ask_amount", "mark", "index",
           "funding_rate", "stale"],
    "trades": ["time_ns", "instrument_id", "side", "price", "amount"],
    "quotes": ["time_ns", "instrument_id", "seq", "kind", "reason", "mid", "reservation_price",
               "half_spread", "sigma", "gamma", "A", "k", "inventory", "n_bids", "n_asks", "bid0", "ask0",
               "latency_ns", "bids", "asks"],
    "fills": ["time_ns", "instrument_id", "side", "liquidity", "price", "amount", "fee", "position",
              "order_id", "trade_id"],
    "orders": ["time_ns", "event", "instrument_id", "side", "client_order_id", "price", "amount", "reason"],
    "pnl": ["time_ns", "state", "paused", "quoting", "position", "realised", "unrealised", "fees",
            "funding", "equity", "high_water", "fills"],
    "latency": ["time_ns", "count", "p50_ns", "p99_ns", "max_ns"],
    "markout": ["time_ns", "instrument_id", "side", "markout_1s", "markout_5s", "markout_30s", "fast_cancels",
                "guard"],
    "instruments": ["time_ns", "instrument_id", "position", "mark", "delta_usd", "open_bid", "open_ask", "fills",
                    "quotes_published"],
    "portfolio": ["time_ns", "underlying", "net_delta_usd", "gross_notional_usd"],
    "sending": ["time_ns", "ladders_sent", "md_to_send_hist", "md_to_send_sum_ns", "token_wait_hist",
                "token_wait_sum_ns", "throttled", "pulls_by_cancel", "budget_low_ladders"],
    "counters": ["time_ns", "process", "pid", "state", "work_count", "errors", "lapped", "ring_full",
                 "malformed", "restarts", "latency_p50_ns", "latency_p99_ns", "duplicates"],
}
EXEC_NAMES = {EXEC_ACK: "ack", EXEC_REJECT: "reject", EXEC_CANCEL: "cancel", EXEC_AMEND: "amend",
              EXEC_FILL: "fill"}
BATCH = 256


class Recorder(Agent):
    name = "recorder"

    def __init__(self, instance: str, run_dir: str | Path, flush_interval_s: float = 1.0,
                 pnl_interval_s: float = 1.0, counters_interval_s: float = 5.0, n_instruments: int = 1,
                 underlyings: tuple = ()):
        """``underlyings``: names by index in the state's ``net_delta_usd`` (runtime.settings.underlyings)."""
        self.instance, self.run_dir = instance, Path(run_dir)
        self.n_instruments, self.underlyings = n_instruments, tuple(underlyings)
        self.flush_ns = int(flush_interval_s * 1e9)
        self.pnl_ns, self.counters_ns = int(pnl_interval_s * 1e9), int(counters_interval_s * 1e9)
        self.rows = {name: [] for name in HEADERS}
        self.latencies: list[int] = []
        self.trade_ids: set[int] = set()   # exact u128 ids; reports are replayed on reconnect: record once
        self.files, self.writers = {}, {}

    @classmethod
    def from_settings(cls, settings: dict) -> "Recorder":
        return cls(settings["instance"], settings["run_dir"],
                   flush_interval_s=config_of(settings).recorder.flush_interval_s,
                   n_instruments=len(settings.get("instruments", [])) or 1,
                   underlyings=underlyings(instruments_of(settings)))

    def on_start(self) -> None:
        self.run_dir.mkdir(parents=True, exist_ok=True)
        clock = self.run_dir / "clock.json"
        if not clock.exists():
            clock.write_text(json.dumps({"monotonic_ns": time.monotonic_ns(), "unix_ns": time.time_ns()}))
        c = json.loads(clock.read_text())
        self.unix_to_mono_ns = c["monotonic_ns"] - c["unix_ns"]
        for name, header in HEADERS.items():
            path = self.run_dir / f"{name}.csv"
            new = not path.exists() or path.stat().st_size == 0
            f = open(path, "a", newline="", buffering=1 << 16)
            self.files[name], self.writers[name] = f, csv.writer(f)
            if new:
                self.writers[name].writerow(header)
        self.md = segments.reader(self.instance, "md")
        self.trades = segments.reader(self.instance, "trades")
        self.quotes = segments.reader(self.instance, "quote_log")
        self.exec = segments.reader(self.instance, "exec")
        self.state = SharedState.attach(self.instance)
        self.counters = Counters.attach(self.instance)
        self.bufs = {name: np.zeros(BATCH, ring.dtype) for name, ring in
                     (("md", self.md), ("trades", self.trades), ("quotes", self.quotes), ("exec", self.exec))}
        now = time.monotonic_ns()
        self.next_flush, self.next_pnl, self.next_counters = now + self.flush_ns, now, now

    # ---- per pass ----------------------------------------------------------------------
    def do_work(self) -> int:
        work = self._drain_md() + self._drain_trades() + self._drain_quotes() + self._drain_exec()
        now = time.monotonic_ns()
        if now >= self.next_pnl:
            self._sample_pnl()
            self.next_pnl = now + self.pnl_ns
        if now >= self.next_counters:
            self._sample_counters()
            self.next_counters = now + self.counters_ns
        if now >= self.next_flush:
            self.flush()
            self.next_flush = now + self.flush_ns
        return work

    def _drain_md(self) -> int:
        buf = self.bufs["md"]
        n = self.md.read_batch(buf)
        rows = self.rows["md"]
        for r in buf[:n]:
            if r["type"] in (MD_TICKER, MD_BOOK):
                rows.append((int(r["receive_ts_ns"]), int(r["instrument_id"]), float(r["best_bid_price"]),
                             float(r["best_bid_amount"]), float(r["best_ask_price"]), float(r["best_ask_amount"]),
                             float(r["mark_price"]), float(r["index_price"]), float(r["funding_rate"]),
                             int(bool(r["flags"] & MD_FLAG_STALE))))
        return n

    def _drain_trades(self) -> int:
        buf = self.bufs["trades"]
        n = self.trades.read_batch(buf)
        self.rows["trades"].extend((int(r["receive_ts_ns"]), int(r["instrument_id"]), int(r["side"]),
                                    float(r["price"]), float(r["amount"])) for r in buf[:n])
        return n

    def _drain_quotes(self) -> int:
        buf = self.bufs["quotes"]
        n = self.quotes.read_batch(buf)
        for q in buf[:n]:
            nb, na = int(q["n_bids"]), int(q["n_asks"])
            bids = "|".join(f"{p:g}@{a:g}" for p, a in zip(q["bid_price"][:nb], q["bid_amount"][:nb]))
            asks = "|".join(f"{p:g}@{a:g}" for p, a in zip(q["ask_price"][:na], q["ask_amount"][:na]))
            created, received = int(q["created_ts_ns"]), int(q["md_receive_ts_ns"])
            latency = created - received if received else ""
            if received:
                self.latencies.append(latency)
            self.rows["quotes"].append((
                created, int(q["instrument_id"]), int(q["seq"]), "set" if q["type"] == QUOTE_SET else "pull",
                int(q["reason"]), float(q["mid"]),
                float(q["reservation_price"]), float(q["half_spread"]), float(q["sigma"]), float(q["gamma"]),
                float(q["intensity_a"]), float(q["intensity_k"]), float(q["inventory"]), nb, na,
                float(q["bid_price"][0]) if nb else "", float(q["ask_price"][0]) if na else "", latency,
                bids, asks))
        return n

    def _drain_exec(self) -> int:
        buf = self.bufs["exec"]
        n = self.exec.read_batch(buf)
        for e in buf[:n]:
            kind = int(e["type"])
            if kind == EXEC_TRADE:
                trade_id = trade_id_of(e)
                if trade_id in self.trade_ids:
                    continue
                self.trade_ids.add(trade_id)
                # The trade's own time (a replay after a reconnect arrives late), on our clock.
                at = int(e["exchange_ts_ns"]) + self.unix_to_mono_ns if e["exchange_ts_ns"] else int(e["receive_ts_ns"])
                self.rows["fills"].append((
                    at, int(e["instrument_id"]), int(e["side"]), int(e["liquidity"]),
                    float(e["price"]), float(e["amount"]), float(e["fee"]), float(e["position"]),
                    order_id_hex(int(e["order_id"])), trade_id_hex(trade_id)))
            if kind in EXEC_NAMES:
                self.rows["orders"].append((
                    int(e["receive_ts_ns"]), EXEC_NAMES[kind], int(e["instrument_id"]), int(e["side"]),
                    int(e["client_order_id"]), float(e["price"]), float(e["amount"]), int(e["reason"])))
        return n

    def _sample_pnl(self) -> None:
        s = self.state.snapshot()
        self.rows["pnl"].append((
            time.monotonic_ns(), TRADING_STATE_NAMES.get(s["trading_state"], s["trading_state"]), s["paused"],
            s["quoting"], s["position"][0], s["realised"], s["unrealised"], s["fees"], s["funding"],
            s["equity"], s["high_water"], s["fills"]))
        now = time.monotonic_ns()
        for iid in range(self.n_instruments):
            for k, side in enumerate(("buys", "sells")):
                values = ["" if v != v else v for v in s["markout"][iid][k]]
                self.rows["markout"].append((now, iid, side, *values, s["fast_cancels"], s["guard_state"][iid]))
            mark, position = s["mark"][iid], s["position"][iid]
            self.rows["instruments"].append((now, iid, position, mark, position * mark if mark > 0 else 0.0,
                                             s["open_bid"][iid], s["open_ask"][iid], s["instrument_fills"][iid],
                                             s["quotes_published"][iid]))
        for k, name in enumerate(self.underlyings):
            self.rows["portfolio"].append((now, name, s["net_delta_usd"][k], s["gross_notional_usd"]))
        self.rows["sending"].append((now, s["orders_sent"], "|".join(map(str, s["md_to_send_hist"])),
                                     s["md_to_send_sum_ns"], "|".join(map(str, s["token_wait_hist"])),
                                     s["token_wait_sum_ns"], s["throttled"], s["pulls_by_cancel"],
                                     s["budget_low_ladders"]))

    def _sample_counters(self) -> None:
        now = time.monotonic_ns()
        for c in self.counters.snapshot():
            self.rows["counters"].append((now, c["name"], c["pid"], c["state"], c["work_count"], c["errors"],
                                          c["lapped"], c["ring_full"], c["malformed"], c["restarts"],
                                          c["latency_p50_ns"], c["latency_p99_ns"], c["duplicates"]))

    def _latency_row(self) -> None:
        if self.latencies:
            p50, p99 = np.percentile(self.latencies, (50, 99))
            self.rows["latency"].append((time.monotonic_ns(), len(self.latencies), int(p50), int(p99),
                                         max(self.latencies)))
            self.latencies.clear()

    def flush(self) -> None:
        self._latency_row()
        for name, rows in self.rows.items():
            if rows:
                self.writers[name].writerows(rows)
                rows.clear()
                self.files[name].flush()

    def report(self, counters) -> None:
        counters.set("lapped", sum(int(r.lapped) for r in (self.md, self.trades, self.quotes, self.exec)))

    def on_close(self) -> None:
        if self.files:
            self.flush()
            for f in self.files.values():
                f.close()
        for ring in ("md", "trades", "quotes", "exec", "state", "counters"):
            obj = getattr(self, ring, None)
            if obj is not None:
                obj.close()
