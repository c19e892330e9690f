"""Executions are input: the exchange sends a running ``bin/mm run`` malformed, absurd, duplicated,
out-of-order and oversized private frames (session.orders, account.trade_history, portfolio and
protection notices) while it trades. No process dies, the P&L stays finite, quoting resumes, and
afterwards our fills, fees, position and equity equal the exchange's."""
import math
import time

import orjson
import pytest

from testkit.chaos import exchange_books
from testkit.exchange import Client
from testkit.pipeline import Pipeline, protection

pytestmark = pytest.mark.timeout(240)
BTC = "BTC-PERPETUAL"


def notice(channel: str, payload) -> str:
    return orjson.dumps({"channel_name": channel, "notification": payload}).decode()


def our_trades(mm) -> list[dict]:
    params = mm.ctl("params")
    client = Client(mm.url, 10.0)
    try:
        client.login(params["key_id"], params["key_file"])
        return client.result("private/trade_history", {"limit": 1000, "sort": "ascending"})["trades"]
    finally:
        client.close()


def order_status(t: dict, **kw) -> dict:
    """The session.orders update that reported trade ``t`` (an order filled out by it)."""
    o = {"order_id": t["order_id"], "order_type": "limit", "time_in_force": "good_till_cancelled",
         "instrument_name": t["instrument_name"], "direction": t["direction"], "price": t["price"],
         "amount": t["amount"], "filled_amount": t["amount"], "remaining_amount": 0.0, "status": "filled",
         "change_reason": "fill", "create_time": t["time"] - 1.0, "persistent": False,
         "fills": [{"trade_id": t["trade_id"], "price": t["price"], "amount": t["amount"], "time": t["time"],
                    "maker_taker": t.get("maker_taker", "maker"), "leg_index": 0}]}
    o.update(kw)
    return o


def hostile_frames(trades: list[dict]) -> list[str]:
    t = trades[-1]
    fake_id = "7" * 32                                     # no trade of the exchange
    fresh = {**t, "trade_id": fake_id, "order_id": "00000000000077AA"}
    fill = order_status(t)["fills"][0]
    return [
        # malformed
        notice("session.orders", order_status(t)),                               # an object, not a list
        notice("session.orders", [[order_status(t)]]),
        notice("session.orders", [order_status(fresh, fills=[{**fill, "trade_id": fake_id, "time": 1e300}])]),
        notice("session.orders", [order_status(fresh, amount="0.01")]),
        notice("session.orders", [order_status(fresh, instrument_name=[BTC])]),
        '{"channel_name": "session.orders", "notification": [{"amount": 1e999}]}',
        '{"channel_name": "session.orders", "notification": [{"order_id": "00',
        # absurd: refused by the decoders, or by risk against the mark and its limits
        notice("session.orders", [order_status(fresh, fills=[{**fill, "trade_id": fake_id, "price": 1e300}])]),
        notice("session.orders", [order_status(fresh, price=1e8, fills=[{**fill, "trade_id": fake_id,
                                                                         "price": 1e8}])]),
        notice("session.orders", [order_status(fresh, amount=1e5, filled_amount=1e5,
                                               fills=[{**fill, "trade_id": "8" * 32, "amount": 1e5}])]),
        notice("account.trade_history", [{**fresh, "fee": 1e12}]),
        notice("account.trade_history", [{**fresh, "amount": 0}]),
        notice("account.trade_history", [{**fresh, "position_after": 1e300}]),
        notice("account.trade_history", {"trades": [fresh]}),
        '{"channel_name": "account.trade_history", "notification": [{"fee": 1e999}]}',
        # duplicated and out of order: real executions, again, oldest last
        *[notice("account.trade_history", [x]) for x in reversed(trades[-20:])],
        *[notice("session.orders", [order_status(x)]) for x in reversed(trades[-20:])],
        notice("session.orders", [order_status(x, change_reason="insert", status="open", filled_amount=0.0,
                                                remaining_amount=x["amount"], fills=[]) for x in trades[-20:]]),
        # portfolio and protection notices
        notice("account.portfolio", [{"instrument_name": BTC, "position": 1e300}]),
        notice("session.mm_protection", [{"product": ["FBTCUSD"], "remaining_amount": "0", "reason": 7}]),
        notice("session.mm_protection", {"product": "FBTCUSD"}),
    ]


def oversized_frames(trades: list[dict]) -> list[str]:
    """Frames far larger than any the exchange sends (sim/inject_private pads them to megabytes)."""
    others = [order_status({**trades[0], "instrument_name": "ETH-PERPETUAL",
                            "order_id": f"{0xE000 + i:016X}", "trade_id": f"{0xE000 + i:032X}"})
              for i in range(1000)]                         # an instrument we do not trade
    dup = [order_status(x) for x in trades[-50:]]
    return [notice("session.orders", others), notice("session.orders", dup)]


def test_hostile_private_frames_kill_nothing_and_the_books_still_equal_the_exchanges(tmp_path):
    mm = Pipeline(tmp_path, "--set", "risk.stop_loss=0", "--set", "risk.max_drawdown=0",
                  "--set", "risk.max_position=0.05",
                  *protection(50))
    try:
        mm.wait(lambda s: s["quoting"], 30, "quoting")
        mm.sim("sim/options", flow_rate=40.0)
        mm.wait(lambda s: s["fills"] >= 30, 60, "fills")
        pids = {p["name"]: p["pid"] for p in mm.ctl("status")["processes"]}
        trades = our_trades(mm)
        frames = hostile_frames(trades)
        sent = mm.sim("sim/inject_private", account=mm.account, frames=frames, repeat=5, interval_s=0.5)
        assert sent["connections"] >= 1
        mm.sim("sim/inject_private", account=mm.account, frames=oversized_frames(trades), pad_bytes=3 << 20)
        deadline = time.monotonic() + 4.0
        while time.monotonic() < deadline:                  # while the frames arrive
            s = mm.ctl("status")
            assert all(math.isfinite(v) for v in s["pnl"].values()), s["pnl"]
            time.sleep(0.2)
        s = mm.wait(lambda s: s["quoting"] and s["connected"], 30, "quoting again")
        gateway = next(p for p in s["processes"] if p["name"] == "gateway")
        assert {p["name"]: p["pid"] for p in s["processes"]} == pids, "a process died"
        assert all(p["restarts"] == 0 and p["alive"] for p in s["processes"])
        assert s["trading_state"] == "ACTIVE"
        mm.sim("sim/options", flow_rate=0.0, volatility=0.0)
        mm.ctl("pause")
        mm.wait(lambda s: not s["quoting"], 10, "quotes pulled")
        time.sleep(2.0)
        x = exchange_books(mm)
        ours = mm.wait(lambda s: s["fills"] == x["fills"] and abs(s["positions"][BTC] - x["position"]) < 1e-9,
                       20, "our books equal the exchange's")
        assert ours["pnl"]["fees"] == pytest.approx(x["fees"], abs=1e-6)
        assert ours["pnl"]["equity"] == pytest.approx(x["equity"], abs=0.05 + abs(x["position"]) * 2.0)
        risk = next(p for p in s["processes"] if p["name"] == "risk")
        print(f"\nours: fills {ours['fills']} fees {ours['pnl']['fees']:.6f} equity {ours['pnl']['equity']:.4f} | "
              f"exchange: trades {x['fills']} fees {x['fees']:.6f} equity {x['equity']:.4f}; refused: "
              f"gateway {gateway['malformed']}, risk {risk['malformed']} (fills the decoders let through)")
        assert gateway["malformed"] > 0 and risk["malformed"] >= 2
    finally:
        assert mm.stop() == 0, mm.output()
