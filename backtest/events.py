"""The one event record the backtester replays, and the records it hands back (byte layouts).

EVENT_DTYPE (40 bytes): one market event, as the exchange saw it and as we received it.

    0  exch_ts   i8  ns, when the exchange applied it (the matching engine's clock)
    8  local_ts  i8  ns, when it reached us (exch_ts + feed latency)
   16  price     f8  USD
   24  qty       f8  contracts: depth = absolute size at the level (0 removes it), trade = size
   32  kind      i4  BID_DEPTH, ASK_DEPTH, BUY_TRADE (aggressor bought), SELL_TRADE, CLEAR (a gap:
                     both sides), BID_CLEAR / ASK_CLEAR (one side, from price outward to the best;
                     price NaN = the whole side; hftbacktest's side clears)
   36  flags     i4  EXCH (the exchange model sees it) | LOCAL (the quoter sees it)

REPORT_DTYPE: what the exchange model answers about our orders, delivered at ``local_ts``.
Order actions (ACTION_*) are what the driver sends: insert, amend, cancel.
"""
from __future__ import annotations

import numpy as np

BID_DEPTH, ASK_DEPTH, BUY_TRADE, SELL_TRADE, CLEAR, BID_CLEAR, ASK_CLEAR = 1, 2, 3, 4, 5, 6, 7
EXCH, LOCAL = 1, 2
KIND_NAMES = {BID_DEPTH: "bid depth", ASK_DEPTH: "ask depth", BUY_TRADE: "buy trade",
              SELL_TRADE: "sell trade", CLEAR: "clear", BID_CLEAR: "bid clear", ASK_CLEAR: "ask clear"}

EVENT_DTYPE = np.dtype([("exch_ts", "<i8"), ("local_ts", "<i8"), ("price", "<f8"), ("qty", "<f8"),
                        ("kind", "<i4"), ("flags", "<i4")], align=True)

# Order actions (driver -> exchange) and reports (exchange -> driver).
ACTION_INSERT, ACTION_AMEND, ACTION_CANCEL = 1, 2, 3
ACTION_NAMES = {ACTION_INSERT: "insert", ACTION_AMEND: "amend", ACTION_CANCEL: "cancel"}
REPORT_ACK, REPORT_REJECT, REPORT_CANCELLED, REPORT_FILL, REPORT_AMENDED = 1, 2, 3, 4, 5
REPORT_NAMES = {REPORT_ACK: "ack", REPORT_REJECT: "reject", REPORT_CANCELLED: "cancelled",
                REPORT_FILL: "fill", REPORT_AMENDED: "amended"}
# Reject reasons (REPORT_REJECT.reason)
REJECT_POST_ONLY, REJECT_UNKNOWN_ORDER, REJECT_DUPLICATE_ID, REJECT_TOO_MANY = 1, 2, 3, 4
# orders.csv ``event``: an action we sent (ACTION_*) or an answer that reached us (REPORT_* + 10)
ROW_NAMES = {**ACTION_NAMES, **{k + 10: v for k, v in REPORT_NAMES.items()}}

REPORT_DTYPE = np.dtype([("exch_ts", "<i8"), ("local_ts", "<i8"), ("order_id", "<i8"),
                         ("price", "<f8"), ("amount", "<f8"), ("leaves", "<f8"), ("fee", "<f8"),
                         ("kind", "<i4"), ("side", "<i4"), ("maker", "<i4"), ("reason", "<i4")],
                        align=True)

# Queue models (backtest.queue_model)
QUEUE_RISK_AVERSE, QUEUE_POWER, QUEUE_LOG_PROB = 0, 1, 2
QUEUE_MODELS = {"risk_averse": QUEUE_RISK_AVERSE, "power": QUEUE_POWER, "log_prob": QUEUE_LOG_PROB}

# Why Core.run returned
STOP_UNTIL, STOP_DATA, STOP_REPORTS, STOP_QUOTE, STOP_END = 0, 1, 2, 3, 4
MAX_ORDERS = 256     # of ours at the exchange at once (the core's fixed table)
