"""Market-maker protection per Thalex product group: each group armed with its own amounts, so an
ETH quote larger than BTC's protection allows still rests (and is refused without its group's)."""
import pytest

from procs.gateway.agent import Gateway
from runtime.reconnect import ReconnectPolicy
from runtime.settings import Instrument

from agent_kit import BTC, gateway_conf, ladder, open_gate, risk_conf, wait_until

pytestmark = pytest.mark.timeout(60)
ETH = Instrument(1, "ETH-PERPETUAL", "FETHUSD", 0.1, 0.01, 0.01, 0.0)


def start(segs, instance, sim, account, mmp_amounts):
    kid, private, _ = account
    gw = Gateway(instance, sim.url, kid, str(private), [BTC, ETH],
                 gateway_conf(mass_quote=True, mmp_trade_amount=0.02, mmp_quote_amount=0.02),
                 ReconnectPolicy(0.2, 1.0), timeout_s=5.0, mmp_amounts=mmp_amounts)
    gw.on_start()
    # Limits wide enough for the 0.1 ETH quotes: the exchange's protection is what is tested.
    open_gate(segs, conf=risk_conf(max_position=1.0, max_order_size=1.0), instruments=[BTC, ETH],
              marks=[100_000.0, 3_500.0])
    return gw


def eth_orders(exchange_state, account):
    return sorted((o["direction"], o["amount"]) for o in exchange_state(account[2])["open_orders"]
                  if o["instrument_name"] == ETH.name)


def test_each_product_group_is_armed_with_its_own_amounts(segs, instance, sim, account, exchange_state):
    gw = start(segs, instance, sim, account, {"FETHUSD": (0.2, 0.2)})
    try:
        assert gw.session.protection("FETHUSD") == (0.2, 0.2)
        assert gw.session.protection("FBTCUSD") == (0.02, 0.02)   # no section: [gateway]'s
        segs["quotes"].write(ladder(bids=[3_499.0], asks=[3_501.0], amount=0.1, iid=ETH.id))
        wait_until(lambda: eth_orders(exchange_state, account) == [("buy", 0.1), ("sell", 0.1)], 10,
                   gw.do_work, "0.1 ETH quotes resting under FETHUSD's 0.2")
        assert gw.executions.rejects == 0
    finally:
        gw.on_close()


def test_without_its_group_amounts_the_same_quote_is_refused(segs, instance, sim, account, exchange_state):
    gw = start(segs, instance, sim, account, {})
    try:
        segs["quotes"].write(ladder(bids=[3_499.0], asks=[3_501.0], amount=0.1, iid=ETH.id))
        wait_until(lambda: gw.executions.rejects > 0, 10, gw.do_work, "the exchange refusing 0.1 > 0.02")
        assert eth_orders(exchange_state, account) == []
    finally:
        gw.on_close()
