"""The quoter's latency path in C (procs/quote_pass.pyx) over real rings and a real doorbell: a
market record in -> the engine's ladder on ``quotes``, stamped and the gateway rung; the inventory
read from the shared state at each record; a full ring refuses the ladder unrung; a record of an
instrument nobody quotes is skipped; bad wiring is refused with the thing named."""
import dataclasses
import time

import numpy as np
import pytest

from kernels.params import QuoteParams
from kernels.quote import QuoteEngine
from procs.quote_pass import QuotePass
from runtime import segments
from shm import records as R
from shm.doorbell import Doorbells
from shm.state import SharedState

from agent_kit import BTC, MARK, drain, ticker

PARAMS = dataclasses.replace(QuoteParams(), max_position=0.1)


@pytest.fixture
def wired(segs, instance):
    md_ring, quotes = segments.reader(instance, "md"), segments.writer(instance, "quotes")
    state, bells = SharedState.attach(instance), Doorbells.attach(instance)
    engines = [QuoteEngine(PARAMS, BTC.tick_size, BTC.amount_tick, BTC.min_amount, BTC.expiry_s)]
    md, out = np.zeros(1, R.MD_DTYPE), np.zeros(1, R.QUOTE_DTYPE)
    qp = QuotePass(md_ring, quotes, bells.bell("gateway"), engines, state.table["position"][0], md, out)
    yield qp, state, bells.bell("gateway")
    del qp
    for seg in (md_ring, quotes, state, bells):
        seg.close()


def test_a_market_record_becomes_a_stamped_ladder_on_quotes_and_the_gateway_is_rung(segs, wired):
    qp, _, bell = wired
    assert qp.step() == -1                                   # nothing waiting
    rung = bell.seq
    before = time.monotonic_ns()
    segs["md"].write(ticker(mark=MARK, bid=MARK - 5, ask=MARK + 5))
    assert qp.step() == 1 and qp.iid == BTC.id and qp.status and not qp.full
    sent = drain(segs["quotes"], R.QUOTE_DTYPE)
    assert len(sent) == 1 and sent[0]["seq"] == qp.seq == 1 and sent[0]["type"] == R.QUOTE_SET
    assert before <= sent[0]["created_ts_ns"] <= time.monotonic_ns()
    assert sent[0]["bid_price"][0] < MARK < sent[0]["ask_price"][0]
    assert bell.seq == rung + 1
    segs["md"].write(ticker(mark=MARK, bid=MARK - 5, ask=MARK + 5))
    assert qp.step() == 1 and qp.status == 0                  # nothing new: nothing sent, nobody rung
    assert len(drain(segs["quotes"], R.QUOTE_DTYPE)) == 0 and bell.seq == rung + 1


def test_the_inventory_is_risks_latest_at_each_record(segs, wired):
    qp, state, _ = wired
    centres = []
    for position in (0.0, 0.08):
        state.table["position"][0][BTC.id] = position
        segs["md"].write(ticker(mark=MARK + len(centres) * 50, bid=MARK - 5, ask=MARK + 5))
        assert qp.step() == 1 and qp.status
        q = drain(segs["quotes"], R.QUOTE_DTYPE)[-1]
        assert q["inventory"] == pytest.approx(position)
        centres.append(q["reservation_price"] - q["mid"])
    assert centres[1] < centres[0]                            # long: the ladder leans down


def test_a_full_quotes_ring_refuses_the_ladder_and_nobody_is_rung(segs, wired):
    qp, _, bell = wired
    written, mark = 0, MARK
    while True:
        mark += 20.0                                          # every record moves the ladder
        segs["md"].write(ticker(mark=mark, bid=mark - 5, ask=mark + 5))
        rung = bell.seq
        assert qp.step() == 1 and qp.status
        if qp.full:
            break
        written += 1
        assert written <= segments.SPECS["quotes"].capacity, "the ring never filled"
    assert written == segments.SPECS["quotes"].capacity and bell.seq == rung


def test_a_record_of_an_instrument_nobody_quotes_is_skipped(segs, wired):
    qp, _, _ = wired
    md = ticker(mark=MARK, bid=MARK - 5, ask=MARK + 5)
    md["instrument_id"] = 7
    segs["md"].write(md)
    assert qp.step() == 0 and qp.iid == 7 and qp.step() == -1
    assert len(drain(segs["quotes"], R.QUOTE_DTYPE)) == 0


def test_bad_wiring_is_refused_naming_the_thing(segs, instance, wired):
    qp, state, bell = wired
    md_ring, quotes = segments.reader(instance, "md"), segments.writer(instance, "quotes")
    good = dict(engines=[], positions=state.table["position"][0], md=np.zeros(1, R.MD_DTYPE),
                out=np.zeros(1, R.QUOTE_DTYPE))
    try:
        with pytest.raises(TypeError, match="QuotePass out"):
            QuotePass(md_ring, quotes, bell, **{**good, "out": np.zeros(2, R.QUOTE_DTYPE)})
        with pytest.raises(TypeError, match=r"QuotePass engines\[0\]"):
            QuotePass(md_ring, quotes, bell, **{**good, "engines": [object()]})
        with pytest.raises(ValueError, match="QuotePass positions"):
            QuotePass(md_ring, quotes, bell, **{**good, "positions": np.zeros(0),
                                                "engines": [QuoteEngine(PARAMS, 1.0, 0.001, 0.001, 0.0)]})
    finally:
        md_ring.close()
        quotes.close()
