"""The baseline of ``bin/mm-bench pipeline``: a single-process asyncio quoter on the official
``thalex`` client (PyPI, 1.3.0), written the way its examples are.

One event loop: ``await receive()``, ``json.loads`` every frame, on each ticker build the same
market record and call the same compiled QuoteEngine with the same parameters as the pipeline,
then send the ladder as ``private/mass_quote`` labelled with the ticker's timestamp, so the
exchange measures tick-to-order exactly as it does for the pipeline. No risk process, no rings:
the figure it gives is the cost of the single-process asyncio shape.

    python -m bench._asyncio_quoter URL KEY_ID KEY_FILE SECONDS [INSTRUMENT]
"""
from __future__ import annotations

import asyncio
import json
import sys
import time
from types import SimpleNamespace

import numpy as np
import thalex

import conf
from kernels.quote import ENGINE_PUBLISHED, QuoteEngine
from shm import records as R


async def run(url: str, key_id: str, key_file: str, seconds: float, instrument: str) -> int:
    config = conf.load()
    th = thalex.Thalex(SimpleNamespace(value=url))
    await th.connect()
    await th.login(key_id, open(key_file).read(), id=1)
    await th.set_cancel_on_disconnect(6, id=2)
    await th.set_mm_protection("FBTCUSD", 10.0, 10.0, id=3)
    await th.public_subscribe([f"ticker.{instrument}.raw"], id=4)
    engine = QuoteEngine(config.quoter, 1.0, 0.001, 0.001)
    md = np.zeros(1, R.MD_DTYPE)
    out = np.zeros(1, R.QUOTE_DTYPE)
    deadline = time.monotonic() + seconds
    sent, rid = 0, 100
    while time.monotonic() < deadline:
        try:
            frame = await asyncio.wait_for(th.receive(), timeout=max(0.01, deadline - time.monotonic()))
        except asyncio.TimeoutError:
            break
        msg = json.loads(frame)
        if msg.get("channel_name", "").startswith("ticker."):
            t = msg["notification"]
            md["best_bid_price"] = t.get("best_bid_price") or np.nan
            md["best_ask_price"] = t.get("best_ask_price") or np.nan
            md["mark_price"] = t["mark_price"]
            md["exchange_ts_ns"] = int(t["mark_timestamp"] * 1e9)
            if engine.quote(md, 0.0, 0.0, 0.0, out) == ENGINE_PUBLISHED:
                o = out[0]
                quote = {"i": instrument,
                         "b": [[float(o["bid_price"][k]), float(o["bid_amount"][k])] for k in range(o["n_bids"])],
                         "a": [[float(o["ask_price"][k]), float(o["ask_amount"][k])] for k in range(o["n_asks"])]}
                rid += 1
                await th._send("private/mass_quote", rid, quotes=[quote], post_only=True,
                               label="tt" + str(round(t["mark_timestamp"] * 1e6)))
                sent += 1
    await th.disconnect()
    print(json.dumps({"sent": sent}))
    return 0


if __name__ == "__main__":
    url, key_id, key_file, seconds = sys.argv[1:5]
    instrument = sys.argv[5] if len(sys.argv) > 5 else "BTC-PERPETUAL"
    sys.exit(asyncio.run(run(url, key_id, key_file, float(seconds), instrument)))
