"""The mass_quote encoder: the request Thalex reads, written from the record, byte for byte the
same from the compiled kernel and its twin."""
import random

import numpy as np
import orjson
import pytest

from shm import records as R


def ladder(bids, asks):
    q = np.zeros(1, R.QUOTE_DTYPE)
    q["type"], q["n_bids"], q["n_asks"] = R.QUOTE_SET, len(bids), len(asks)
    for i, (p, a) in enumerate(bids):
        q["bid_price"][0][i], q["bid_amount"][0][i] = p, a
    for i, (p, a) in enumerate(asks):
        q["ask_price"][0][i], q["ask_amount"][0][i] = p, a
    return q


def test_the_request_carries_exactly_the_records_levels_label_and_id(K):
    q = ladder([(100015.5, 0.006), (100014.0, 0.012)], [(100020.5, 0.003)])
    msg = orjson.loads(K.encode_mass_quote(q, 42, b"BTC-PERPETUAL", 1, 3, b"tt1764371234567891"))
    assert msg == {"method": "private/mass_quote", "id": 42,
                   "params": {"quotes": [{"i": "BTC-PERPETUAL", "b": [[100015.5, 0.006], [100014.0, 0.012]],
                                          "a": [[100020.5, 0.003]]}],
                              "label": "tt1764371234567891", "post_only": True}}


def test_a_pull_writes_empty_sides_and_no_label_leaves_the_key_out(K):
    q = ladder([(1.0, 1.0)], [(2.0, 1.0)])
    q["type"] = R.QUOTE_PULL
    msg = orjson.loads(K.encode_mass_quote(q, 7, b"ETH-PERPETUAL", 2, 2))
    assert msg["params"] == {"quotes": [{"i": "ETH-PERPETUAL", "b": [], "a": []}], "post_only": True}


def test_prices_are_written_with_the_ticks_decimals_never_with_binary_noise(K):
    q = ladder([(0.1 + 0.2, 0.001 * 3)], [(100015.50000000001, 0.1 + 0.7)])
    text = K.encode_mass_quote(q, 1, b"X", K.decimals_of(0.1), K.decimals_of(0.001))
    assert b"[[0.3,0.003]]" in text and b"[[100015.5,0.800]]" in text


@pytest.mark.parametrize("step,decimals", [(1.0, 0), (0.5, 1), (0.25, 2), (0.001, 3), (0.0001, 4), (5.0, 0)])
def test_decimals_of_a_tick(K, step, decimals):
    assert K.decimals_of(step) == decimals


def test_a_price_that_is_not_finite_is_refused(K):
    q = ladder([(float("nan"), 0.001)], [])
    with pytest.raises(ValueError, match="not finite"):
        K.encode_mass_quote(q, 1, b"X", 1, 3)


def test_compiled_and_twin_write_the_same_bytes(C, P):
    rng = random.Random(3)
    q = np.zeros(1, R.QUOTE_DTYPE)
    for rid in range(3000):
        q["type"], q["n_bids"], q["n_asks"] = rng.choice((R.QUOTE_SET, R.QUOTE_PULL)), rng.randint(0, 10), rng.randint(0, 10)
        q["bid_price"][0][:] = [rng.choice((rng.uniform(0, 2e5), round(rng.uniform(0, 2e5) * 2) / 2, 0.0005, 1e-7))
                                for _ in range(10)]
        q["bid_amount"][0][:] = [round(rng.uniform(0, 1), 3) for _ in range(10)]
        q["ask_price"][0][:] = q["bid_price"][0][::-1] + 1
        q["ask_amount"][0][:] = -q["bid_amount"][0]
        pd, ad = rng.randint(0, 6), rng.randint(0, 6)
        assert C.encode_mass_quote(q, rid, b"BTC-PERPETUAL", pd, ad, b"tt1") == \
            P.encode_mass_quote(q, rid, b"BTC-PERPETUAL", pd, ad, b"tt1")
