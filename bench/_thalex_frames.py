"""Realistic Thalex notification frames (THALEX_API.md) for the feed benchmark and decoder tests."""
from __future__ import annotations

import orjson

TICKER_CHANNEL = "ticker.BTC-PERPETUAL.100ms"


def ticker_payload(**overrides) -> dict:
    """A BTC-PERPETUAL Ticker object with every field Thalex sends (THALEX_API.md 3.2)."""
    payload = {
        "best_bid_price": 65000.0, "best_bid_amount": 1.234, "best_ask_price": 65001.0,
        "best_ask_amount": 0.8, "last_price": 65000.5, "mark_price": 65000.71234,
        "mark_timestamp": 1702583649.379417, "iv": 0.0, "delta": 1.0, "index": 64990.12,
        "forward": 0.0, "volume_24h": 1234.5, "value_24h": 80214561.2, "low_price_24h": 63000.0,
        "high_price_24h": 66000.0, "change_24h": 0.012, "collar_low": 63050.0,
        "collar_high": 66950.0, "open_interest": 5555.5, "funding_rate": 0.0001,
        "funding_mark": 12.34, "realised_funding_24h": 0.0002, "average_funding_rate_24h": 0.0001,
    }
    for key, value in overrides.items():
        if value is ...:
            payload.pop(key, None)
        else:
            payload[key] = value
    return payload


def frame(channel: str, notification, **extra) -> bytes:
    return orjson.dumps({"channel_name": channel, "notification": notification, **extra})


def ticker_frame(**overrides) -> bytes:
    return frame(TICKER_CHANNEL, ticker_payload(**overrides))


def ticker_stream(n: int, seed: int = 7) -> list[bytes]:
    """``n`` distinct, valid ticker frames of a random-walking BTC-PERPETUAL (bytes, as received)."""
    import random

    rng = random.Random(seed)
    mid, ts, frames = 65000.0, 1702583649.379417, []
    for _ in range(n):
        mid += rng.choice((-1.0, 0.0, 1.0))
        half = rng.choice((0.5, 1.0, 1.5))
        ts += 0.1
        frames.append(ticker_frame(
            best_bid_price=mid - half, best_bid_amount=round(rng.uniform(0.01, 5), 3),
            best_ask_price=mid + half, best_ask_amount=round(rng.uniform(0.01, 5), 3),
            mark_price=round(mid + rng.uniform(-0.5, 0.5), 5), index=round(mid - 10 + rng.uniform(-1, 1), 2),
            last_price=mid + rng.choice((-half, half)), mark_timestamp=ts,
            funding_rate=round(rng.uniform(-1e-4, 1e-4), 8)))
    return frames
