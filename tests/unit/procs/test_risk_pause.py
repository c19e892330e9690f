"""A pause pulls what rests at once, even when no new ladder comes (a quiet market: the quoter
rightly publishes nothing while its ladder stays within tolerance), and only once."""
from procs.risk.agent import RiskAgent
from shm import records as R

from agent_kit import BTC, drain, ladder, reconcile, risk_conf, ticker


def test_pausing_pulls_every_instrument_without_waiting_for_a_ladder(segs, instance, tmp_path):
    risk = RiskAgent(instance, [BTC], risk_conf(stop_loss=0.0, max_drawdown=0.0), run_dir=tmp_path)
    risk.on_start()
    try:
        segs["md"].write(ticker())
        reconcile(segs, risk)                                            # a mark first, books known
        segs["quotes"].write(ladder(bids=[99_990.0], asks=[100_010.0], amount=0.001))
        risk.do_work()
        assert [int(q["type"]) for q in drain(segs["orders"], R.QUOTE_DTYPE)] == [R.QUOTE_SET]
        risk.state.set("paused", 1)
        risk.do_work()
        (pull,) = drain(segs["orders"], R.QUOTE_DTYPE)
        assert pull["type"] == R.QUOTE_PULL and pull["reason"] & R.RISK_PAUSED
        risk.do_work()
        assert len(drain(segs["orders"], R.QUOTE_DTYPE)) == 0          # once, not every pass
        risk.state.set("paused", 0)
        risk.do_work()
        requoted = drain(segs["orders"], R.QUOTE_DTYPE)                 # the newest ladder again
        assert [int(q["type"]) for q in requoted] == [R.QUOTE_SET]
        risk.state.set("paused", 1)
        risk.do_work()
        assert len(drain(segs["orders"], R.QUOTE_DTYPE)) == 1          # and again on the next pause
    finally:
        risk.on_close()
