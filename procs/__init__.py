"""The pipeline: one small agent per OS process, records through shared-memory rings.

```
             supervisor (bin/mm run): spawns, pins, owns shm segments, heartbeats, restarts,
             ZeroMQ control port (ROUTER, msgpack) + telemetry (PUB)
                  |            |             |              |              |
Thalex WS  -->  feed  --md-->  quoter  --quotes-->  risk  --orders-->  gateway  -->  Thalex WS
(public)          |   (bcast)    ^       (1:1)       ^      (1:1)        |         (private)
                  +--md--> risk, recorder            +------exec---------+--> quoter, recorder
                                                          (bcast: acks, fills, positions)
```

The agents, one per OS process:

| agent | what |
|---|---|
| feed.py | public websocket -> md ring (ticker, book, trades, index), staleness, reconnects |
| quoter.py | md + exec -> quotes ring: estimators and the AS/GLFT ladder (kernels/) |
| risk/ | quotes + exec + md -> orders ring: positions, P&L, limits, trading state |
| gateway/ | orders ring -> Thalex private websocket; executions -> exec ring |
| recorder.py | md, quotes, exec -> CSV metrics of the run |

Each is an ``Agent`` (runtime/agent.py) driven by a ``Runner`` (runtime/runner.py: pinning, idle
strategy, heartbeat, signals), started by runtime/launch.py from the settings the supervisor
(runtime/supervisor.py) wrote. The operator's commands act through the shared state
(shm/state.py) as control/commands.py describes.
"""
