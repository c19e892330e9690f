"""The control port: msgpack requests over a real ROUTER socket on 127.0.0.1."""
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
