"""The control port: msgpack requests over a real ROUTER socket on 127.0.0.1."""
import logging
import subprocess
import sys
import time

import msgpack
import pytest
import zmq

from control.server import ControlServer
from testkit.pipeline import free_port_pair
from control.mmctl import parse_args, render, request


@pytest.fixture
def server():
    port = free_port_pair()
    handlers = {"ping": lambda args: {"pong": True},
                "echo": lambda args: args,
                "strict": lambda args: (_ for _ in ()).throw(ValueError(f"bad value {args.get('x')!r}"))}
    s = ControlServer(handlers, "127.0.0.1", port, port + 1)
    yield s
    s.close()


def ask(server, cmd, args=None):
    from threading import Thread
    out = {}
    t = Thread(target=lambda: out.setdefault("r", request(server.endpoint, cmd, args, timeout_s=5)))
    t.start()
    for _ in range(100):
        server.serve(50)
        if not t.is_alive():
            break
    t.join(5)
    return out["r"]


@pytest.mark.timeout(30)
def test_a_known_command_is_answered(server):
    assert ask(server, "ping") == {"ok": True, "result": {"pong": True}}
    assert ask(server, "echo", {"a": 1}) == {"ok": True, "result": {"a": 1}}


@pytest.mark.timeout(30)
def test_unknown_commands_and_bad_arguments_get_a_clear_error(server):
    reply = ask(server, "explode")
    assert reply["ok"] is False and "unknown command 'explode'" in reply["error"] and "ping" in reply["error"]
    reply = ask(server, "strict", {"x": -1})
    assert reply == {"ok": False, "error": "strict: bad value -1"}


@pytest.mark.timeout(30)
def test_garbage_is_answered_not_fatal(server):
    ctx = zmq.Context.instance()
    sock = ctx.socket(zmq.DEALER)
    sock.connect(server.endpoint)
    for payload in (b"\xc1not msgpack", msgpack.packb([1, 2]), msgpack.packb({"cmd": "echo", "args": [1]})):
        sock.send(payload)
        for _ in range(50):
            if server.serve(20):
                break
        reply = msgpack.unpackb(sock.recv(), raw=False)
        assert reply["ok"] is False and reply["error"]
    sock.close(linger=0)
    assert ask(server, "ping")["ok"]


def test_binding_beyond_loopback_requires_curve_keys():
    with pytest.raises(ValueError, match="requires control.curve_secret_key_file"):
        ControlServer({}, "0.0.0.0", free_port_pair(), 1)


def test_mmctl_arguments_are_typed_like_toml():
    assert parse_args(["quoter.gamma=0.1", "levels=3", "flag=true", "name=abc"]) == {
        "quoter.gamma": 0.1, "levels": 3, "flag": True, "name": "abc"}
    with pytest.raises(ValueError, match="expected KEY=VALUE"):
        parse_args(["oops"])


def test_mmctl_renders_status_readably():
    text = render("status", {"venue": "ws://x", "trading_state": "ACTIVE", "reason": "", "paused": False,
                             "quoting": True, "connected": True, "md_stale": False, "fills": 3,
                             "pnl": {"realised": 1.0}, "positions": {"BTC-PERPETUAL": 0.002},
                             "processes": [{"name": "quoter", "pid": 1, "cpu": 1, "alive": True,
                                            "heartbeat_age_s": 0.01, "restarts": 0, "errors": 0}]})
    assert "ACTIVE" in text and "BTC-PERPETUAL" in text and "+0.002000" in text and "quoter" in text
    why = render("status", {"trading_state": "ACTIVE", "not_quoting": {"BTC-PERPETUAL": "implausible price"}})
    assert "not quoting BTC-PERPETUAL: implausible price" in why


@pytest.mark.timeout(30)
def test_one_serve_pass_answers_a_bounded_number_of_requests(server):
    """A flood must not keep the supervisor's loop inside serve (it watches the processes)."""
    sock = zmq.Context.instance().socket(zmq.DEALER)
    sock.connect(server.endpoint)
    for i in range(100):
        sock.send(msgpack.packb({"cmd": "echo", "args": {"i": i}}))
    time.sleep(0.3)                       # all 100 wait in the server's socket
    first = server.serve(50)
    assert 1 <= first <= 32
    total = first
    for _ in range(100):
        if total == 100:
            break
        total += server.serve(50)
    assert total == 100
    replies = [msgpack.unpackb(sock.recv(), raw=False)["result"]["i"] for _ in range(100)]
    assert sorted(replies) == list(range(100))
    sock.close(linger=0)


@pytest.mark.timeout(30)
def test_slow_requests_end_a_serve_pass_within_its_time_budget():
    port = free_port_pair()
    s = ControlServer({"slow": lambda args: time.sleep(0.01) or {}}, "127.0.0.1", port, port + 1)
    sock = zmq.Context.instance().socket(zmq.DEALER)
    try:
        sock.connect(s.endpoint)
        for _ in range(10):
            sock.send(msgpack.packb({"cmd": "slow", "args": {}}))
        time.sleep(0.3)
        assert 1 <= s.serve(50, budget_ms=20) <= 3
    finally:
        sock.close(linger=0)
        s.close()


class _State:
    def __init__(self):
        self.version = 0

    def bump(self, name):
        self.version += 1
        return self.version


class _Sup:
    def __init__(self):
        self.settings, self.segs, self.instance, self.run_dir = {}, {}, "t", "/tmp"
        self.state, self.written = _State(), 0

    def apply_settings(self, settings):
        self.written += 1
        return 2 * self.written


@pytest.fixture
def commands_server():
    from control.commands import Commands
    applied = []
    sup = _Sup()
    commands = Commands(sup, "ws://x", lambda settings, key, value: applied.append((key, value)) or settings)
    port = free_port_pair()
    s = ControlServer(commands.handlers(), "127.0.0.1", port, port + 1)
    yield s, sup, applied
    s.close()


@pytest.mark.timeout(30)
def test_set_refuses_keys_and_values_that_are_not_plain_before_logging_or_applying(commands_server, caplog):
    server, sup, applied = commands_server
    caplog.set_level(logging.DEBUG)
    forged = "quoter.gamma\n2030-01-01 00:00:00,000 WARNING control operator command: kill"
    for args in ({forged: 0.1}, {"quoter.model": "glft\nforged"}, {"quoter.gamma": float("nan")},
                 {"Quoter.gamma": 1}, {"quoter.gamma": {"nested": 1}}):
        reply = ask(server, "set", args)
        assert reply["ok"] is False, args
    assert "expected SECTION.KEY" in ask(server, "set", {forged: 0.1})["error"]
    assert applied == [] and sup.written == 0
    assert not [r for r in caplog.records if "forged" in r.getMessage() or "2030" in r.getMessage()]
    reply = ask(server, "set", {"quoter.gamma": 0.2})
    assert reply["ok"] and applied == [("quoter.gamma", 0.2)] and sup.written == 1
    assert [r.getMessage() for r in caplog.records if "operator command" in r.getMessage()] == \
        ["operator command: set quoter.gamma=0.2"]


@pytest.mark.timeout(60)
def test_set_without_arguments_says_so_once(commands_server):
    server, _, _ = commands_server
    once = "set: expected at least one SECTION.KEY=VALUE argument, e.g. quoter.gamma=0.1"
    assert ask(server, "set")["error"] == once
    from threading import Thread
    out = {}
    cmd = [sys.executable, "-m", "control.mmctl", "--endpoint", server.endpoint, "set"]
    t = Thread(target=lambda: out.setdefault("r", subprocess.run(cmd, capture_output=True, text=True, timeout=50)))
    t.start()
    while t.is_alive():
        server.serve(50)
    assert out["r"].returncode == 1
    assert out["r"].stderr.strip() == f"mmctl: {once}"
