"""sim: a local Thalex-compatible exchange (the spec, thalex-openapi.json v2.55, as summarised in
THALEX_API.md sections 1-8) for paper trading and tests; tests/sim/test_conformance_spec.py holds its
replies and notifications to the spec.

    client ──ws://127.0.0.1:PORT/ws/api/v2──> server.py   envelope, dispatch, sessions, outboxes
                                                 │
              handlers.py (RPC methods) ─────────┤── faults.py   sim/* test hooks (loopback only)
              auth.py     (JWT login)            │
                                                 v
              engine.py   order entry + matching ── book.py      price-time priority per instrument
                │            │                      orders.py    Order and its OrderStatus form
                │            ├─ massquote.py (quotes, MMP)  accounts.py  positions, P&L, fees
                │            └─ conditional.py (stop orders held by the exchange, their triggers)
                v
              market.py   seeded index walk, background ladder, Poisson flow, mark, funding
              history.py  one-minute mark bars (mark_price_historical_data), a past run before listening
              feeds.py + publisher.py   ticker/lwt/book/index payloads; who is told what
              ratelimit.py, latency.py, channels.py, params.py, instruments.py, errors.py

Run it with ``bin/thalex-sim`` (or ``python -m sim``); it prints its URL on the first stdout line.
testkit/exchange.py starts it as a subprocess for tests.
"""
