"""The risk gate as the gateway reads it (one struct unpack, the same numbers NumPy reads), and the
per-hop latency record (percentiles in, microseconds out)."""
import random

import numpy as np
import pytest

from shm import gate
from shm.gate import GATE_DTYPE, GATE_STRUCT, GateView
from shm.latency import HOPS, HopLatency


@pytest.fixture
def record(instance):
    owner = gate.create(instance)
    yield owner
    owner.close()


def test_the_struct_covers_every_field_of_the_record():
    assert GATE_STRUCT.size <= GATE_DTYPE.itemsize
    assert GATE_STRUCT.size >= max(o + dt.itemsize for dt, o in GATE_DTYPE.fields.values())


def test_the_view_reads_what_numpy_reads_and_nothing_before_a_write(record, instance):
    view = GateView(gate.attach(instance))
    try:
        assert not view.refresh() and view.seq == 0
        rng = random.Random(5)
        g = np.zeros(1, GATE_DTYPE)
        for _ in range(50):
            n = rng.randint(1, 8)
            g["heartbeat_ns"], g["exec_booked"] = rng.randint(1, 2**62), rng.randint(0, 2**62)
            g["trading_state"], g["block"], g["n_instruments"] = rng.randint(0, 2), rng.randint(0, 2**20), n
            for f in ("position", "mark", "amount_tick", "min_amount", "max_position", "max_notional",
                      "max_order_size", "price_band_bps", "net_delta_usd"):
                g[f][0][:] = [rng.uniform(-10, 1e5) for _ in range(8)]
            g["underlying"][0][:] = [rng.randint(0, 7) for _ in range(8)]
            g["max_net_delta_usd"], g["max_gross_usd"], g["gross_usd"] = (rng.uniform(0, 1e6) for _ in range(3))
            g["delta_band"] = rng.randint(0, 255)
            record.write(g)
            assert view.refresh()
            r = g[0]
            assert (view.heartbeat_ns, view.exec_booked) == (int(r["heartbeat_ns"]), int(r["exec_booked"]))
            assert (view.trading_state, view.block) == (int(r["trading_state"]), int(r["block"]))
            assert list(view.position) == r["position"][:n].tolist() and list(view.mark) == r["mark"][:n].tolist()
            assert view.limits == list(zip(*(r[f][:n].tolist() for f in (
                "max_position", "max_notional", "max_order_size", "price_band_bps", "amount_tick", "min_amount"))))
            assert view.portfolio == (float(r["max_net_delta_usd"]), float(r["max_gross_usd"]),
                                      tuple(r["underlying"][:n].tolist()))
            assert list(view.net_delta) == r["net_delta_usd"].tolist() and view.gross == float(r["gross_usd"])
            assert view.delta_band == int(r["delta_band"])
        assert not view.refresh()            # nothing new since the last copy
    finally:
        view.close()


def test_hop_latency_publishes_percentiles_and_reads_them_back_in_microseconds(instance):
    owner = HopLatency.create(instance)
    try:
        samples = np.array([[1000 * (i + 1)] * len(HOPS) for i in range(100)], dtype=np.int64)
        owner.publish("ladder", samples)
        owner.publish("fast", samples[:0])
        got = HopLatency.attach(instance)
        snap = got.snapshot_us()
        got.close()
        assert snap["ladder"]["count"] == 100 and snap["fast"]["count"] == 0
        for hop in HOPS:
            assert snap["ladder"][hop]["p50"] == pytest.approx(50.5, abs=0.01)
            assert snap["ladder"][hop]["p99"] == pytest.approx(99.01, abs=0.01)
    finally:
        owner.close()
