"""The feed's plausibility checks: records that decode cleanly but lie about time or price."""
import logging

import numpy as np
import orjson
import pytest

from procs.md_checks import CLOCK_AHEAD, OFF_BAND, OK, OUT_OF_ORDER, TOO_OLD, MdChecks
from shm.records import MD_DTYPE, TRADE_DTYPE
from venue.decode.frame import FrameDecoder

NOW_S = 1_800_000_000.0
NOW_NS = int(NOW_S * 1e9)
CHANNEL = "ticker.BTC-PERPETUAL.raw"
TRADES = "recent_trades.BTC-PERPETUAL.single"


def checks(**over):
    args = dict(max_clock_skew_s=1.0, max_data_age_s=10.0, price_band_bps=500.0, index_band_bps=1000.0,
                reanchor_after_s=5.0)
    args.update(over)
    return MdChecks(["BTC-PERPETUAL"], **args)


@pytest.fixture
def decoder():
    d = FrameDecoder(np.zeros(1, MD_DTYPE), np.zeros(64, TRADE_DTYPE), instrument_ids={"BTC-PERPETUAL": 0})
    d.add(CHANNEL, 0)
    d.add(TRADES, 0)
    return d


def ticker(decoder, mark=100_000.0, index=None, bid=None, ask=None, ts=NOW_S):
    payload = {"mark_price": mark, "index": index if index is not None else mark, "mark_timestamp": ts,
               "best_bid_price": bid if bid is not None else mark - 1.0, "best_bid_amount": 1.0,
               "best_ask_price": ask if ask is not None else mark + 1.0, "best_ask_amount": 1.0}
    assert decoder.decode(orjson.dumps({"channel_name": CHANNEL, "notification": payload}), 1) == 0
    return decoder.md_out


def check(c, decoder, wall_s=NOW_S, mono_s=0.0, **ticker_fields):
    return c.check_md(ticker(decoder, **ticker_fields), int(wall_s * 1e9), int(mono_s * 1e9))


def test_a_sane_ticker_passes_and_becomes_the_last_good_mark(decoder):
    c = checks()
    assert check(c, decoder, mark=100_000.0) == OK
    assert c.good_mark[0] == 100_000.0 and c.counts == [0] * 5


@pytest.mark.parametrize("ts_offset_s,reason", [(2.0, CLOCK_AHEAD), (1e6, CLOCK_AHEAD), (-11.0, TOO_OLD),
                                                 (0.9, OK), (-9.0, OK)])
def test_exchange_time_is_checked_against_our_clock(decoder, ts_offset_s, reason):
    assert check(checks(), decoder, ts=NOW_S + ts_offset_s) == reason


def test_an_older_ticker_than_the_newest_accepted_is_out_of_order_an_equal_one_is_not(decoder):
    c = checks()
    assert check(c, decoder, ts=NOW_S) == OK
    assert check(c, decoder, ts=NOW_S, mark=100_001.0) == OK            # the mark's second: same time
    assert check(c, decoder, ts=NOW_S - 0.5, mark=99_780.0) == OUT_OF_ORDER
    assert check(c, decoder, ts=NOW_S + 0.1) == OK
    c.forget_order()                                                   # a reconnect starts afresh
    assert check(c, decoder, ts=NOW_S) == OK


def test_a_ten_times_mark_is_refused_against_its_index_and_the_last_good_mark(decoder):
    c = checks()
    assert check(c, decoder, mark=100_000.0) == OK
    assert check(c, decoder, mark=1_000_000.0, index=100_000.0) == OFF_BAND          # vs its index
    assert check(c, decoder, mark=1_000_000.0, index=1_000_000.0) == OFF_BAND        # vs the last good one
    assert check(c, decoder, mark=100_000.0, bid=90_000.0, ask=100_001.0) == OFF_BAND  # book vs mark
    assert c.good_mark[0] == 100_000.0 and c.counts[OFF_BAND] == 3


def test_the_first_record_is_judged_by_itself(decoder):
    assert check(checks(), decoder, mark=1_000_000.0, index=100_000.0) == OFF_BAND
    assert check(checks(), decoder, mark=100_100.0, index=100_000.0) == OK


def test_a_real_move_beyond_the_band_is_accepted_after_it_holds_consistently(decoder):
    c = checks(price_band_bps=100.0, reanchor_after_s=5.0)
    assert check(c, decoder, mark=100_000.0, mono_s=0.0) == OK
    for t in (0.1, 2.0, 4.9):                                           # -3 %, index and book agree
        assert check(c, decoder, mark=97_000.0, mono_s=t) == OFF_BAND
    assert check(c, decoder, mark=97_000.0, mono_s=5.1) == OK
    assert c.good_mark[0] == 97_000.0
    assert check(c, decoder, mark=97_010.0, mono_s=5.2) == OK


def test_an_episode_is_logged_once_with_its_reason_and_its_end_once(decoder, caplog):
    c = checks()
    check(c, decoder, mark=100_000.0)
    with caplog.at_level(logging.INFO, logger="feed"):
        for _ in range(50):
            check(c, decoder, ts=NOW_S + 1e6)
        check(c, decoder, mark=100_001.0)
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 2, lines
    assert "clock_ahead" in lines[0] and "BTC-PERPETUAL" in lines[0]
    assert "plausible again after 50 refused" in lines[1]
    assert c.counts[CLOCK_AHEAD] == 50 and c.refused[0] == 0


def test_public_trades_are_checked_for_time_and_price(decoder):
    c = checks()
    check(c, decoder, mark=100_000.0)
    rows = [[100_010.0, 0.1, "buy", NOW_S, "BTC-PERPETUAL"], [1_000_000.0, 0.1, "buy", NOW_S, "BTC-PERPETUAL"],
            [100_000.0, 0.1, "sell", NOW_S + 1e6, "BTC-PERPETUAL"], [100_000.0, 0.1, "sell", NOW_S - 60, "BTC-PERPETUAL"]]
    assert decoder.decode(orjson.dumps({"channel_name": TRADES, "notification": rows}), 1) == 0
    got = [c.check_trade(decoder.trades_out[i:i + 1], NOW_NS) for i in range(decoder.count)]
    assert got == [OK, OFF_BAND, CLOCK_AHEAD, TOO_OLD]


def test_the_trades_snapshot_is_history_and_writes_nothing(decoder):
    rows = [[100_000.0, 0.1, "buy", NOW_S - i, "BTC-PERPETUAL"] for i in range(100)]
    frame = {"channel_name": TRADES, "notification": rows, "snapshot": True}
    assert decoder.decode(orjson.dumps(frame), 1) == 0
    assert (decoder.count, decoder.history) == (0, 100) and not decoder.rejected()
    del frame["snapshot"]
    assert decoder.decode(orjson.dumps(frame), 1) == 0 and decoder.history == 0 and decoder.count == 64


def test_a_peer_alternating_good_and_bad_records_cannot_flood_the_log(decoder, caplog):
    c = checks()
    with caplog.at_level(logging.INFO, logger="feed"):
        for i in range(500):
            check(c, decoder, ts=NOW_S + i * 1e-3)
            check(c, decoder, ts=NOW_S + 1e6)                       # clock_ahead, a new episode each time
        check(c, decoder, mark=1_000_000.0, ts=NOW_S + 1)          # another reason is still logged
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 10 + 5 + 1, len(warnings)              # first ten, every hundredth, off_band
    assert "off_band" in warnings[-1]
    assert len([r for r in caplog.records if r.levelno == logging.INFO]) == 14   # the last is not over
    assert c.counts[CLOCK_AHEAD] == 500


def test_the_feed_takes_its_limits_from_the_feed_section():
    import conf
    from procs.feed import Feed
    from runtime import settings as S
    listing = [{"instrument_name": "BTC-PERPETUAL", "product": "FBTCUSD", "tick_size": 1, "volume_tick_size": 0.001,
                "min_order_amount": 0.001, "type": "perpetual", "underlying": "BTCUSD"}]
    config = conf.load(None, ["feed.max_clock_skew_s=0.5", "feed.max_data_age_s=30", "feed.price_band_bps=200",
                              "feed.index_band_bps=800", "feed.reanchor_after_s=9"])
    settings = S.build(config, instance="t", venue_url="ws://127.0.0.1:1/ws/api/v2", key_id="K", key_file="/k",
                       instruments=S.instruments_from_venue(("BTC-PERPETUAL",), listing))
    k = Feed.from_settings(settings).checks.kernel
    assert (k.ahead_ns, k.behind_ns, k.reanchor_ns) == (500_000_000, 30 * 10**9, 9 * 10**9)
    assert (k.band, k.index_band) == pytest.approx((0.02, 0.08))
