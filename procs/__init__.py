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

Each process is an ``Agent`` (``agent.py``: on_start / do_work / on_close) run by a ``Runner``
(``runner.py``: CPU pinning, idle strategy, heartbeat, signals), started by ``launch.py`` from the
settings the ``supervisor.py`` wrote. Segments are listed in ``segments.py``; the operator's
commands act through the shared state (``shm/state.py``) as ``commands.py`` describes.
"""
