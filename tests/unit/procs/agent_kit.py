"""What the agents' unit tests share: the instrument, configuration sections, record makers.

The exchange in conftest.py is still: its book is the background ladder (best bid 99995, best
ask 100005 on BTC-PERPETUAL, mark 100000) until a test trades.
"""
from __future__ import annotations

import dataclasses
import time

import numpy as np

from conf.schema import Gateway as GatewayConf, Risk as RiskConf
from runtime.settings import Instrument
from shm import records as R

BTC = Instrument(id=0, name="BTC-PERPETUAL", product="FBTCUSD", tick_size=1.0, amount_tick=0.001,
                 min_amount=0.001, expiry_s=0.0)
BEST_BID, BEST_ASK, MARK = 99995.0, 100005.0, 100000.0


def risk_conf(**changes) -> RiskConf:
    return dataclasses.replace(RiskConf(), **changes)


def gateway_conf(**changes) -> GatewayConf:
    return dataclasses.replace(GatewayConf(), **changes)


def ladder(bids=(), asks=(), amount=0.01, iid=0, kind=R.QUOTE_SET) -> np.ndarray:
    """A one-record QuoteSet with the given prices, each level ``amount`` contracts."""
    q = np.zeros(1, R.QUOTE_DTYPE)
    q["type"], q["instrument_id"], q["n_bids"], q["n_asks"] = kind, iid, len(bids), len(asks)
    q["bid_price"][0][:len(bids)], q["ask_price"][0][:len(asks)] = bids, asks
    q["bid_amount"][0][:len(bids)], q["ask_amount"][0][:len(asks)] = amount, amount
    q["created_ts_ns"] = time.monotonic_ns()
    return q


def ticker(mark=MARK, iid=0, bid=None, ask=None, exchange_ts_ns=None) -> np.ndarray:
    """A ticker record; the best bid and ask default to 5 USD either side of ``mark``."""
    bid = mark - 5.0 if bid is None else bid
    ask = mark + 5.0 if ask is None else ask
    md = np.zeros(1, R.MD_DTYPE)
    md["type"], md["instrument_id"], md["mark_price"], md["index_price"] = R.MD_TICKER, iid, mark, mark
    md["best_bid_price"], md["best_ask_price"], md["best_bid_amount"], md["best_ask_amount"] = bid, ask, 1.0, 1.0
    md["exchange_ts_ns"] = exchange_ts_ns if exchange_ts_ns is not None else time.time_ns()
    md["receive_ts_ns"] = time.monotonic_ns()
    return md


def execution(kind, side=1, price=MARK, amount=0.01, trade_id=0, fee=0.0, position=np.nan, iid=0,
              liquidity=R.LIQ_MAKER) -> np.ndarray:
    e = np.zeros(1, R.EXEC_DTYPE)
    e["type"], e["instrument_id"], e["side"], e["price"], e["amount"] = kind, iid, side, price, amount
    e["trade_id_hi"], e["trade_id_lo"] = R.split_trade_id(trade_id)
    e["fee"], e["position"], e["liquidity"] = fee, position, liquidity
    e["receive_ts_ns"] = time.monotonic_ns()
    return e


def marker(request_seq: int) -> np.ndarray:
    """The gateway's EXEC_RECONCILED record answering reconcile request ``request_seq``."""
    e = np.zeros(1, R.EXEC_DTYPE)
    e["type"], e["seq"], e["receive_ts_ns"] = R.EXEC_RECONCILED, request_seq, time.monotonic_ns()
    return e


def reconcile(segs, agent) -> None:
    """Answer the risk agent's newest reconcile request as the gateway would, let the agent read
    the answer and throw away what it sent meanwhile (the pulls of a start)."""
    agent.reconciliation.min_interval_s = 0.0
    agent.reconciliation.poll()
    segs["exec"].write(marker(segs["state"].get("reconcile_request_seq")))
    agent.do_work()
    assert agent.reconciliation.reconciled
    drain(segs["orders"], R.QUOTE_DTYPE)


def drain(ring, dtype, limit: int = 10_000) -> np.ndarray:
    """Every record waiting on a one-to-one ring or a reader, as one array."""
    out, one = [], np.zeros(1, dtype)
    while len(out) < limit and ring.read_into(one):
        out.append(one[0].copy())
    return many(out, dtype)


def many(records, dtype) -> np.ndarray:
    """Records (one-record arrays or rows) as one array of ``dtype``, its padding kept."""
    out = np.zeros(len(records), dtype)
    for i, r in enumerate(records):
        out[i] = r[0] if isinstance(r, np.ndarray) and r.shape == (1,) else r
    return out


def wait_until(predicate, timeout_s: float = 10.0, step=None, what: str = "condition"):
    """Call ``step()`` (if any) until ``predicate()`` holds; AssertionError after ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if step is not None:
            step()
        value = predicate()
        if value:
            return value
        if step is None:
            time.sleep(0.01)
    raise AssertionError(f"{what} not reached within {timeout_s}s")


def open_gate(segs, position=0.0, mark=MARK, state=0, block=0, exec_booked=0, conf=None, heartbeat_ns=None,
              instruments=None, marks=None):
    """Write the risk gate (shm/gate.py) as risk would: each instrument's limits (``conf``, the
    [risk] defaults), BTC's ``position`` booked through ``exec_booked``, ``mark`` (or ``marks`` by
    instrument), ``state``, ``block``, a fresh heartbeat, the portfolio limits off."""
    from shm.gate import GATE_DTYPE
    conf = conf or risk_conf()
    instruments = instruments or [BTC]
    n = len(instruments)
    g = np.zeros(1, GATE_DTYPE)
    g["heartbeat_ns"] = time.monotonic_ns() if heartbeat_ns is None else heartbeat_ns
    g["exec_booked"], g["trading_state"], g["block"], g["n_instruments"] = exec_booked, state, block, n
    for name in ("max_position", "max_notional", "max_order_size", "price_band_bps"):
        g[name][0][:n] = getattr(conf, name)
    g["position"][0][0] = position
    g["mark"][0][:n] = marks or [mark] * n
    g["amount_tick"][0][:n] = [i.amount_tick for i in instruments]
    g["min_amount"][0][:n] = [i.min_amount for i in instruments]
    g["underlying"][0][:n] = range(n)
    segs["gate"].write(g)
