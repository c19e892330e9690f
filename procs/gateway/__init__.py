"""The gateway process: ladders in, pre-trade checks, Thalex private websocket out, executions back.

| module | what |
|---|---|
| agent.py | Gateway: wires the pieces below; one pass = market records through the tripwire, drain orders and quotes, gate, send, requests, poll; report |
| pretrade.py | PreTrade: every ladder checked as it leaves against the risk gate; ExecTap: fills not yet booked |
| session.py | Session: connect, login, cancel-on-disconnect, protection arm/refill, reconcile, reconnect |
| quoting.py | Quoting: newest ladder per instrument, encoded by kernels, sends and replies, per-hop latency |
| tripwire.pyx | Tripwire: the quoter's fast-cancel guard on each market record (md ring); a jump pulls the exposed side one hop early |
| trips.py | TripPulls (part of Quoting): the one-sided mass quote of a trip, ladders stripped while it holds, resent when it settles |
| labels.py | label_for: the label tying an order to the ticker it reacts to |
| exits.py | Exits: flatten (reduce-only market) and take-profit (reduce-only limit) orders |
| executions.py | Executions: session.orders, trade history, protection frames and rejects onto ``exec``; refuses what it cannot read |
| replay.py | Replay: reconciliation's trades, positions and EXEC_RECONCILED marker, paced to risk's cursor |
| open_orders.py | OpenOrders: what rests or is in flight, published for risk's limits |
| ladder_orders.py | a ladder kept as single orders (insert / amend / cancel) without mass quoting |
"""
