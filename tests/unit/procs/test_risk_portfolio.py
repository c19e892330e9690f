"""Portfolio limits in USD across instruments: net delta per underlying (perpetual and future
together), gross notional; REDUCING for the whole account, and the side each instrument may quote."""
import numpy as np
import pytest

from procs.risk.portfolio import Portfolio, PortfolioLimits
from procs.risk.trading_state import REASON_CODES, TradingState
from runtime.settings import Instrument
from shm import records as R
from shm.state import ACTIVE, HALTED, REDUCING, SharedState

from agent_kit import ladder, risk_conf

PERP = Instrument(0, "BTC-PERPETUAL", "FBTCUSD", 1.0, 0.001, 0.001, 0.0)
FUT = Instrument(1, "BTC-25DEC26", "FBTCUSD", 1.0, 0.001, 0.001, 1.8e9)
ETH = Instrument(2, "ETH-PERPETUAL", "FETHUSD", 0.1, 0.01, 0.01, 0.0)
MARKS = [100_000.0, 101_000.0, 3_500.0]
NONE = [0.0, 0.0, 0.0]


def book(max_delta=1_000.0, max_gross=0.0, fraction=0.8):
    return Portfolio([PERP, FUT, ETH], PortfolioLimits(max_delta, max_gross, fraction))


def amounts(q, side):
    n = int(q[f"n_{side}s"][0])
    return [round(float(a), 9) for a in q[f"{side}_amount"][0][:n]]


def test_net_delta_adds_the_perpetual_and_the_future_of_one_underlying_in_usd():
    pf = book()
    pf.update([0.002, -0.001, 0.5], MARKS)
    assert pf.underlyings == ["BTCUSD", "ETHUSD"]
    assert pf.net_delta == pytest.approx([0.002 * 100_000 - 0.001 * 101_000, 0.5 * 3_500])
    assert pf.gross == pytest.approx(0.002 * 100_000 + 0.001 * 101_000 + 0.5 * 3_500)


def test_a_btc_delta_beyond_the_band_through_the_future_leaves_the_perpetual_only_its_asks():
    pf = book(max_delta=1_000.0)
    pf.update([0.0, 0.008, 0.0], MARKS)                  # 808 USD of BTC delta, all in the future
    assert pf.reduces_delta(PERP.id) and pf.reduces_delta(FUT.id) and not pf.reduces_delta(ETH.id)
    q = ladder(bids=(99_990, 99_980), asks=(100_010, 100_020), amount=0.001, iid=PERP.id)
    reason = pf.trim(q, PERP.id, [0.0, 0.008, 0.0], MARKS, NONE, NONE, 0.001, 0.001)
    assert reason & R.RISK_REDUCING
    assert amounts(q, "bid") == [] and amounts(q, "ask") == [0.001, 0.001]


def test_the_side_follows_the_underlyings_delta_not_the_instruments_own_position():
    pf = book(max_delta=1_000.0)
    positions = [-0.002, 0.011, 0.0]                     # perpetual short, BTC net long 911 USD
    pf.update(positions, MARKS)
    q = ladder(bids=(99_990,), asks=(100_010,), amount=0.001, iid=PERP.id)
    pf.trim(q, PERP.id, positions, MARKS, NONE, NONE, 0.001, 0.001)
    assert amounts(q, "bid") == [] and amounts(q, "ask") == [0.001]   # selling grows its short, shrinks BTC delta


def test_below_the_band_a_side_is_cut_where_it_would_pass_the_limit_counting_resting_orders():
    pf = book(max_delta=1_000.0)
    positions = [0.0, 0.005, 0.0]                        # 505 USD long BTC, below the 800 band
    pf.update(positions, MARKS)
    assert not pf.reduces_delta(PERP.id)
    open_bid = [0.0, 0.002, 0.0]                         # the future's resting bids: 202 USD more
    q = ladder(bids=(99_990, 99_980, 99_970), asks=(100_010,), amount=0.002, iid=PERP.id)
    reason = pf.trim(q, PERP.id, positions, MARKS, open_bid, NONE, 0.001, 0.001)
    assert reason & R.RISK_TRIM_NET_DELTA
    room = (1_000.0 - 505.0 - 202.0) / 100_000.0         # contracts of BTC the perpetual may still buy
    assert sum(amounts(q, "bid")) <= room + 1e-12 and amounts(q, "bid") == [0.002]
    assert amounts(q, "ask") == [0.002]


def test_the_gross_notional_limit_cuts_only_sides_that_grow_a_position():
    pf = book(max_delta=0.0, max_gross=1_000.0)
    positions = [0.004, 0.0, 0.1]                        # 400 + 350 = 750 USD gross
    pf.update(positions, MARKS)
    q = ladder(bids=(99_990, 99_980), asks=(100_010, 100_020), amount=0.002, iid=PERP.id)
    reason = pf.trim(q, PERP.id, positions, MARKS, NONE, NONE, 0.001, 0.001)
    assert reason & R.RISK_TRIM_GROSS
    assert amounts(q, "bid") == [0.002] and amounts(q, "ask") == [0.002, 0.002]


def test_limits_of_zero_are_off_and_pulls_are_left_alone():
    pf = book(max_delta=0.0, max_gross=0.0)
    pf.update([1.0, 1.0, 100.0], MARKS)
    assert pf.checks() == [] and not pf.reduces_delta(PERP.id)
    q = ladder(bids=(99_990,), asks=(100_010,), iid=PERP.id)
    assert pf.trim(q, PERP.id, [1.0, 1.0, 100.0], MARKS, NONE, NONE, 0.001, 0.001) == 0
    pull = ladder(kind=R.QUOTE_PULL, iid=PERP.id)
    assert book().trim(pull, PERP.id, [0.0, 0.01, 0.0], MARKS, NONE, NONE, 0.001, 0.001) == 0


def test_the_band_clears_with_hysteresis():
    pf = book(max_delta=1_000.0)
    pf.update([0.0, 0.008, 0.0], MARKS)                  # 808 >= 800: beyond
    assert pf.reduces_delta(PERP.id)
    pf.update([0.0, 0.0075, 0.0], MARKS)                 # 757.5: still beyond (clears below 720)
    assert pf.reduces_delta(PERP.id)
    pf.update([0.0, 0.007, 0.0], MARKS)                  # 707
    assert not pf.reduces_delta(PERP.id)


@pytest.fixture
def shared(instance):
    state = SharedState.create(instance)
    yield state
    state.close()


def test_the_account_is_reducing_at_the_band_and_never_halted_by_an_exposure(shared):
    pulls = []
    t = TradingState(risk_conf(stop_loss=0.0, max_drawdown=0.0, max_position=1.0), shared, pulls.append)
    pf = book(max_delta=1_000.0, max_gross=5_000.0)
    pf.update([0.0, 0.009, 0.0], MARKS)
    t.evaluate(0.0, [0.0, 0.009, 0.0], "2026-11-28", [1.0, 1.0, 1.0], pf.checks())
    assert (t.state, t.reason) == (REDUCING, "net delta BTCUSD")
    assert shared.get("reason") == REASON_CODES["net delta"]
    pf.update([0.0, 0.02, 0.0], MARKS)                   # beyond the limit itself (the price moved)
    t.evaluate(0.0, [0.0, 0.02, 0.0], "2026-11-28", [1.0, 1.0, 1.0], pf.checks())
    assert t.state == REDUCING and pulls == []           # every instrument may still reduce
    hedged = [0.024, -0.0215, 0.0]                       # 4,571.5 USD gross, 228.5 USD net: a hedged book
    pf.update(hedged, MARKS)
    t.evaluate(0.0, hedged, "2026-11-28", [1.0, 1.0, 2.0], pf.checks())
    assert (t.state, t.reason) == (REDUCING, "gross notional")
    pf.update([0.0, 0.0, 0.0], MARKS)
    t.evaluate(0.0, [0.0, 0.0, 0.0], "2026-11-28", [1.0, 1.0, 2.0], pf.checks())
    assert (t.state, t.reason) == (ACTIVE, "")
    assert HALTED not in (t.state,) and pulls == []


def test_each_instrument_is_near_its_own_max_position(shared):
    t = TradingState(risk_conf(stop_loss=0.0, max_drawdown=0.0, max_position=0.05), shared, [].append)
    t.evaluate(0.0, [0.0, 0.0, 0.45], "2026-11-28", [0.05, 0.05, 0.5])   # ETH at 0.9 of its 0.5
    assert (t.state, t.reason) == (REDUCING, "near max_position")
    t.evaluate(0.0, [0.0, 0.0, 0.3], "2026-11-28", [0.05, 0.05, 0.5])    # 0.3 ETH: fine for ETH ...
    assert t.state == ACTIVE                                              # ... though 6x BTC's limit
