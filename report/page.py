"""The one-page HTML summary: key figures and the plots."""
from __future__ import annotations

import html
from pathlib import Path

LABELS = [
    ("pnl_usd", "P&L (USD)", "{:.2f}"), ("pnl_per_hour_usd", "P&L per hour (USD)", "{:.2f}"),
    ("sharpe_hourly", "Sharpe of hourly P&L (per-minute steps)", "{:.2f}"),
    ("realised_usd", "realised (USD)", "{:.2f}"), ("fees_usd", "fees (USD)", "{:.2f}"),
    ("fills", "fills", "{}"), ("volume_contracts", "volume (contracts)", "{:.4f}"),
    ("orders_placed", "orders placed", "{}"), ("fill_ratio", "fill ratio (fills / orders)", "{:.3f}"),
    ("ladders_published", "ladders published", "{}"),
    ("inventory_std_contracts", "inventory std (contracts)", "{:.4f}"),
    ("max_drawdown_usd", "max drawdown (USD)", "{:.2f}"), ("duration_s", "duration (s)", "{:.0f}"),
    ("md_to_quote_p50_us", "md -> quote p50 (us)", "{:.0f}"), ("md_to_quote_p99_us", "md -> quote p99 (us)", "{:.0f}"),
    ("md_to_send_p50_us", "md -> send p50 (us)", "{:.0f}"), ("md_to_send_p99_us", "md -> send p99 (us)", "{:.0f}"),
    ("ladders_sent", "ladders sent", "{}"), ("token_waits", "ladders that waited for an order token", "{}"),
    ("token_wait_total_s", "time waited for order tokens (s)", "{:.2f}"),
    ("token_wait_p99_ms", "token wait p99 (ms, of those that waited)", "{:.1f}"),
    ("pulls_by_cancel", "pulls sent as cancels (no order token)", "{}"),
    ("budget_low_ladders", "market records quoted on a low budget", "{}"),
    ("throttled", "throttled by the exchange (code 4)", "{}"),
    ("markout_1s_usd", "markout 1 s (USD per contract)", "{:+.3f}"),
    ("markout_5s_usd", "markout 5 s (USD per contract)", "{:+.3f}"),
    ("markout_30s_usd", "markout 30 s (USD per contract)", "{:+.3f}"),
]


def write(out: Path, run_dir: Path, figures: dict, plots: list[Path]) -> Path:
    rows = "".join(f"<tr><td>{html.escape(label)}</td><td>{fmt.format(figures[key])}</td></tr>"
                   for key, label, fmt in LABELS if key in figures)
    states = "".join(f"<tr><td>time {html.escape(state)} (s)</td><td>{secs:.0f}</td></tr>"
                     for state, secs in sorted(figures.get("time_in_state_s", {}).items()))
    per = figures.get("instruments") or {}
    table = "".join(
        f"<tr><td>{html.escape(name)}</td><td>{f['fills']}</td><td>{f['volume_contracts']:.4f}</td>"
        f"<td>{f['ladders_published']}</td><td>{f['final_position_contracts']:+.4f}</td>"
        f"<td>{f['max_abs_position_contracts']:.4f}</td><td>{f['max_abs_delta_usd']:.2f}</td></tr>"
        for name, f in per.items())
    if table:
        table = ("<h2>Instruments</h2><table><tr><th>instrument</th><th>fills</th><th>volume</th><th>ladders</th>"
                 "<th>final position</th><th>max |position|</th><th>max |delta| (USD)</th></tr>" + table + "</table>")
    pf = figures.get("portfolio") or {}
    if pf:
        table += ("<h2>Portfolio</h2><table>" + "".join(
            f"<tr><td>net delta {html.escape(u)} (USD)</td><td>final {d['final']:+.2f}</td>"
            f"<td>max |.| {d['max_abs']:.2f}</td></tr>" for u, d in pf["net_delta_usd"].items())
            + f"<tr><td>gross notional (USD)</td><td>final {pf['final_gross_notional_usd']:.2f}</td>"
              f"<td>max {pf['max_gross_notional_usd']:.2f}</td></tr></table>")
    images = "".join(f'<h3>{p.stem}</h3><img src="{p.name}" alt="{p.stem}">' for p in plots)
    page = f"""<!doctype html><html><head><meta charset="utf-8"><title>run {html.escape(run_dir.name)}</title>
<style>body{{font-family:sans-serif;max-width:1000px;margin:2em auto}}td{{padding:2px 12px}}
img{{max-width:100%}}</style></head><body>
<h1>Run {html.escape(run_dir.name)}</h1><table>{rows}{states}</table>{table}{images}</body></html>"""
    path = out / "index.html"
    path.write_text(page)
    return path
