"""pause pulls what rests on the exchange at once, even in a market too quiet to republish a
ladder; resume quotes again."""
import time

import pytest

from testkit.pipeline import Pipeline

pytestmark = pytest.mark.timeout(120)


def test_pause_in_a_still_market_pulls_every_resting_quote_and_resume_quotes_again(tmp_path):
    mm = Pipeline(tmp_path)
    try:
        mm.wait(lambda s: s["quoting"], 30, "quoting")
        mm.sim("sim/options", volatility=0.0, flow_rate=0.0)
        time.sleep(1.0)                       # nothing moves: the quoter has no reason to republish
        assert mm.exchange_state()["open_orders"], "quotes rest before the pause"
        mm.ctl("pause")
        deadline = time.monotonic() + 3.0
        while mm.exchange_state()["open_orders"] and time.monotonic() < deadline:
            time.sleep(0.05)
        assert mm.exchange_state()["open_orders"] == []
        assert not mm.wait(lambda s: not s["quoting"], 5, "quoting cleared")["quoting"]
        mm.ctl("resume")                      # still no movement: resume itself must quote again
        mm.wait(lambda s: s["quoting"], 10, "quoting again after resume")
        assert mm.exchange_state()["open_orders"]
    finally:
        assert mm.stop() == 0, mm.output()
