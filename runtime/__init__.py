"""The process runtime: how a pipeline of pinned OS processes is started, run and watched.

| module | what |
|---|---|
| agent.py | the shape of every process: on_start / do_work / report / on_close |
| runner.py | drives one agent: pinning, idle strategy, heartbeat, signals |
| idle.py | wait strategies by name (busy-spin, yield, backoff on a futex doorbell, sleep) |
| collector.py | Python's garbage collection frozen at start, then only right before a process blocks |
| pinning.py | CPU affinity that degrades gracefully where a CPU is missing |
| handoff.py | ring a consumer's bell and step off the CPU when it shares ours (the latency path) |
| launch.py | ``python -m runtime.launch NAME``: one pipeline process from settings.json |
| supervisor.py | owns the segments, starts in order, watches heartbeats, restarts, stops |
| parent_death.py | every process (and the embedded exchange) dies with its supervisor |
| account_lock.py | one pipeline per venue, key and account: an flock held by all its processes |
| segments.py | every segment of a pipeline instance and who reads/writes it |
| live_params.py | the quoter's live parameters in a seqlocked shared-memory record |
| reconnect.py | the one reconnect policy (exponential backoff, reset on success) |
| settings.py | the validated Config plus run facts (venue URL, instruments) every process reads |
| paper.py | a throwaway key and the embedded local exchange for paper trading |
| main.py | ``bin/mm run``: validate, start, serve the control port, stop |
"""
