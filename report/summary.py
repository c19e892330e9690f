"""The summary's figures, each from the recorded columns (units in the names: USD, s, contracts)."""
from __future__ import annotations

import math

import numpy as np

from shm.histogram import quantile_ns


def figures(run) -> dict:
    pnl, fills, orders, quotes = run.pnl, run.fills, run.orders, run.quotes
    t = pnl.get("t", np.zeros(0))
    equity = pnl.get("equity", np.zeros(0))
    hours = (t[-1] - t[0]) / 3600.0 if len(t) > 1 else 0.0
    out = {
        "duration_s": float(t[-1] - t[0]) if len(t) > 1 else 0.0,
        "pnl_usd": float(equity[-1]) if len(equity) else 0.0,
        "realised_usd": float(pnl["realised"][-1]) if len(equity) else 0.0,
        "fees_usd": float(pnl["fees"][-1]) if len(equity) else 0.0,
        "fills": int(len(fills.get("t", ()))),
        "volume_contracts": float(np.sum(fills["amount"])) if len(fills.get("t", ())) else 0.0,
        "orders_placed": int(np.sum(orders["event"] == "ack")) if len(orders.get("t", ())) else 0,
        "ladders_published": int(np.sum(quotes["kind"] == "set")) if len(quotes.get("t", ())) else 0,
        "inventory_std_contracts": float(np.std(pnl["position"])) if len(equity) else 0.0,
        "max_drawdown_usd": max_drawdown(equity),
        "time_in_state_s": time_in_states(pnl),
    }
    out["pnl_per_hour_usd"] = out["pnl_usd"] / hours if hours > 0 else 0.0
    out["sharpe_hourly"] = hourly_sharpe(t, equity)
    out["fill_ratio"] = out["fills"] / out["orders_placed"] if out["orders_placed"] else 0.0
    lat = quotes.get("latency_ns", np.zeros(0))
    lat = lat[np.isfinite(lat)] if len(lat) else lat
    if len(lat):   # true percentiles over every ladder of the run
        out["md_to_quote_p50_us"] = float(np.percentile(lat, 50) / 1e3)
        out["md_to_quote_p99_us"] = float(np.percentile(lat, 99) / 1e3)
    out.update(sending(run))
    out.update(markouts(run))
    out["instruments"] = per_instrument(run)
    out["portfolio"] = portfolio(run)
    return out


def sending(run) -> dict:
    """md -> send and the waits for order tokens, over the whole run (the gateway's histograms at
    the last sample, sending.csv; percentiles interpolated within buckets: shm/histogram.py)."""
    rows = getattr(run, "sending", {})
    if not len(rows.get("t", ())):
        return {}
    md_to_send = [int(c) for c in str(rows["md_to_send_hist"][-1]).split("|")]
    waits = [int(c) for c in str(rows["token_wait_hist"][-1]).split("|")]
    sent = int(rows["ladders_sent"][-1])
    out = {"ladders_sent": sent, "token_waits": sum(waits),
           "token_wait_share": sum(waits) / sent if sent else 0.0,
           "token_wait_total_s": float(rows["token_wait_sum_ns"][-1]) / 1e9,
           "throttled": int(rows["throttled"][-1]), "pulls_by_cancel": int(rows["pulls_by_cancel"][-1]),
           "budget_low_ladders": int(rows["budget_low_ladders"][-1])}
    if sum(md_to_send):
        out["md_to_send_p50_us"] = quantile_ns(md_to_send, 0.50) / 1e3
        out["md_to_send_p99_us"] = quantile_ns(md_to_send, 0.99) / 1e3
    if sum(waits):
        out["token_wait_p99_ms"] = quantile_ns(waits, 0.99) / 1e6
    return out


MARKOUT_HORIZONS_S = (1.0, 5.0, 30.0)


def markouts(run) -> dict:
    """Mean markout of our fills in USD per contract at 1, 5 and 30 s: side x (mid then - fill
    price), the mid from md.csv (the instrument's own); positive = the market moved our way. Fills
    too close to the end for a horizon are left out of it."""
    fills, md = run.fills, run.md
    if not len(fills.get("t", ())) or not len(md.get("t", ())):
        return {}
    out = {}
    mids = {}
    for iid in np.unique(md["instrument_id"]):
        rows = md["instrument_id"] == iid
        mid = 0.5 * (md["bid"][rows] + md["ask"][rows])
        ok = np.isfinite(mid) & (md["bid"][rows] > 0) & (md["ask"][rows] > 0)
        mids[int(iid)] = (md["t"][rows][ok], mid[ok])
    for h in MARKOUT_HORIZONS_S:
        values = []
        for t, iid, side, price in zip(fills["t"], fills["instrument_id"], fills["side"], fills["price"]):
            times, mid = mids.get(int(iid), (np.zeros(0), np.zeros(0)))
            if not len(times) or t + h > times[-1]:
                continue
            k = int(np.searchsorted(times, t + h, side="right")) - 1
            values.append(side * (mid[k] - price))
        if values:
            out[f"markout_{h:g}s_usd"] = float(np.mean(values))
    return out


def per_instrument(run) -> dict:
    """{name: figures} for each instrument of the run: its fills, volume, ladders and positions."""
    listed = run.settings.get("instruments", [])   # a live run's traded instruments (a list)
    names = [i["name"] for i in listed if isinstance(i, dict) and "name" in i] if isinstance(listed, list) else []
    fills, quotes, sampled = run.fills, run.quotes, getattr(run, "instruments", {})
    out = {}
    for iid, name in enumerate(names):
        mine = fills["instrument_id"] == iid if len(fills.get("t", ())) else np.zeros(0, bool)
        rows = sampled["instrument_id"] == iid if len(sampled.get("t", ())) else np.zeros(0, bool)
        position = sampled["position"][rows] if rows.any() else np.zeros(0)
        delta = sampled["delta_usd"][rows] if rows.any() else np.zeros(0)
        out[name] = {
            "fills": int(np.sum(mine)),
            "volume_contracts": float(np.sum(fills["amount"][mine])) if mine.any() else 0.0,
            "fees_usd": float(np.sum(fills["fee"][mine])) if mine.any() else 0.0,
            "ladders_published": int(np.sum((quotes["instrument_id"] == iid) & (quotes["kind"] == "set")))
            if len(quotes.get("t", ())) else 0,
            "final_position_contracts": float(position[-1]) if len(position) else 0.0,
            "max_abs_position_contracts": float(np.max(np.abs(position))) if len(position) else 0.0,
            "max_abs_delta_usd": float(np.max(np.abs(delta))) if len(delta) else 0.0,
        }
    return out


def portfolio(run) -> dict:
    """The account's exposure over the run: net delta per underlying and gross notional, USD."""
    p = getattr(run, "portfolio", {})
    if not len(p.get("t", ())):
        return {}
    out = {"max_gross_notional_usd": float(np.max(p["gross_notional_usd"])),
           "final_gross_notional_usd": float(p["gross_notional_usd"][-1]), "net_delta_usd": {}}
    for u in sorted(set(p["underlying"].tolist())):
        d = p["net_delta_usd"][p["underlying"] == u]
        out["net_delta_usd"][str(u)] = {"final": float(d[-1]), "max_abs": float(np.max(np.abs(d)))}
    return out


def max_drawdown(equity) -> float:
    """Largest fall of equity from its running maximum (USD), starting from 0."""
    if not len(equity):
        return 0.0
    peak = np.maximum.accumulate(np.concatenate(([0.0], equity)))
    return float(np.max(peak[1:] - equity))


def time_in_states(pnl) -> dict:
    """Seconds per trading state, each sample counting until the next one."""
    if len(pnl.get("t", ())) < 2:
        return {}
    dt = np.diff(pnl["t"])
    out: dict[str, float] = {}
    for state, d in zip(pnl["state"][:-1], dt):
        out[str(state)] = out.get(str(state), 0.0) + float(d)
    return out


def hourly_sharpe(t, equity, bucket_s: float = 60.0) -> float:
    """Mean over standard deviation of the P&L per ``bucket_s``, scaled to one hour (not annualised)."""
    if len(t) < 3:
        return 0.0
    edges = np.arange(t[0], t[-1] + bucket_s, bucket_s)
    at_edges = np.interp(edges, t, equity)
    steps = np.diff(at_edges)
    if len(steps) < 2 or np.std(steps, ddof=1) == 0:
        return 0.0
    return float(np.mean(steps) / np.std(steps, ddof=1) * math.sqrt(3600.0 / bucket_s))
