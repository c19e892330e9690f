"""A restarted risk process misses nothing and books nothing twice, over real rings.

The journal is a snapshot (book + the exec sequence it stands at); a crash loses whatever was
booked after it, and the restarted process books exactly that again from the ring. When the ring
no longer holds the sequence (lapped, or another ring), the gateway's replay of the trade history
covers the gap (from ``replay_since_ns``). Either way nothing is approved until the gateway's
marker answering the restart's reconcile request has been read."""
import json

import numpy as np
import pytest

from procs.risk.agent import RiskAgent
from procs.risk.reconcile import REPLAY_MARGIN_NS
from shm import records as R
from shm.gate import GATE_DTYPE

from agent_kit import BTC, drain, execution, ladder, many, marker, reconcile, risk_conf, ticker

CONF = risk_conf(max_position=1.0, max_order_size=0.5, max_notional=1e9, stop_loss=0.0, max_drawdown=0.0)
T0 = 1_790_000_000 * 1_000_000_000          # an exchange time, Unix ns


def fill(trade_id, side=1, amount=0.01, fee=0.02, price=100_000.0, kind=R.EXEC_FILL):
    e = execution(kind, side=side, price=price, amount=amount, trade_id=trade_id, fee=fee)
    e["exchange_ts_ns"] = T0 + trade_id * 1_000_000_000
    return e


def start(segs, instance, tmp_path, answer=True) -> RiskAgent:
    agent = RiskAgent(instance, [BTC], CONF, run_dir=tmp_path)
    agent.on_start()
    if answer:
        reconcile(segs, agent)
    return agent


def crash(agent: RiskAgent) -> None:
    """As SIGKILL would leave it: no last journal write (the mappings are closed all the same)."""
    agent.journal.path = None
    agent.on_close()


def books(agent: RiskAgent) -> tuple:
    b = agent.book
    return (round(b.position[0], 9), b.fills, round(b.fees, 9), round(b.realised, 9), b.duplicates)



def gate(segs):
    g = np.zeros(1, GATE_DTYPE)
    assert segs["gate"].read_into(g), "risk wrote no whole gate"
    return g[0]


def test_fills_booked_after_the_last_journal_write_are_booked_again_exactly_once(segs, instance, tmp_path):
    first = start(segs, instance, tmp_path)
    segs["exec"].write_batch(many([fill(1), fill(2, side=-1, amount=0.004)], R.EXEC_DTYPE))
    first.do_work()
    assert first.journal.save(first._journal_data, force=True)   # journalled: the book at 2 fills
    first.journal.min_interval_s = 3600.0      # and no other write before the crash
    segs["exec"].write_batch(many([fill(3), fill(4, amount=0.02), fill(2, side=-1, amount=0.004)],
                                  R.EXEC_DTYPE))
    first.do_work()                             # booked, not journalled
    expected = books(first)
    assert expected[1] == 4 and expected[4] == 1
    crash(first)
    again = start(segs, instance, tmp_path, answer=False)
    try:
        assert again.book.fills == 2           # the journal's snapshot...
        again.do_work()                         # ...and the ring from its sequence on
        assert books(again) == expected
        assert again.state.get("fills") == 4 and again.state.get("position")[0] == pytest.approx(0.036)
    finally:
        again.on_close()


def test_nothing_is_approved_until_the_marker_answering_the_restart_is_read(segs, instance, tmp_path):
    first = start(segs, instance, tmp_path)
    first.on_close()
    asked = segs["state"].get("reconcile_request_seq")
    again = start(segs, instance, tmp_path, answer=False)
    try:
        assert segs["state"].get("reconcile_request_seq") == asked + 1
        segs["md"].write(ticker())
        again.do_work()
        out = drain(segs["orders"], R.QUOTE_DTYPE)
        assert all(r["type"] == R.QUOTE_PULL and r["reason"] & R.RISK_RECONCILING for r in out) and len(out) == 1
        assert gate(segs)["block"] == R.RISK_RECONCILING        # the gateway sends no ladder
        segs["exec"].write(marker(asked))       # the answer to an older request
        again.do_work()
        assert gate(segs)["block"] == R.RISK_RECONCILING
        segs["exec"].write(fill(9, kind=R.EXEC_TRADE))          # the replay, then its marker
        segs["exec"].write(execution(R.EXEC_POSITION, position=0.01))
        segs["exec"].write(marker(asked + 1))
        again.do_work()
        g = gate(segs)
        assert g["block"] == 0 and again.book.fills == 1 and g["position"][0] == 0.01
    finally:
        again.on_close()


def test_when_the_ring_no_longer_holds_the_journals_sequence_the_trade_history_fills_the_gap(
        segs, instance, tmp_path):
    first = start(segs, instance, tmp_path)
    segs["exec"].write(fill(1))
    first.do_work()
    first.on_close()                            # journalled at the sequence after fill 1
    lost = [fill(2), fill(3, side=-1, amount=0.005)]
    segs["exec"].write_batch(many(lost, R.EXEC_DTYPE))
    segs["exec"].write_batch(many([execution(R.EXEC_ACK)] * (segs["exec"].capacity + 1), R.EXEC_DTYPE))
    again = start(segs, instance, tmp_path, answer=False)
    try:
        assert again.book.fills == 1
        # the gateway replays from here: the newest trade in the journal, less the margin
        assert segs["state"].get("replay_since_ns") == T0 + 1_000_000_000 - REPLAY_MARGIN_NS
        replay = [fill(1, kind=R.EXEC_TRADE)] + [fill(2, kind=R.EXEC_TRADE),
                                                 fill(3, side=-1, amount=0.005, kind=R.EXEC_TRADE)]
        segs["exec"].write_batch(many(replay + [execution(R.EXEC_POSITION, position=0.015),
                                                marker(segs["state"].get("reconcile_request_seq"))],
                                      R.EXEC_DTYPE))
        again.do_work()
        assert again.reconciliation.reconciled and again.lapped == 0
        assert (again.book.fills, again.book.position[0], again.mismatches) == (3, pytest.approx(0.015), 0)
    finally:
        again.on_close()


def test_a_journal_from_another_ring_is_not_read_from_its_sequence(segs, instance, tmp_path):
    first = start(segs, instance, tmp_path)
    segs["exec"].write(fill(1))
    first.do_work()
    first.on_close()
    path = tmp_path / "risk_book.json"
    data = json.loads(path.read_text())
    data["exec"]["ring"] = [1, 2]               # a ring of another run
    data["exec"]["seq"] = 0
    path.write_text(json.dumps(data))
    again = start(segs, instance, tmp_path, answer=False)
    try:
        assert again.exec.cursor == segs["exec"].tail   # from the newest record, not from 0
        again.do_work()
        assert again.book.fills == 1                     # fill 1 is not booked a second time
    finally:
        again.on_close()


def test_without_a_journal_the_whole_history_is_asked_for(segs, instance, tmp_path):
    segs["state"].set("replay_since_ns", 12345)   # whatever an earlier process left
    agent = start(segs, instance, tmp_path, answer=False)
    try:
        assert segs["state"].get("replay_since_ns") == 0 and agent.book.fills == 0
        assert segs["state"].get("exec_booked_seq") == agent.exec.cursor + 1
    finally:
        agent.on_close()


def test_thirty_crashes_while_fills_flow_leave_the_book_exactly_right(segs, instance, tmp_path):
    """A crash at every point between journal writes: 30 restarts, 300 fills, some repeated."""
    rng = np.random.default_rng(3)
    (tmp_path / "ref").mkdir()
    reference = start(segs, instance, tmp_path / "ref")    # never crashes
    agent = start(segs, instance, tmp_path)
    trade = 0
    try:
        for _ in range(30):
            agent.journal.min_interval_s = float(rng.choice([0.0, 3600.0]))
            for _ in range(int(rng.integers(1, 20))):
                trade += 1
                batch = [fill(trade, side=int(rng.choice([1, -1])), amount=float(rng.integers(1, 9)) / 1000)]
                if rng.random() < 0.3:
                    batch.append(fill(trade, side=batch[0]["side"][0], amount=batch[0]["amount"][0],
                                      kind=R.EXEC_TRADE))
                segs["exec"].write_batch(many(batch, R.EXEC_DTYPE))
                if rng.random() < 0.5:
                    agent.do_work()
            reference.do_work()
            crash(agent)
            agent = start(segs, instance, tmp_path, answer=False)
            reference.do_work()
        agent.do_work()
        assert books(agent)[:4] == books(reference)[:4] and agent.book.fills == trade
    finally:
        agent.on_close()
        reference.on_close()
