"""The gateway process: approved ladders in, Thalex private websocket out, executions back.

| module | what |
|---|---|
| agent.py | Gateway: connect, reconcile, drain the orders ring, send, report |
| executions.py | Executions: session.orders, trade history and MMP frames onto the exec ring |
| ladder_orders.py | a ladder kept as single orders (insert / amend / cancel) without mass quoting |
"""
