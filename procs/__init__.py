"""The pipeline: one small agent per OS process, records through shared-memory rings.

```
             supervisor (bin/mm run): spawns, pins, owns shm segments, heartbeats, restarts,
             ZeroMQ control port (ROUTER, msgpack) + telemetry (PUB)
                  |              |                                 |
Thalex WS  -->  feed  --md-->  quoter  ------quotes (1:1)------>  gateway  -->  Thalex WS
(public)          |  (bcast)     |                                 ^  ^  |     (private)
                  |              +--quote_log (bcast)--> risk,     |  |  |
                  |                                      recorder  |  |  |
                  +--md--> risk, recorder                          |  |  |
                           risk --gate (seqlock)-------------------+  |  |  limits, positions,
                                |                                     |  |  state, heartbeat
                                +--orders (1:1)-----------------------+  |  exits, pulls on HALTED
        quoter, risk, recorder <--exec (bcast: acks, fills, positions)---+
```

The latency path is feed -> quoter -> gateway: a market record, a ladder, the pre-trade checks
(kernels/pretrade.pyx, run by the gateway against the gate risk publishes) and the request. Risk
keeps the books and the trading state off that path; a silent risk process (no gate write for
gateway.risk_timeout_s) stops quoting.

The agents, one per OS process:

| agent | what |
|---|---|
| feed.py | public websocket -> md ring (ticker, book, trades, index), staleness, reconnects |
| quoter.py | md + exec -> quotes ring (to the gateway) and quote_log: estimators and the AS/GLFT ladder (kernels/) |
| risk/ | exec + md + quote_log -> gate (limits, positions, trading state, heartbeat), orders (exits, pulls) |
| gateway/ | quotes + orders -> pre-trade checks -> Thalex private websocket; executions -> exec ring |
| recorder.py | md, quotes, exec -> CSV metrics of the run |

Each is an ``Agent`` (runtime/agent.py) driven by a ``Runner`` (runtime/runner.py: pinning, idle
strategy, heartbeat, signals), started by runtime/launch.py from the settings the supervisor
(runtime/supervisor.py) wrote. The operator's commands act through the shared state
(shm/state.py) as control/commands.py describes.
"""
