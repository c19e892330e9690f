"""The control port: a ZeroMQ ROUTER (msgpack requests and replies) and a PUB telemetry socket.

| module | what |
|---|---|
| server.py | ControlServer: bind (CURVE off loopback), serve requests, publish telemetry |
| commands.py | the commands (ping, status, params, set, pause, resume, halt, flatten, shutdown) |
| mmctl.py | ``bin/mmctl``: the client |
"""
