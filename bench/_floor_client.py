"""The floor of ``bin/mm-bench pipeline``: the least any client can take from ticker to order.

One process, one blocking websocket (websocket-client): receive a frame; if it is a ticker, cut
its ``mark_timestamp`` out of the bytes (no JSON parse), splice the label into a mass_quote
prebuilt once at start, and send it. What it measures is the exchange, loopback and one Python
receive plus one send: no model, no checks, no rings. The quotes themselves stay far from the
market (post-only, 2 % away) so nothing trades. While no data comes it pings, so that
cancel-on-disconnect never takes a quiet turn for a dead client.

    python -m bench._floor_client URL KEY_ID KEY_FILE SECONDS [INSTRUMENT]
"""
from __future__ import annotations

import sys
import time

import orjson
import websocket

from testkit.exchange import make_token

MARK_KEY = b'"mark_timestamp":'


def run(url: str, key_id: str, key_file: str, seconds: float, instrument: str) -> int:
    ws = websocket.create_connection(url, timeout=10)
    ws.send(orjson.dumps({"method": "public/login", "id": 1,
                          "params": {"token": make_token(key_id, key_file)}}).decode())
    ws.send(orjson.dumps({"method": "private/set_cancel_on_disconnect", "id": 2,
                          "params": {"timeout_secs": 6}}).decode())
    ws.send(orjson.dumps({"method": "private/set_mm_protection", "id": 3,
                          "params": {"product": "FBTCUSD", "trade_amount": 10, "quote_amount": 10}}).decode())
    ws.send(orjson.dumps({"method": "public/ticker", "id": 4, "params": {"instrument_name": instrument}}).decode())
    mark = None
    while mark is None:
        msg = orjson.loads(ws.recv())
        if msg.get("id") == 4:
            mark = msg["result"]["mark_price"]
    bid, ask = round(mark * 0.98), round(mark * 1.02)
    # Everything but the label is fixed: the message is two byte strings around it.
    head = (b'{"method":"private/mass_quote","id":5,"params":{"quotes":[{"i":"' + instrument.encode()
            + b'","b":[[%d,0.001]],"a":[[%d,0.001]]}],"post_only":true,"label":"tt' % (bid, ask))
    tail = b'"}}'
    ws.send(orjson.dumps({"method": "public/subscribe", "id": 6,
                          "params": {"channels": [f"ticker.{instrument}.raw"]}}).decode())
    deadline = time.monotonic() + seconds
    sent = 0
    ws.settimeout(0.5)
    while time.monotonic() < deadline:
        try:
            frame = ws.recv()
        except websocket.WebSocketTimeoutException:
            ws.ping()      # quiet (the benchmark stalls its feed between turns): stay alive
            continue
        if isinstance(frame, str):
            frame = frame.encode()
        at = frame.find(MARK_KEY)
        if at < 0 or b'"ticker.' not in frame[:64]:
            continue
        start = at + len(MARK_KEY)
        end = start
        while frame[end] not in b",}":
            end += 1
        label = str(round(float(frame[start:end]) * 1e6)).encode()
        ws.send(head + label + tail)
        sent += 1
    ws.close()
    print(orjson.dumps({"sent": sent}).decode())
    return 0


if __name__ == "__main__":
    url, key_id, key_file, seconds = sys.argv[1:5]
    instrument = sys.argv[5] if len(sys.argv) > 5 else "BTC-PERPETUAL"
    sys.exit(run(url, key_id, key_file, float(seconds), instrument))
