"""The pipeline's shared state: trading state, operator commands, positions and P&L.

One record in segment ``mm.<instance>.state``. Every field has exactly one writer:

- supervisor (control port): ``paused``, ``*_request_seq`` (halt, resume, flatten, kill: cancel
  everything and halt; cancel: cancel everything without halting, before a restart) (a command is posted by incrementing
  its sequence; the acting process remembers the last sequence it handled), ``params_version``.
- risk: ``trading_state``, ``reason``, ``state_changed_ns``, positions, P&L, ``fills``, and for the
  gateway's replays (procs/gateway/replay.py): ``reconcile_request_seq`` (risk asks the gateway to
  reconcile; answered in-band on ``exec`` by an EXEC_RECONCILED record), ``replay_since_ns`` (the
  exchange time from which a replay of the trade history covers whatever risk may lack, Unix ns;
  0 = the whole history) and ``exec_booked_seq`` (risk's cursor on ``exec`` + 1, 0 = none yet:
  a replay never runs more than half the ring ahead of it).
- gateway: ``quoting``, ``connected``, ``kill_done_seq``, ``cancel_done_seq``, ``open_bid``/``open_ask``,
  ``send_p50_ns``/``send_p99_ns`` (market record received -> ladder sent, last 1000 ladders) and
  the same for fast cancels (``fast_send_*``, ``fast_sends``), the tripwire's pulls (``trip_pulls``) and
  the quoter's fast cancels that came after one (``fast_followups``).
- feed: ``md_stale``, ``md_refused`` (records refused as implausible, by reason: clock ahead,
  too old, out of order, off band; procs/md_checks.py).
- quoter: ``fast_cancels``, ``guard_state`` and ``markout`` [instrument, side (0 our buys, 1 our
  sells), horizon (1, 5, 30 s)] in USD per contract (NaN until a fill has been marked out), and
  ``not_quoting`` [instrument]: why its last ladder quotes nothing (NOT_QUOTING_NAMES; 0 = it quotes).
  Per instrument: ``quotes_published`` (ladders and pulls sent to risk), ``instrument_fast_cancels``;
  the ``md_to_quote`` latency histogram (shm/histogram.py: market record received -> ladder published).
- risk, per instrument: ``instrument_fills``; the portfolio (procs/risk/portfolio.py):
  ``net_delta_usd`` [underlying, in the order the instruments first name them] and
  ``gross_notional_usd``.
- gateway: the ``md_to_send`` latency histogram (market record received -> ladder sent), its rate
  limits' ``cancel_tokens`` (tokens at the last heartbeat), ``throttled`` (code 4 answers) and
  ``orders_sent`` (ladders sent); the order budget on every pass (``order_tokens``,
  ``order_tokens_ns``, ``order_rate``, ``order_burst``, ``order_cooldown_until_ns``:
  shm/order_budget.py); the ``token_wait`` histogram (a ladder's wait for an order token, only
  ladders that waited) and ``pulls_by_cancel`` (pulls sent as cancels from the cancel bucket
  because no order token was left).
- quoter: ``budget_low_ladders`` (market records quoted with the wider tolerance of a low budget).

Readers poll it once per pass; it is small and sits in its own segment, so polling it costs a
cache line or two. Instruments are indexed by ``instrument_id`` (0..MAX_INSTRUMENTS-1).
"""
from __future__ import annotations

import numpy as np

from shm import records as R
from shm.descriptor import KIND_TABLE
from shm.histogram import N_BUCKETS
from shm.records import describe
from shm.segment import Segment, segment_name

MAX_INSTRUMENTS = 8

ACTIVE, REDUCING, HALTED = 0, 1, 2
TRADING_STATE_NAMES = {ACTIVE: "ACTIVE", REDUCING: "REDUCING", HALTED: "HALTED"}

# Why an instrument quotes nothing (``not_quoting``): 1..6 are the QuoteSet PULL reasons
# (shm.records QUOTE_REASON_*), the rest the quoter's own.
NOT_QUOTING_GUARD, NOT_QUOTING_NO_DATA, NOT_QUOTING_EMPTY_LADDER = 7, 8, 9
NOT_QUOTING_NAMES = {R.QUOTE_REASON_NONE: "", R.QUOTE_REASON_STALE: "stale data",
                     R.QUOTE_REASON_NO_PRICE: "no price", R.QUOTE_REASON_CROSSED_BOOK: "crossed book",
                     R.QUOTE_REASON_BAD_INPUT: "bad inventory input",
                     R.QUOTE_REASON_MODEL: "model output not finite",
                     R.QUOTE_REASON_IMPLAUSIBLE: "implausible price",
                     NOT_QUOTING_GUARD: "guard pulling both sides", NOT_QUOTING_NO_DATA: "no market data yet",
                     NOT_QUOTING_EMPTY_LADDER: "empty ladder"}
MD_REFUSED_NAMES = ("clock_ahead", "too_old", "out_of_order", "off_band")

STATE_DTYPE = describe("SharedState", [
    ("trading_state", "<u4"), ("reason", "<u4"), ("paused", "<u4"), ("quoting", "<u4"),
    ("connected", "<u4"), ("md_stale", "<u4"), ("state_changed_ns", "<i8"),
    ("halt_request_seq", "<u8"), ("resume_request_seq", "<u8"), ("flatten_request_seq", "<u8"),
    ("kill_request_seq", "<u8"), ("kill_done_seq", "<u8"), ("params_version", "<u8"),
    ("cancel_request_seq", "<u8"), ("cancel_done_seq", "<u8"),
    ("fills", "<u8"), ("realised", "<f8"), ("unrealised", "<f8"), ("fees", "<f8"),
    ("funding", "<f8"), ("equity", "<f8"), ("high_water", "<f8"),
    ("position", f"({MAX_INSTRUMENTS},)<f8"), ("average_price", f"({MAX_INSTRUMENTS},)<f8"),
    ("mark", f"({MAX_INSTRUMENTS},)<f8"),
    ("open_bid", f"({MAX_INSTRUMENTS},)<f8"), ("open_ask", f"({MAX_INSTRUMENTS},)<f8"),
    ("reason_text", "S64"),
    ("fast_cancels", "<u8"), ("guard_state", f"({MAX_INSTRUMENTS},)<u1"),
    ("markout", f"({MAX_INSTRUMENTS},2,3)<f8"),
    ("send_p50_ns", "<i8"), ("send_p99_ns", "<i8"), ("fast_send_p50_ns", "<i8"), ("fast_send_p99_ns", "<i8"),
    ("fast_sends", "<u8"), ("trip_pulls", "<u8"), ("fast_followups", "<u8"),
    ("not_quoting", f"({MAX_INSTRUMENTS},)<u1"), ("md_refused", f"({len(MD_REFUSED_NAMES)},)<u4"),
    ("reconcile_request_seq", "<u8"), ("replay_since_ns", "<i8"), ("exec_booked_seq", "<u8"),
    # per instrument and portfolio (issue 18), and what /metrics serves
    ("instrument_fills", f"({MAX_INSTRUMENTS},)<u8"), ("quotes_published", f"({MAX_INSTRUMENTS},)<u8"),
    ("instrument_fast_cancels", f"({MAX_INSTRUMENTS},)<u8"),
    ("net_delta_usd", f"({MAX_INSTRUMENTS},)<f8"), ("gross_notional_usd", "<f8"),
    ("md_to_quote_hist", f"({N_BUCKETS},)<u8"), ("md_to_quote_sum_ns", "<f8"),
    ("md_to_send_hist", f"({N_BUCKETS},)<u8"), ("md_to_send_sum_ns", "<f8"),
    ("order_tokens", "<f8"), ("cancel_tokens", "<f8"), ("throttled", "<u8"), ("orders_sent", "<u8"),
    # the message budget (shm/order_budget.py) and what it cost (issue 19)
    ("order_tokens_ns", "<i8"), ("order_rate", "<f8"), ("order_burst", "<f8"),
    ("order_cooldown_until_ns", "<i8"),
    ("token_wait_hist", f"({N_BUCKETS},)<u8"), ("token_wait_sum_ns", "<f8"),
    ("pulls_by_cancel", "<u8"), ("budget_low_ladders", "<u8"),
], 2048)


class SharedState:
    """The state record. ``create`` (supervisor, owner) or ``attach`` (processes, mmctl tools)."""

    def __init__(self, segment: Segment):
        self.segment = segment
        self.table = np.ndarray(1, STATE_DTYPE, buffer=segment.buf, offset=segment.layout.records)
        self.row = self.table  # 1-element view: row["field"][0]

    @classmethod
    def create(cls, instance: str) -> "SharedState":
        return cls(Segment.create(segment_name(instance, "state"), KIND_TABLE, STATE_DTYPE.itemsize, 1))

    @classmethod
    def attach(cls, instance: str) -> "SharedState":
        return cls(Segment.attach(segment_name(instance, "state"), KIND_TABLE, STATE_DTYPE.itemsize, 1))

    def get(self, field: str):
        return self.table[field][0].item() if self.table[field].ndim == 1 else self.table[field][0]

    def set(self, field: str, value) -> None:
        self.table[field] = value

    def bump(self, field: str) -> int:
        """Post a command: increment a ``*_request_seq``; returns the new sequence."""
        self.table[field] += 1
        return int(self.table[field][0])

    def snapshot(self) -> dict:
        row = self.table.copy()[0]
        out = {}
        for name in STATE_DTYPE.names:
            v = row[name]
            out[name] = v.tolist() if isinstance(v, np.ndarray) else v.item()
        out["reason_text"] = out["reason_text"].decode(errors="replace") if isinstance(out["reason_text"], bytes) else out["reason_text"]
        out["trading_state_name"] = TRADING_STATE_NAMES.get(out["trading_state"], str(out["trading_state"]))
        return out

    def close(self) -> None:
        self.table = self.row = None
        self.segment.release()
