"""The gateway's own fast cancel (procs/gateway/tripwire.pyx): it reads the market records itself,
runs the quoter's guard on each, and a jump pulls the side it exposes from the exchange with no
ladder from the quoter; a ladder priced before the jump does not put the side back while the trip
holds; the quoter's own fast cancel that follows is counted as a ladder; records the quoter would
pull on are skipped; live parameters rebuild the guard; bad wiring is refused, naming the thing."""
import dataclasses
import time

import numpy as np
import pytest

from kernels.guard import MoveGuard
from kernels.params import QuoteParams
from procs.gateway.agent import Gateway, trip_guard
from procs.gateway.tripwire import PULL_ASKS, PULL_BIDS, PULL_BOTH, Tripwire
from runtime import segments
from runtime.reconnect import ReconnectPolicy
from shm import records as R

from agent_kit import BTC, MARK, gateway_conf, ladder, open_gate, ticker, wait_until
from test_gateway_agent import ASKS, BIDS, RISK, resting

pytestmark = pytest.mark.timeout(60)
MOVE = 50.0                      # USD: the guard's tick threshold in these tests
PARAMS = dataclasses.replace(QuoteParams(), fc_move_ticks=MOVE / BTC.tick_size, fc_sigma_multiple=0.0,
                             fc_window_s=1.0, fc_settle_s=30.0)   # settles after every test ends


def mid_record(mid: float, flags: int = 0, bid=None, ask=None) -> np.ndarray:
    md = ticker(mark=mid, bid=mid - 0.5 if bid is None else bid, ask=mid + 0.5 if ask is None else ask)
    md["flags"], md["publish_ts_ns"] = flags, time.monotonic_ns()
    return md


# ---- the kernel ------------------------------------------------------------------------------
@pytest.fixture
def wire(segs, instance):
    md_ring = segments.reader(instance, "md")
    tw = Tripwire(md_ring, [MoveGuard(1.0, MOVE, 0.0, 0.0, 30.0)], np.zeros(1, R.MD_DTYPE))
    yield tw
    del tw
    md_ring.close()


def test_a_move_beyond_the_threshold_trips_once_naming_the_exposed_side(segs, wire):
    assert wire.step() == -1                                   # nothing waiting
    for mid in (MARK, MARK + 10, MARK + 20):
        segs["md"].write(mid_record(mid))
        assert wire.step() == 0
    jump = mid_record(MARK + MOVE + 1)
    segs["md"].write(jump)
    assert wire.step() == 1 and (wire.iid, wire.state) == (BTC.id, PULL_ASKS)   # the market rose: asks
    assert wire.md["receive_ts_ns"][0] == jump["receive_ts_ns"][0]               # the record that tripped
    assert wire.holding(BTC.id) == PULL_ASKS and wire.trips == 1
    segs["md"].write(mid_record(MARK + 2 * MOVE))
    assert wire.step() == 0                                    # the pull in force: not news
    segs["md"].write(mid_record(MARK + 2 * MOVE - MOVE - 1))   # and back down beyond it: the bids too
    assert wire.step() == 1 and wire.state == PULL_BOTH and wire.trips == 2
    assert wire.records == 6


def test_a_trip_settles_once_after_calm(segs, instance):
    md_ring = segments.reader(instance, "md")
    tw = Tripwire(md_ring, [MoveGuard(0.1, MOVE, 0.0, 0.0, 0.1)], np.zeros(1, R.MD_DTYPE))
    try:
        for mid in (MARK, MARK + MOVE + 1):
            segs["md"].write(mid_record(mid))
        assert tw.step() == 0 and tw.step() == 1 and tw.holding(BTC.id) == PULL_ASKS
        time.sleep(0.25)                                       # beyond the window and the settle
        for _ in range(2):
            segs["md"].write(mid_record(MARK + MOVE + 1))
        assert tw.step() == 2 and (tw.iid, tw.state) == (BTC.id, 0) and tw.holding(BTC.id) == 0
        assert tw.step() == 0                                  # calm stays calm: not news
    finally:
        del tw
        md_ring.close()


def test_a_fall_exposes_the_bids(segs, wire):
    for mid in (MARK, MARK - MOVE - 1):
        segs["md"].write(mid_record(mid))
    assert wire.step() == 0 and wire.step() == 1 and wire.state == PULL_BIDS


def test_the_quoters_sigma_sets_a_tighter_threshold(segs, instance):
    md_ring = segments.reader(instance, "md")
    tw = Tripwire(md_ring, [MoveGuard(1.0, MOVE, 2.0, 0.0, 30.0)], np.zeros(1, R.MD_DTYPE))
    try:
        for mid in (MARK, MARK + 15):                          # 15 USD: under the 50 USD threshold
            segs["md"].write(mid_record(mid))
        assert tw.step() == 0 and tw.step() == 0
        tw.set_sigma(BTC.id, 5.0)                                # 2 x 5 USD/sqrt(s) x sqrt(1 s) = 10 USD
        segs["md"].write(mid_record(MARK + 16))
        assert tw.step() == 1 and tw.state == PULL_ASKS
    finally:
        del tw
        md_ring.close()


@pytest.mark.parametrize("record", [
    mid_record(MARK + 500, flags=R.MD_FLAG_STALE),                       # the feed calls it stale
    mid_record(MARK + 500, flags=R.MD_FLAG_STALE | R.MD_FLAG_IMPLAUSIBLE),
    mid_record(MARK + 500, bid=MARK + 501, ask=MARK + 499),              # crossed
    mid_record(np.nan, bid=np.nan, ask=np.nan),                          # no price at all
], ids=["stale", "implausible", "crossed", "no_price"])
def test_records_the_quoter_pulls_on_are_skipped(segs, wire, record):
    segs["md"].write(mid_record(MARK))
    segs["md"].write(record)
    assert wire.step() == 0 and wire.step() == 0 and wire.holding(BTC.id) == 0


def test_an_instrument_without_a_guard_or_unknown_never_trips(segs, instance):
    md_ring = segments.reader(instance, "md")
    tw = Tripwire(md_ring, [None], np.zeros(1, R.MD_DTYPE))
    try:
        for mid in (MARK, MARK + 10 * MOVE):
            segs["md"].write(mid_record(mid))
        other = mid_record(MARK)
        other["instrument_id"] = 7
        segs["md"].write(other)
        assert [tw.step() for _ in range(4)] == [0, 0, 0, -1] and tw.holding(BTC.id) == 0
        assert tw.holding(7) == 0 and tw.holding(-1) == 0
    finally:
        del tw
        md_ring.close()


def test_bad_wiring_is_refused_naming_the_thing(segs, instance):
    md_ring = segments.reader(instance, "md")
    try:
        with pytest.raises(TypeError, match="Tripwire md"):
            Tripwire(md_ring, [None], np.zeros(2, R.MD_DTYPE))
        with pytest.raises(TypeError, match=r"Tripwire guards\[0\].*dict"):
            Tripwire(md_ring, [{}], np.zeros(1, R.MD_DTYPE))
        tw = Tripwire(md_ring, [None], np.zeros(1, R.MD_DTYPE))
        with pytest.raises(TypeError, match=r"set_guard\(0\)"):
            tw.set_guard(0, "guard")
    finally:
        md_ring.close()


def test_the_gateways_guard_is_the_quoters_without_the_volatility_jump():
    g = trip_guard(PARAMS, BTC.tick_size)
    assert (g.window_s, g.max_move, g.sigma_multiple, g.vol_jump, g.settle_s) == \
        (PARAMS.fc_window_s, pytest.approx(MOVE), 0.0, 0.0, PARAMS.fc_settle_s)
    assert trip_guard(dataclasses.replace(PARAMS, fast_cancel=False), BTC.tick_size) is None


# ---- the gateway against the local exchange --------------------------------------------------
def start(instance, sim, account, segs, params=PARAMS, **conf) -> Gateway:
    kid, private, _ = account
    open_gate(segs, conf=RISK)
    conf.setdefault("risk_timeout_s", 10.0)
    gw = Gateway(instance, sim.url, kid, str(private), [BTC], gateway_conf(**conf), ReconnectPolicy(0.2, 1.0),
                 timeout_s=5.0, quote_params=[params])
    gw.on_start()
    return gw


@pytest.fixture(params=[True, False], ids=["mass_quote", "single_orders"])
def gw(request, segs, instance, sim, account):
    g = start(instance, sim, account, segs, mass_quote=request.param)
    yield g
    g.on_close()


def until(gw, predicate, what):
    return wait_until(predicate, 10.0, gw.do_work, what)


def test_a_jump_pulls_the_exposed_side_with_no_ladder_from_the_quoter(segs, gw, exchange_state, account):
    segs["quotes"].write(ladder(bids=BIDS, asks=ASKS))
    want = sorted([("buy", p, 0.01) for p in BIDS] + [("sell", p, 0.01) for p in ASKS])
    until(gw, lambda: resting(exchange_state, account) == want, "the ladder resting")
    sent, fast = gw.quoting.sent, gw.quoting.fast_sends
    segs["md"].write(mid_record(MARK))
    segs["md"].write(mid_record(MARK + MOVE + 1))              # the market rose: our asks are exposed
    until(gw, lambda: resting(exchange_state, account) == [("buy", p, 0.01) for p in sorted(BIDS)],
          "the asks pulled, the bids left")
    assert gw.quoting.trip_pulls == 1 and gw.quoting.fast_sends == fast + 1 and gw.quoting.sent == sent + 1
    assert len(gw.quoting.fast_lat) == 1                       # timed from the record that tripped it


def test_a_ladder_priced_before_the_jump_does_not_put_the_side_back(segs, gw, exchange_state, account):
    segs["quotes"].write(ladder(bids=BIDS, asks=ASKS))
    until(gw, lambda: len(resting(exchange_state, account)) == 4, "the ladder resting")
    segs["md"].write(mid_record(MARK))
    segs["md"].write(mid_record(MARK - MOVE - 1))              # a fall: the bids go
    until(gw, lambda: [o[0] for o in resting(exchange_state, account)] == ["sell", "sell"], "the bids pulled")
    segs["quotes"].write(ladder(bids=[99_970.0], asks=ASKS))   # in flight from before the jump
    sent = gw.quoting.sent
    until(gw, lambda: gw.quoting.sent == sent + 1, "the late ladder sent")
    for _ in range(50):
        gw.do_work()
    assert [o[0] for o in resting(exchange_state, account)] == ["sell", "sell"]   # without its bids


def test_the_quoters_fast_cancel_after_a_trip_counts_as_a_ladder(segs, gw, exchange_state, account):
    segs["quotes"].write(ladder(bids=BIDS, asks=ASKS))
    until(gw, lambda: len(resting(exchange_state, account)) == 4, "the ladder resting")
    segs["md"].write(mid_record(MARK))
    segs["md"].write(mid_record(MARK + MOVE + 1))
    until(gw, lambda: gw.quoting.fast_sends == 1, "our pull sent")
    follow = ladder(bids=[99_950.0])                           # the quoter's: asks pulled, bids widened
    follow["flags"], follow["md_receive_ts_ns"] = R.QUOTE_FLAG_FAST_CANCEL, time.monotonic_ns()
    ladders = len(gw.quoting.send_lat)
    segs["quotes"].write(follow)
    until(gw, lambda: resting(exchange_state, account) == [("buy", 99_950.0, 0.01)], "the widened bids")
    assert gw.quoting.followups == 1 and gw.quoting.fast_sends == 1 and len(gw.quoting.send_lat) == ladders + 1


def test_a_jump_with_nothing_quoted_on_that_side_sends_nothing(segs, gw, exchange_state, account):
    segs["quotes"].write(ladder(bids=BIDS))                    # bids only
    until(gw, lambda: len(resting(exchange_state, account)) == 2, "the bids resting")
    sent = gw.quoting.sent
    segs["md"].write(mid_record(MARK))
    segs["md"].write(mid_record(MARK + MOVE + 1))              # the asks would be exposed: none rest
    for _ in range(50):
        gw.do_work()
    assert gw.tripwire.trips == 1 and gw.quoting.trip_pulls == 0 and gw.quoting.sent == sent


def test_live_parameters_rebuild_the_guard(segs, gw):
    old = gw.tripwire.holding(BTC.id), gw.quote_params[0]
    assert old == (0, PARAMS)
    segs["params"].publish([dataclasses.replace(PARAMS, fast_cancel=False)])
    gw.next_slow_ns = 0
    gw.do_work()
    segs["md"].write(mid_record(MARK))
    segs["md"].write(mid_record(MARK + 10 * MOVE))
    for _ in range(5):
        gw.do_work()
    assert gw.tripwire.trips == 0 and not gw.quote_params[0].fast_cancel


def test_the_tripwire_is_off_when_the_configuration_says_so(segs, instance, sim, account):
    g = start(instance, sim, account, segs, tripwire=False)
    try:
        assert g.tripwire is None and g.quoting.tripwire is None
    finally:
        g.on_close()


def test_the_pull_request_names_only_the_pulled_side():
    import json
    from procs.gateway.trips import side_pull_request
    asks = json.loads(side_pull_request(b"BTC-PERPETUAL", PULL_ASKS, 42, "tt17"))
    assert asks == {"method": "private/mass_quote", "id": 42,
                    "params": {"quotes": [{"i": "BTC-PERPETUAL", "a": []}], "label": "tt17", "post_only": True}}
    both = json.loads(side_pull_request(b"BTC-PERPETUAL", PULL_BOTH, 43, ""))
    assert both["params"] == {"quotes": [{"i": "BTC-PERPETUAL", "b": [], "a": []}], "post_only": True}


def test_the_side_left_alone_keeps_its_orders_and_their_queue_priority(segs, instance, sim, account, exchange_state):
    gw = start(instance, sim, account, segs, mass_quote=True)
    try:
        segs["quotes"].write(ladder(bids=BIDS, asks=ASKS))
        until(gw, lambda: len(exchange_state(account[2])["open_orders"]) == 4, "the ladder resting")
        bids = sorted(o["order_id"] for o in exchange_state(account[2])["open_orders"] if o["direction"] == "buy")
        segs["md"].write(mid_record(MARK))
        segs["md"].write(mid_record(MARK + MOVE + 1))
        until(gw, lambda: len(exchange_state(account[2])["open_orders"]) == 2, "the asks pulled")
        assert sorted(o["order_id"] for o in exchange_state(account[2])["open_orders"]) == bids
        assert gw.quoting.live_sides[BTC.id] == PULL_BIDS      # what is left quoted: the bids
    finally:
        gw.on_close()


def test_with_no_order_token_the_exposed_side_goes_by_cancels(segs, instance, sim, account, exchange_state):
    gw = start(instance, sim, account, segs, mass_quote=True, throttle_cooldown_s=30.0, throttle_cooldown_max_s=60.0)
    try:
        segs["quotes"].write(ladder(bids=BIDS, asks=ASKS))
        until(gw, lambda: len(gw.open_orders.live) == 4, "the ladder resting, its orders known")
        gw.limits.on_throttled(time.monotonic_ns())            # no order message for 30 s
        segs["md"].write(mid_record(MARK))
        segs["md"].write(mid_record(MARK + MOVE + 1))
        until(gw, lambda: [o[0] for o in resting(exchange_state, account)] == ["buy", "buy"], "the asks cancelled")
        assert gw.quoting.pulls_by_cancel == 1 and gw.quoting.trip_pulls == 1
    finally:
        gw.on_close()


def test_when_the_trip_settles_the_stripped_side_is_quoted_again(segs, instance, sim, account, exchange_state):
    """The quoter's guard may settle a record before ours: its full ladder, stripped by us, would
    otherwise leave the side unquoted until the quoter has something new to say."""
    gw = start(instance, sim, account, segs, params=dataclasses.replace(PARAMS, fc_window_s=0.2, fc_settle_s=0.3),
              mass_quote=True)
    try:
        segs["quotes"].write(ladder(bids=BIDS, asks=ASKS))
        until(gw, lambda: len(resting(exchange_state, account)) == 4, "the ladder resting")
        segs["md"].write(mid_record(MARK))
        segs["md"].write(mid_record(MARK + MOVE + 1))
        until(gw, lambda: [o[0] for o in resting(exchange_state, account)] == ["buy", "buy"], "the asks pulled")
        segs["quotes"].write(ladder(bids=BIDS, asks=ASKS))     # the quoter settled first: both sides
        sent = gw.quoting.sent
        until(gw, lambda: gw.quoting.sent == sent + 1, "the ladder sent, stripped")
        assert [o[0] for o in resting(exchange_state, account)] == ["buy", "buy"]
        time.sleep(0.6)
        segs["md"].write(mid_record(MARK + MOVE + 1))          # calm beyond window and settle: ours settles
        want = sorted([("buy", p, 0.01) for p in BIDS] + [("sell", p, 0.01) for p in ASKS])
        until(gw, lambda: resting(exchange_state, account) == want, "the asks quoted again")
        assert gw.tripwire.holding(BTC.id) == 0
    finally:
        gw.on_close()


def test_a_refused_pull_counts_the_side_live_again_and_is_rejected(segs, gw):
    rejects = gw.executions.rejects
    gw.quoting.live_sides[BTC.id] = PULL_BIDS                 # the asks were pulled: so we thought
    refused = {"n_success": 0, "n_fail": 1, "errors": [{"code": 23, "message": "exhausted", "side": "ask"}]}
    gw.quoting._pull_reply(BTC.id, PULL_ASKS, refused, None)
    assert gw.quoting.live_sides[BTC.id] == PULL_BOTH and gw.executions.rejects == rejects + 1
    gw.quoting._pull_reply(BTC.id, PULL_ASKS, {"n_success": 1, "n_fail": 0, "errors": []}, None)
    assert gw.quoting.live_sides[BTC.id] == PULL_BOTH and gw.executions.rejects == rejects + 1
