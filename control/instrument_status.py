"""Each instrument and the portfolio as ``status`` (and /metrics) show them, from shared memory.

Per instrument: position (contracts), mark and delta (USD), open orders (contracts), fills,
ladders published, fast cancels, the instrument's own parameters that matter most at a glance.
The portfolio: net delta per underlying and gross notional as the risk process computed them
(procs/risk/portfolio.py, USD) beside their limits, and the account's trading state.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from runtime import settings as S
from shm.state import TRADING_STATE_NAMES


@dataclass(frozen=True)
class InstrumentsRunning:
    """What the running settings say about the instruments (rebuilt after a ``set``)."""
    instruments: list = field(default_factory=list)      # runtime.settings.Instrument, by id
    underlyings: list = field(default_factory=list)      # names, by index in net_delta_usd
    params: dict = field(default_factory=dict)           # name -> {gamma, levels, base_size, max_position}
    max_net_delta_usd: float = 0.0
    max_gross_notional_usd: float = 0.0


def limits_of(settings: dict) -> InstrumentsRunning:
    instruments = S.instruments_of(settings)
    if not instruments:
        return InstrumentsRunning()
    config = S.config_of(settings)
    params = {}
    for inst in instruments:
        q = config.quoter_for(inst.name)
        params[inst.name] = {"gamma": q.gamma, "levels": q.levels, "base_size": q.base_size,
                             "max_position": q.max_position, "mmp": list(config.mmp_for(inst.product))}
    return InstrumentsRunning(instruments, S.underlyings(instruments), params, config.risk.max_net_delta_usd,
                  config.risk.max_gross_notional_usd)


def instrument_status(s: dict, limits: InstrumentsRunning) -> tuple[dict, dict]:
    """(per instrument, portfolio) from a SharedState snapshot ``s``."""
    per = {}
    for inst in limits.instruments:
        i = inst.id
        mark = s["mark"][i]
        per[inst.name] = {
            "underlying": inst.underlying, "product": inst.product,
            "position": s["position"][i], "mark": mark,
            "delta_usd": s["position"][i] * mark if mark > 0 else 0.0,
            "open_bid": s["open_bid"][i], "open_ask": s["open_ask"][i],
            "fills": s["instrument_fills"][i], "quotes_published": s["quotes_published"][i],
            "fast_cancels": s["instrument_fast_cancels"][i],
            "params": limits.params.get(inst.name, {}),
        }
    portfolio = {
        "net_delta_usd": {u: s["net_delta_usd"][k] for k, u in enumerate(limits.underlyings)},
        "gross_notional_usd": s["gross_notional_usd"],
        "max_net_delta_usd": limits.max_net_delta_usd,
        "max_gross_notional_usd": limits.max_gross_notional_usd,
        "equity": s["equity"],
        "trading_state": TRADING_STATE_NAMES.get(s["trading_state"], str(s["trading_state"])),
        "reason": s["reason_text"],
    }
    return per, portfolio
