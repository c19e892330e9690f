"""The supervisor under an adversary: killed itself, started twice on one account, flooded.

Real ``bin/mm run`` processes (testkit/pipeline.py) against a local exchange; every test has a
hard timeout and stops what it started by pid.
"""
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import msgpack
import pytest
import zmq

from control.mmctl import request
from shm import segment as seg
from shm.counters import Counters
from testkit.exchange import make_key_pair, running_sim
from testkit.pipeline import ROOT, Pipeline

pytestmark = pytest.mark.timeout(150)


def gone(pid: int) -> bool:
    """True once ``pid`` has exited (a zombie nobody reaped yet maps and sends nothing)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] in ("Z", "X")
    except FileNotFoundError:
        return True


def kill_all(pids) -> None:
    for pid in pids:
        if not gone(pid):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


@pytest.fixture
def account(tmp_path):
    """A local exchange with one registered key: (sim, environment naming the key)."""
    kid, private, public = make_key_pair(tmp_path / "keys")
    with running_sim(api_keys={kid: public}, seed=7) as sim:
        yield sim, {"THALEX_KEY_ID": kid, "THALEX_PRIVATE_KEY_FILE": str(private)}


def live_pipeline(tmp: Path, sim, env: dict) -> Pipeline:
    tmp.mkdir(parents=True, exist_ok=True)
    return Pipeline(tmp, "--set", f"venue.url={sim.url}", env=env)


def test_a_sigkilled_supervisor_takes_its_pipeline_with_it_and_nothing_rests(tmp_path, account):
    sim, env = account
    mm = live_pipeline(tmp_path / "a", sim, env)
    children = []
    try:
        mm.wait(lambda s: s["quoting"], 30, "quoting")
        assert mm.exchange_state()["open_orders"], "nothing rested: the test would prove nothing"
        children = [p["pid"] for p in mm.ctl("status")["processes"]]
        assert len(children) == 5 and all(children)
        os.kill(mm.proc.pid, signal.SIGKILL)
        mm.proc.wait(timeout=10)
        deadline = time.monotonic() + 5.0
        while time.monotonic() < deadline and not all(gone(pid) for pid in children):
            time.sleep(0.05)
        assert [pid for pid in children if not gone(pid)] == [], "pipeline processes outlived their supervisor"
        deadline = time.monotonic() + 5.0
        while time.monotonic() < deadline and mm.exchange_state()["open_orders"]:
            time.sleep(0.1)
        assert mm.exchange_state()["open_orders"] == []
        # Nobody maps the dead run's segments any more: a sweep may take them now.
        left = mm.leftovers()
        assert left and sorted(seg.sweep(mm.instance)) == left
    finally:
        kill_all(children)
        mm.stop()
        for name in seg.list_segments(mm.instance):
            os.unlink(seg.SHM_DIR / name)


def children_of(pid: int) -> list[int]:
    out = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1]) == pid:
                    out.append(int(entry.name))
            except (OSError, IndexError, ValueError):
                pass
    return out


def test_a_sigkilled_paper_supervisor_takes_the_embedded_exchange_with_it(tmp_path):
    mm = Pipeline(tmp_path)
    children = []
    try:
        mm.wait(lambda s: s["quoting"], 30, "quoting")
        children = children_of(mm.proc.pid)
        assert len(children) == 6, children      # five pipeline processes and the local exchange
        os.kill(mm.proc.pid, signal.SIGKILL)
        mm.proc.wait(timeout=10)
        deadline = time.monotonic() + 5.0
        while time.monotonic() < deadline and not all(gone(pid) for pid in children):
            time.sleep(0.05)
        assert [pid for pid in children if not gone(pid)] == []
    finally:
        kill_all(children)
        mm.stop()
        for name in seg.list_segments(mm.instance):
            os.unlink(seg.SHM_DIR / name)


def test_a_second_pipeline_on_the_same_account_is_refused_while_the_first_keeps_trading(tmp_path, account):
    sim, env = account
    first = live_pipeline(tmp_path / "first", sim, env)
    try:
        first.wait(lambda s: s["quoting"], 30, "first quoting")
        before = first.ctl("status")
        try:
            second = live_pipeline(tmp_path / "second", sim, env)
        except RuntimeError as exc:
            text = str(exc)
        else:
            second.stop()
            pytest.fail("a second pipeline started on an account the first one trades")
        assert "exited 1" in text and "already traded by bin/mm run pid" in text
        assert env["THALEX_KEY_ID"] in text and sim.url in text and f"pid {first.proc.pid}" in text
        assert not list((tmp_path / "second" / "runs").glob("*")), "the refused start left a run directory"
        # The first never noticed: same processes, still quoting on the exchange.
        first.wait(lambda s: s["quoting"], 10, "first still quoting")
        after = first.ctl("status")
        assert [(p["pid"], p["restarts"]) for p in after["processes"]] == \
            [(p["pid"], p["restarts"]) for p in before["processes"]]
        assert first.exchange_state()["open_orders"]
    finally:
        assert first.stop() == 0, first.output()
        assert first.leftovers() == []


def _flood(endpoint: str, stop: threading.Event, counts: list, outstanding: int = 20) -> None:
    """One client keeping ``outstanding`` status requests in flight until ``stop``."""
    sock = zmq.Context.instance().socket(zmq.DEALER)
    sock.setsockopt(zmq.LINGER, 0)
    sock.connect(endpoint)
    request_bytes = msgpack.packb({"cmd": "status", "args": {}})
    try:
        for _ in range(outstanding):
            sock.send(request_bytes)
        while not stop.is_set():
            if sock.poll(100):
                sock.recv()
                counts.append(1)
                sock.send(request_bytes)
    finally:
        sock.close(linger=0)


def _slot(counters: Counters, name: str) -> dict:
    return next(row for row in counters.snapshot() if row["name"] == name)


def test_a_control_port_flood_does_not_delay_a_restart(tmp_path):
    mm = Pipeline(tmp_path)
    stop = threading.Event()
    threads, counts = [], []
    counters = None
    try:
        mm.wait(lambda s: s["quoting"], 30, "quoting")
        counters = Counters.attach(mm.instance)
        for _ in range(8):
            threads.append(threading.Thread(target=_flood, args=(mm.endpoint, stop, counts), daemon=True))
            threads[-1].start()
        time.sleep(1.0)
        assert len(counts) > 100, "the flood never got going"
        before = _slot(counters, "quoter")
        os.kill(before["pid"], signal.SIGKILL)
        killed = time.monotonic()
        while time.monotonic() - killed < 10 and _slot(counters, "quoter")["restarts"] == before["restarts"]:
            time.sleep(0.005)
        took = time.monotonic() - killed
        served = len(counts)
        time.sleep(0.5)
        assert len(counts) > served, "the flood stopped during the restart: it proved nothing"
        assert took < 1.0, f"quoter restarted {took:.2f}s after its SIGKILL under a control-port flood"
    finally:
        stop.set()
        for t in threads:
            t.join(5)
        if counters is not None:
            counters.close()
        assert mm.stop() == 0, mm.output()
        assert mm.leftovers() == []


def test_gateway_death_clears_quoting_and_operator_commands_reach_the_run_log(tmp_path):
    mm = Pipeline(tmp_path)
    try:
        mm.wait(lambda s: s["quoting"], 30, "quoting")
        gateway = {p["name"]: p for p in mm.ctl("status")["processes"]}["gateway"]
        os.kill(gateway["pid"], signal.SIGKILL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            status = mm.ctl("status")
            if {p["name"]: p for p in status["processes"]}["gateway"]["restarts"] > gateway["restarts"]:
                break
        # The first status after the supervisor handled the death: the new gateway has not
        # logged in yet, nothing rests (cancel-on-disconnect), so it must not say quoting.
        assert not status["quoting"] and not status["connected"], status
        mm.wait(lambda s: s["quoting"], 30, "quoting again")

        forged = "quoter.gamma\n2030-01-01 00:00:00,000 WARNING control    operator command: kill"
        reply = request(mm.endpoint, "set", {forged: 0.2}, timeout_s=10)
        assert reply["ok"] is False and "expected SECTION.KEY" in reply["error"]
        mm.ctl("set", **{"quoter.gamma": 0.2})
        mm.ctl("pause")
        mm.ctl("resume")
        log_text = (Path(status["run_dir"]) / "logs" / "supervisor.log").read_text()
        assert "operator command: set quoter.gamma=0.2" in log_text
        assert "operator command: pause" in log_text and "operator command: resume" in log_text
        assert "operator command: kill" not in log_text and "2030-01-01" not in log_text
        assert "operator command: kill" not in mm.output()
    finally:
        assert mm.stop() == 0, mm.output()
        assert mm.leftovers() == []


def run_mm(tmp_path, *sets, timeout_s=60):
    """``bin/mm run`` expected to fail its start; one that starts after all is stopped by pid."""
    proc = subprocess.Popen([sys.executable, "-m", "runtime.main", "run", "--set", f"recorder.dir={tmp_path}",
                             *sets], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        out, err = proc.communicate(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGTERM)   # a graceful stop takes its processes down too
        out, err = proc.communicate(timeout=30)
        pytest.fail(f"bin/mm run did not fail its start within {timeout_s}s:\n{err}")
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


def test_a_clashing_control_port_fails_the_start_and_leaves_nothing(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        out = run_mm(tmp_path, "--set", f"control.port={port}", "--set", f"control.pub_port={port + 1}")
    assert out.returncode == 1, out.stderr
    assert f"control port tcp://127.0.0.1:{port}" in out.stderr
    assert "unlinked" not in out.stderr           # no segment had been made
    assert not list(tmp_path.iterdir()), "the failed start left its run directory"
    assert seg.list_segments(f"p{port}") == []


def test_a_base_size_below_the_minimum_order_size_is_refused_at_start(tmp_path):
    out = run_mm(tmp_path, "--set", "quoter.base_size=0.0005")
    assert out.returncode == 2, out.stderr
    assert "quoter.base_size=0.0005 is below the minimum order size 0.001 of BTC-PERPETUAL" in out.stderr
    assert not list(tmp_path.iterdir())

