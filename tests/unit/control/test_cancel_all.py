"""Cancel-all has one implementation on each side: one request path (supervisor), one exchange path (gateway)."""
import ast
import time
from pathlib import Path

import pytest

import conf
from control.commands import Commands
from runtime import settings as S
from runtime.main import validate_set
from runtime.supervisor import Supervisor

ROOT = Path(__file__).resolve().parents[3]


def calls_of(method: str, *packages: str) -> list[str]:
    """Where ``<anything>.method(...)`` is called, as file:function."""
    out = []
    for package in packages:
        for path in sorted((ROOT / package).rglob("*.py")):
            tree = ast.parse(path.read_text())
            for fn in (n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)):
                for node in ast.walk(fn):
                    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == method:
                        out.append(f"{path.relative_to(ROOT)}:{fn.name}")
    return out


def test_the_exchange_side_cancel_all_is_one_gateway_method_that_the_others_call():
    assert calls_of("cancel_all", "procs", "runtime", "control") == ["procs/gateway/session.py:cancel_all_orders"]
    assert calls_of("cancel_mass_quote", "procs", "runtime", "control") == ["procs/gateway/session.py:cancel_all_orders"]
    callers = sorted(set(calls_of("cancel_all_orders", "procs")))
    assert callers == ["procs/gateway/session.py:cancel_everything", "procs/gateway/session.py:close",
                       "procs/gateway/session.py:reconcile"]


def test_every_cancel_all_request_goes_through_the_supervisor():
    posted = [(path, n) for path in sorted((ROOT / "control").rglob("*.py")) + sorted((ROOT / "runtime").rglob("*.py"))
              for n in ast.walk(ast.parse(path.read_text())) if isinstance(n, ast.Constant)
              and n.value in ("kill_request_seq", "cancel_request_seq")]
    assert posted == [], "a cancel-all request posted outside Supervisor.request_cancel_all"
    assert calls_of("request_cancel_all", "control") == ["control/commands.py:kill"]
    assert sorted(calls_of("request_cancel_all", "runtime")) == ["runtime/supervisor.py:restart",
                                                                 "runtime/supervisor.py:stop"]


@pytest.fixture
def supervisor(instance, tmp_path):
    settings = S.build(conf.load(), instance=instance, venue_url="ws://x", key_id="K", key_file="/k", instruments=[])
    sup = Supervisor(settings, tmp_path)
    sup.create_segments()
    yield sup
    sup.stop(grace_s=0.1)


def test_kill_with_no_gateway_running_halts_posts_the_request_and_answers_at_once(supervisor):
    started = time.monotonic()
    reply = Commands(supervisor, "ws://x", validate_set).handlers()["kill"]({})
    assert time.monotonic() - started < 1.0
    assert reply["cancelled"] is False and "cancel-on-disconnect" in reply["note"]
    s = supervisor.state.snapshot()
    assert s["trading_state_name"] == "HALTED" and s["reason_text"] == "kill"
    assert s["kill_request_seq"] == reply["kill_seq"] == 1 and s["cancel_request_seq"] == 0


def test_an_unknown_cancel_all_kind_is_refused(supervisor):
    with pytest.raises(ValueError, match="cancel-all kind='flatten': expected 'cancel' or 'kill'"):
        supervisor.request_cancel_all("flatten")
