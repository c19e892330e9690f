"""Prometheus ``/metrics``: what shared memory holds, served by the supervisor (prometheus_client).

``bin/mm run`` starts it beside the control port on [control] metrics_host:metrics_port
(127.0.0.1:7757 by default; port 0: off) and prints its URL. Every scrape reads shared memory
afresh (shm/state.py, shm/counters.py, the supervisor's children) through ``SharedMemoryCollector``,
so the figures are those ``bin/mmctl status`` shows from the same places (control/commands.py,
control/instrument_status.py). The HTTP server is prometheus_client's own, in a daemon thread of
the supervisor; the collector takes a lock that ``close`` takes too, so a scrape never reads a
segment the supervisor is unmapping.

Names follow Prometheus's conventions: the ``thalex_mm_`` prefix, the unit in the name
(``_usd``, ``_contracts``, ``_seconds``), ``_total`` for counters. The families:

    per process (label process)       thalex_mm_process_up, _restarts_total, _heartbeat_age_seconds,
                                      _errors_total, _lapped_total, _malformed_total,
                                      _duplicates_total, _ring_full_total, _work_items_total
    per instrument (label instrument) thalex_mm_instrument_position_contracts, _mark_usd, _delta_usd,
                                      _open_orders_contracts{side}, _fills_total,
                                      _quotes_published_total, _fast_cancels_total,
                                      _markout_usd_per_contract{side,horizon_seconds}, _quoting
    portfolio                         thalex_mm_net_delta_usd{underlying}, thalex_mm_gross_notional_usd,
                                      thalex_mm_max_net_delta_usd, thalex_mm_max_gross_notional_usd
    account                           thalex_mm_equity_usd, _realised_pnl_usd, _unrealised_pnl_usd,
                                      _fees_usd, _funding_usd, _high_water_usd, thalex_mm_fills_total,
                                      thalex_mm_trading_state{thalex_mm_trading_state} (a state set),
                                      thalex_mm_paused, _quoting, _connected, _md_stale
    latency (histograms)              thalex_mm_md_to_quote_seconds, thalex_mm_md_to_send_seconds
    venue                             thalex_mm_rate_limit_tokens{bucket}, thalex_mm_throttled_total,
                                      thalex_mm_ladders_sent_total, thalex_mm_tripwire_pulls_total,
                                      thalex_mm_md_refused_total{reason},
                                      thalex_mm_run_info{venue,instance}
"""
from __future__ import annotations

import logging
import threading

from prometheus_client import start_http_server
from prometheus_client.core import (CollectorRegistry, CounterMetricFamily, GaugeMetricFamily,
                                    HistogramMetricFamily, InfoMetricFamily, StateSetMetricFamily)

from control.instrument_status import instrument_status, limits_of
from shm.histogram import cumulative_seconds
from shm.state import MD_REFUSED_NAMES, TRADING_STATE_NAMES

log = logging.getLogger("metrics")
PREFIX = "thalex_mm_"
MARKOUT_HORIZONS_S = (1, 5, 30)


class SharedMemoryCollector:
    """A prometheus_client collector over the running supervisor's shared memory."""

    def __init__(self, supervisor, venue_url: str):
        self.sup, self.venue_url = supervisor, venue_url
        self.lock = threading.Lock()
        self.closed = False
        self._limits_of = self._limits = None

    def close(self) -> None:
        """No scrape reads shared memory after this returns (the segments may go)."""
        with self.lock:
            self.closed = True

    def collect(self):
        with self.lock:
            if self.closed or not self.sup.segs:
                return []
            return list(self._families())

    def _limits_now(self):
        settings = self.sup.settings
        if self._limits_of is not settings:
            self._limits, self._limits_of = limits_of(settings), settings
        return self._limits

    def _families(self):
        s = self.sup.state.snapshot()
        yield from self._processes()
        per, portfolio = instrument_status(s, self._limits_now())
        yield from self._instruments(s, per)
        yield from self._portfolio(portfolio)
        yield from self._account(s)
        yield from self._latency(s)
        yield from self._venue(s)

    # ---- per process ---------------------------------------------------------------------
    def _processes(self):
        rows = {row["name"]: row for row in self.sup.counters.snapshot()}
        up = gauge("process_up", "1 while the process is alive", ["process"])
        age = gauge("process_heartbeat_age_seconds", "time since the process's last heartbeat", ["process"])
        counters = {key: counter(f"process_{name}", text, ["process"]) for key, name, text in (
            ("restarts", "restarts", "restarts by the supervisor"),
            ("errors", "errors", "errors the process counted"),
            ("lapped", "lapped", "times a broadcast ring lapped the process's reader"),
            ("malformed", "malformed", "input records the process could not use (skipped)"),
            ("duplicates", "duplicates", "input records the process had already seen (dropped)"),
            ("ring_full", "ring_full", "writes that found a one-to-one ring full"),
            ("work_count", "work_items", "items handled"))}
        for p in self.sup.processes():
            name = p["name"]
            up.add_metric([name], 1.0 if p["alive"] else 0.0)
            if p["heartbeat_age_s"] is not None:
                age.add_metric([name], p["heartbeat_age_s"])
            row = rows.get(name, {})
            for key, family in counters.items():
                value = p["restarts"] if key == "restarts" else row.get(key, 0)
                family.add_metric([name], float(value or 0))
        yield up
        yield age
        yield from counters.values()

    # ---- per instrument ------------------------------------------------------------------
    def _instruments(self, s: dict, per: dict):
        labels = ["instrument"]
        position = gauge("instrument_position_contracts", "position, + long", labels)
        mark = gauge("instrument_mark_usd", "mark price", labels)
        delta = gauge("instrument_delta_usd", "position x mark", labels)
        open_orders = gauge("instrument_open_orders_contracts", "contracts resting or in flight",
                            ["instrument", "side"])
        fills = counter("instrument_fills", "our fills, booked once each", labels)
        published = counter("instrument_quotes_published", "ladders and pulls the quoter published", labels)
        fast = counter("instrument_fast_cancels", "sides pulled because the market jumped", labels)
        quoting = gauge("instrument_quoting", "1 while the instrument's last ladder quotes something", labels)
        markout = gauge("instrument_markout_usd_per_contract",
                        "mid move after our fills, in our favour (NaN until marked out)",
                        ["instrument", "side", "horizon_seconds"])
        for inst_id, (name, i) in enumerate(per.items()):
            position.add_metric([name], i["position"])
            mark.add_metric([name], i["mark"])
            delta.add_metric([name], i["delta_usd"])
            open_orders.add_metric([name, "bid"], i["open_bid"])
            open_orders.add_metric([name, "ask"], i["open_ask"])
            fills.add_metric([name], float(i["fills"]))
            published.add_metric([name], float(i["quotes_published"]))
            fast.add_metric([name], float(i["fast_cancels"]))
            quoting.add_metric([name], 0.0 if s["not_quoting"][inst_id] else 1.0)
            for k, side in enumerate(("buys", "sells")):
                for j, h in enumerate(MARKOUT_HORIZONS_S):
                    markout.add_metric([name, side, str(h)], s["markout"][inst_id][k][j])
        yield from (position, mark, delta, open_orders, fills, published, fast, quoting, markout)

    def _portfolio(self, p: dict):
        net = gauge("net_delta_usd", "net delta of an underlying: its perpetuals and futures together",
                    ["underlying"])
        for u, d in p["net_delta_usd"].items():
            net.add_metric([u], d)
        yield net
        yield gauge("gross_notional_usd", "sum of |position| x mark over every instrument", value=p["gross_notional_usd"])
        yield gauge("max_net_delta_usd", "limit on each underlying's net delta (0 = off)", value=p["max_net_delta_usd"])
        yield gauge("max_gross_notional_usd", "limit on the gross notional (0 = off)",
                    value=p["max_gross_notional_usd"])

    # ---- account -------------------------------------------------------------------------
    def _account(self, s: dict):
        for name, key, text in (("equity_usd", "equity", "realised + unrealised - fees + funding"),
                                ("realised_pnl_usd", "realised", "realised P&L"),
                                ("unrealised_pnl_usd", "unrealised", "open lots at the marks"),
                                ("fees_usd", "fees", "fees paid (negative: rebates earned)"),
                                ("funding_usd", "funding", "perpetual funding received (+) or paid (-)"),
                                ("high_water_usd", "high_water", "highest equity seen")):
            yield gauge(name, text, value=s[key])
        yield counter("fills", "our fills on the account, booked once each", value=float(s["fills"]))
        state = StateSetMetricFamily(PREFIX + "trading_state", "the account's trading state",
                                     {name: s["trading_state"] == code for code, name in TRADING_STATE_NAMES.items()})
        yield state
        for name, text in (("paused", "1 while the operator paused quoting"),
                           ("quoting", "1 while our quotes rest on the exchange"),
                           ("connected", "1 while the gateway's private connection is up"),
                           ("md_stale", "1 while market data is stale")):
            yield gauge(name, text, value=float(bool(s[name])))

    def _latency(self, s: dict):
        for name, text in (("md_to_quote", "market record received -> ladder published by the quoter"),
                           ("md_to_send", "market record received -> ladder sent by the gateway")):
            buckets, total_s = cumulative_seconds(s[f"{name}_hist"], s[f"{name}_sum_ns"])
            yield HistogramMetricFamily(f"{PREFIX}{name}_seconds", text, buckets=buckets, sum_value=total_s)

    def _venue(self, s: dict):
        tokens = gauge("rate_limit_tokens", "tokens in our Thalex rate-limit buckets at the gateway's "
                       "last heartbeat", ["bucket"])
        tokens.add_metric(["orders"], s["order_tokens"])
        tokens.add_metric(["cancels"], s["cancel_tokens"])
        yield tokens
        yield counter("throttled", "Thalex throttle answers (error code 4)", value=float(s["throttled"]))
        yield counter("ladders_sent", "ladders the gateway sent to the exchange", value=float(s["orders_sent"]))
        yield counter("tripwire_pulls", "exposed sides the gateway's tripwire pulled on a market jump, one hop "
                      "before the quoter", value=float(s["trip_pulls"]))
        refused = counter("md_refused", "market records the feed refused as implausible", ["reason"])
        for reason, n in zip(MD_REFUSED_NAMES, s["md_refused"]):
            refused.add_metric([reason], float(n))
        yield refused
        info = InfoMetricFamily(PREFIX + "run", "the running market maker")
        info.add_metric([], {"venue": self.venue_url, "instance": self.sup.instance})
        yield info


def gauge(name: str, text: str, labels=None, value=None) -> GaugeMetricFamily:
    if labels is None:
        return GaugeMetricFamily(PREFIX + name, text, value=float(value))
    return GaugeMetricFamily(PREFIX + name, text, labels=labels)


def counter(name: str, text: str, labels=None, value=None) -> CounterMetricFamily:
    """A counter family (prometheus_client appends ``_total`` to the sample name)."""
    if labels is None:
        return CounterMetricFamily(PREFIX + name, text, value=value)
    return CounterMetricFamily(PREFIX + name, text, labels=labels)


class MetricsServer:
    """``/metrics`` over HTTP on ``host:port``; ``url`` says where. Bind errors raise OSError."""

    def __init__(self, supervisor, venue_url: str, host: str, port: int):
        self.collector = SharedMemoryCollector(supervisor, venue_url)
        registry = CollectorRegistry(auto_describe=False)
        registry.register(self.collector)
        try:
            self.httpd, self.thread = start_http_server(port, host, registry)
        except OSError as exc:
            raise OSError(f"metrics port http://{host}:{port}/metrics: {exc}") from None
        self.url = f"http://{host}:{self.httpd.server_port}/metrics"

    def close(self) -> None:
        self.collector.close()
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)
