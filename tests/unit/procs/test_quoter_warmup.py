"""The quoter's warm start against a real local exchange that has a past (``--history-s``):
history when there is no fresh state, the saved state when there is, the priors when neither, a
venue that does not answer never stops the start; the Quoter agent over real rings quotes its
first ladder with the warmed estimators and drops live trades the history already held."""
from __future__ import annotations

import logging
import time

import numpy as np
import pytest

from kernels.params import QuoteParams
from procs.quoter import Quoter
from procs.quoter_state import FILE_NAME, QuoterState
from procs.quoter_warmup import WarmStart
from runtime import segments
from shm import records as R
from testkit.exchange import running_sim

from agent_kit import BTC, drain, ticker

pytestmark = pytest.mark.timeout(120)
PARAMS = QuoteParams(intensity_min_arrivals=20)


@pytest.fixture(scope="module")
def past_sim():
    with running_sim(seed=5, flow_rate=2.0, history_s=300, recent_trades=3000) as sim:
        yield sim


def warm(tmp_path, url, history=True, max_age_s=60.0):
    return WarmStart(QuoterState(tmp_path / FILE_NAME, 2.0, max_age_s), url, history, 3600.0, 5.0)


def engines():
    from kernels.quote import QuoteEngine
    return [QuoteEngine(PARAMS, 1.0, 0.001, 0.001)]


def test_a_fresh_start_warms_from_the_exchanges_history(tmp_path, past_sim, caplog):
    w, e = warm(tmp_path, past_sim.url), engines()
    with caplog.at_level(logging.INFO, "quoter"):
        w.start(e, [BTC], PARAMS)
    assert w.sources == {BTC.id: "history"}
    assert e[0].intensity.fits == 1 and e[0].vol.sigma() != PARAMS.sigma_initial
    assert e[0].vol.sigma() == pytest.approx(5.0, rel=0.3)
    assert "warmed from 3600 s of exchange history" in caplog.text
    assert w.dedup is not None and not w.dedup.done


def test_a_fresh_saved_state_wins_over_the_history_and_a_stale_one_does_not(tmp_path, past_sim):
    first, e1 = warm(tmp_path, past_sim.url), engines()
    first.start(e1, [BTC], PARAMS)
    first.stop(e1, [BTC], PARAMS)
    again, e2 = warm(tmp_path, "ws://127.0.0.1:1/ws/api/v2"), engines()   # no venue needed
    again.start(e2, [BTC], PARAMS)
    assert again.sources == {BTC.id: "state"}
    assert (e2[0].vol.sigma(), e2[0].intensity.a, e2[0].intensity.k) == \
        (e1[0].vol.sigma(), e1[0].intensity.a, e1[0].intensity.k)
    stale, e3 = warm(tmp_path, past_sim.url, history=False, max_age_s=0.0), engines()
    time.sleep(0.05)
    stale.start(e3, [BTC], PARAMS)
    assert stale.sources == {BTC.id: "priors"} and e3[0].vol.sigma() == PARAMS.sigma_initial


def test_a_venue_that_does_not_answer_leaves_the_priors_and_says_so(tmp_path, caplog):
    w, e = warm(tmp_path, "ws://127.0.0.1:1/ws/api/v2"), engines()
    started = time.monotonic()
    with caplog.at_level(logging.INFO, "quoter"):
        w.start(e, [BTC], PARAMS)
    assert w.sources == {BTC.id: "priors"} and time.monotonic() - started < 5.0
    assert "exchange history: cannot connect" in caplog.text
    assert (e[0].vol.sigma(), e[0].intensity.a) == (PARAMS.sigma_initial, PARAMS.a_prior)


def test_the_quoter_quotes_its_first_ladder_warm_and_drops_live_duplicates_of_history(tmp_path, segs, instance,
                                                                                       past_sim):
    quoter = Quoter(instance, [BTC], PARAMS, warm(tmp_path, past_sim.url))
    quoter.on_start()
    try:
        engine = quoter.engines[0]
        seeded = (engine.vol.sigma(), engine.intensity.a)
        md = ticker(mark=100_000.0)
        segs["md"].write(md)
        quoter.do_work()
        [first] = drain(segs["quotes"], R.QUOTE_DTYPE)
        assert first["sigma"] == pytest.approx(seeded[0], rel=1e-9)
        assert first["intensity_a"] == pytest.approx(seeded[1], rel=1e-9) and seeded[1] != PARAMS.a_prior
        # a live trade the snapshot already held is dropped; a new one is taken
        dedup = quoter.dedup
        newest = max(dedup.newest_ns.values())
        history_trade = next(k for k in dedup.keys if k[1] == newest)
        live = np.zeros(2, R.TRADE_DTYPE)
        live["instrument_id"], live["exchange_ts_ns"] = 0, history_trade[1]
        live["price"], live["amount"], live["side"] = history_trade[2], history_trade[3], history_trade[4]
        live[1] = live[0]
        live["side"][1] = -history_trade[4]          # another arrival at that time: new
        arrivals = engine.intensity.arrivals
        segs["trades"].write_batch(live)
        quoter.do_work()
        assert dedup.dropped == 1 and engine.intensity.arrivals == arrivals + 1
    finally:
        quoter.on_close()
    assert (tmp_path / FILE_NAME).exists()          # saved when it stopped
