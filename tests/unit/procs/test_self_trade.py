"""A self-trade (our resting bid hit by our own sell) is two fills that share one trade id: the
local exchange reports them so, as Thalex may. Both reach exec and both are booked, each once,
with the exchange's fee of each side. The exchange's own frames through the gateway's
Executions into a real RiskAgent over real rings."""
import pytest

from procs.risk.agent import RiskAgent
from shm import records as R
from venue.client import ThalexClient
from venue.token import load_private_key

from agent_kit import BEST_BID, BTC, reconcile, risk_conf, ticker, wait_until
from test_gateway_executions import Wiring

pytestmark = pytest.mark.timeout(60)


def test_both_fills_of_a_self_trade_are_booked_once_each(segs, instance, sim, account, tmp_path):
    risk = RiskAgent(instance, [BTC], risk_conf(max_position=1.0, stop_loss=0.0, max_drawdown=0.0), tmp_path)
    risk.on_start()
    segs["md"].write(ticker())
    reconcile(segs, risk)
    wired = Wiring(segs, instance)
    kid, private, _ = account
    client = ThalexClient(sim.url, timeout_s=5.0)
    client.frame_hook = wired.executions.on_frame
    try:
        client.login(kid, load_private_key(private))
        client.private_subscribe(["session.orders", "account.trade_history"])
        client.insert("buy", BTC.name, 0.002, BEST_BID + 1, client_order_id=1, post_only=True)
        client.insert("sell", BTC.name, 0.001, order_type="market", client_order_id=2)
        got = []

        def step():
            client.poll(0.02)
            got.extend(wired.records())
        wait_until(lambda: sum(r["type"] in (R.EXEC_TRADE, R.EXEC_FILL) for r in got) == 4, 10, step,
                   "both fills and both trade reports")
        fills = [r for r in got if r["type"] == R.EXEC_FILL]
        trades = [r for r in got if r["type"] == R.EXEC_TRADE]
        assert len(fills) == 2 and len({R.trade_id_of(r) for r in fills + trades}) == 1     # one trade id
        assert sorted(int(r["side"]) for r in fills) == [-1, 1] and fills[0]["order_id"] != fills[1]["order_id"]
        risk.do_work()
        assert risk.book.fills == 2 and risk.book.position[0] == pytest.approx(0.0) and risk.malformed == 0
        assert risk.book.fees == pytest.approx(sum(float(t["fee"]) for t in trades))        # the exchange's fees
        assert risk.book.duplicates == 2          # each trade report repeats a fill already booked
    finally:
        client.cancel_all()
        client.close()
        wired.close()
        risk.on_close()
