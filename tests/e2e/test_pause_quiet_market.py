"""pause pulls what rests at once, even in a market so quiet that the quoter publishes nothing new,
and resume quotes again at once (risk keeps the newest ladder of each instrument)."""
import time

import pytest

from testkit.pipeline import Pipeline

pytestmark = pytest.mark.timeout(120)


def test_pause_in_a_quiet_market_pulls_every_quote_at_once_and_resume_quotes_again(tmp_path):
    mm = Pipeline(tmp_path)
    try:
        mm.wait(lambda s: s["quoting"], 30, "quoting")
        mm.sim("sim/options", volatility=0.0, flow_rate=0.0)
        time.sleep(3.0)                      # the mark settles: no new ladder from here on
        for _ in range(2):
            assert mm.exchange_state()["open_orders"]
            paused = time.monotonic()
            mm.ctl("pause")
            mm.wait(lambda s: not s["quoting"] and s["paused"], 3, "quotes pulled by the pause")
            assert mm.exchange_state()["open_orders"] == []
            print(f"\npulled {time.monotonic() - paused:.2f} s after pause")
            time.sleep(1.0)
            assert mm.exchange_state()["open_orders"] == []      # and nothing comes back while paused
            mm.ctl("resume")
            mm.wait(lambda s: s["quoting"] and not s["paused"], 3, "quoting again after resume")
        mm.ctl("halt")
        mm.wait(lambda s: not s["quoting"], 3, "quotes pulled by the halt")
        mm.ctl("resume")
        mm.wait(lambda s: s["quoting"] and s["trading_state"] == "ACTIVE", 3, "quoting again after the halt")
    finally:
        assert mm.stop() == 0, mm.output()
