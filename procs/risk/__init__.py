"""The risk process: the books, the limits and the trading state, published for the gateway.

| module | what |
|---|---|
| agent.py | RiskAgent: rings, one pass (executions, ladders seen, marks, commands), shared state, gate, report |
| gate_publisher.py | GatePublisher: limits, positions, marks, trading state and a heartbeat for the gateway |
| trading_state.py | TradingState: ACTIVE / REDUCING / HALTED, reasons, hysteresis, paused flag |
| exits.py | Exits: flatten, take-profit and stop-loss records for the gateway |
| limits.py | the limits and ``approve`` (kernels/pretrade.pyx), as the gateway applies them |
| position.py | PositionBook: FIFO positions, P&L, fees, funding, reconciliation |
| journal.py | the book on disk (with the exec sequence it stands at), so a restarted risk process continues exactly |
| reconcile.py | Reconciliation: unreconciled until the gateway's replay answers; asking it (reconcile_request_seq) |
| validate.py | refusal: the last look at an execution before it is booked (bounds, mark band, fee) |
"""
