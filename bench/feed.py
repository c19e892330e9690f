"""``bin/mm-bench feed``: Thalex ticker frames decoded into a real shared-memory broadcast ring.

Ours: ``FrameDecoder.decode`` (one orjson parse, dict channel lookup, validation, one
``struct.pack_into`` into a reused MD record), the plausibility checks against the wall clock and
the last good mark (procs/md_checks.py), then ``BroadcastWriter.write`` into an ``md`` ring, as
the feed process does (``decode_only``: the decoder alone). Baseline, same frames, same run: the plain way, ``json.loads`` and the
same checks into a fresh Python dict per frame. Both on one core, one process, frames already in
memory as bytes (the socket is not timed). Target (DESIGN.md): at least 200k frames/s.
After the timed loops the ring's newest record and the decoder's reject counts are checked, so a
decoder that silently did nothing cannot produce a figure.
"""
from __future__ import annotations

import json
import math
import os
import time
import uuid

from bench._thalex_frames import TICKER_CHANNEL, ticker_stream
from bench.result import Result
from procs.md_checks import MdChecks
from venue.decode.frame import FrameDecoder
from shm.broadcast import BroadcastReader, BroadcastWriter
from shm.records import MD_DTYPE, empty

BASELINE = "json.loads + dict"
DISTINCT_FRAMES = 4096


def add_arguments(parser) -> None:
    parser.add_argument("--feed-frames", type=int, default=None, metavar="N",
                        help="feed: frames per timed run (default 1,000,000; --quick 50,000)")


def _decode_into_ring(frames: list[bytes], n: int, writer: BroadcastWriter,
                      checks: MdChecks) -> tuple[float, FrameDecoder]:
    md = empty(MD_DTYPE)
    decoder = FrameDecoder(md)
    decoder.add(TICKER_CHANNEL, 0)
    decode, write, clock, check = decoder.decode, writer.write, time.monotonic_ns, checks.check_md
    m = len(frames)
    # The recorded frames' clock: their exchange times must look current to the checks.
    wall, skew = time.time_ns, time.time_ns() - int(orjson_ts(frames[-1]) * 1e9)
    start = time.perf_counter()
    for i in range(n):
        if i % m == 0:
            checks.forget_order()        # the stream starts over: its times go back
        now = clock()
        if decode(frames[i % m], now) == 0 and check(md, wall() - skew, now) == 0:
            write(md)
    return n / (time.perf_counter() - start), decoder


def orjson_ts(frame: bytes) -> float:
    return json.loads(frame)["notification"]["mark_timestamp"]


def _decode_only(frames: list[bytes], n: int) -> float:
    md = empty(MD_DTYPE)
    decoder = FrameDecoder(md)
    decoder.add(TICKER_CHANNEL, 1)
    decode, clock, m = decoder.decode, time.monotonic_ns, len(frames)
    start = time.perf_counter()
    for i in range(n):
        decode(frames[i % m], clock())
    return n / (time.perf_counter() - start)


def _plain_python(frames: list[bytes], n: int) -> tuple[float, dict]:
    """The baseline: what one writes without a fast path, with the same validation."""
    channels = {TICKER_CHANNEL: 1}
    clock, m, latest = time.monotonic_ns, len(frames), {}
    start = time.perf_counter()
    for i in range(n):
        msg = json.loads(frames[i % m])
        iid = channels.get(msg.get("channel_name"))
        p = msg.get("notification")
        if iid is None or not isinstance(p, dict):
            continue
        bid, ask, mark = p.get("best_bid_price"), p.get("best_ask_price"), p.get("mark_price")
        if mark is None or not (mark > 0 and math.isfinite(mark)):
            continue
        if bid is not None and ask is not None and not (0 < bid < ask and math.isfinite(ask)):
            continue
        latest = {
            "type": 1, "instrument_id": iid, "receive_ts_ns": clock(),
            "exchange_ts_ns": int(p["mark_timestamp"] * 1e9),
            "best_bid_price": bid, "best_bid_amount": p.get("best_bid_amount", 0.0),
            "best_ask_price": ask, "best_ask_amount": p.get("best_ask_amount", 0.0),
            "mark_price": mark, "index_price": p["index"], "last_price": p.get("last_price"),
            "funding_rate": p.get("funding_rate"),
        }
    return n / (time.perf_counter() - start), latest


def run(args) -> list[Result]:
    n = args.feed_frames if getattr(args, "feed_frames", None) else (
        50_000 if getattr(args, "quick", False) else 1_000_000)
    frames = ticker_stream(DISTINCT_FRAMES)
    name = f"mm.bench{os.getpid()}{uuid.uuid4().hex[:6]}.md"
    writer = BroadcastWriter.create(name, MD_DTYPE, 65536)
    try:
        reader = BroadcastReader.attach(name, MD_DTYPE)
        checks = MdChecks(["BTC-PERPETUAL"], 1.0, 3600.0, 500.0, 1000.0, 5.0)
        _decode_into_ring(frames, min(n, 20_000), writer, checks)  # warm-up: caches, branch predictors, pages
        _plain_python(frames, min(n, 20_000))
        baseline, latest = _plain_python(frames, n)
        ours, decoder = _decode_into_ring(frames, n, writer, checks)
        decode_only = _decode_only(frames, n)
        if any(checks.counts):
            raise RuntimeError(f"feed benchmark: the checks refused frames: {checks.counts}")
        _check(decoder, writer, reader, frames[(n - 1) % len(frames)], latest)
        reader.close()
    finally:
        writer.close()
    return [
        Result("feed.ticker.decode_into_ring.throughput", ours, "frames/s", BASELINE, baseline),
        Result("feed.ticker.decode_only.throughput", decode_only, "frames/s", BASELINE, baseline),
    ]


def _check(decoder: FrameDecoder, writer: BroadcastWriter, reader: BroadcastReader, last_frame: bytes,
           baseline_latest: dict) -> None:
    if decoder.rejected():
        raise RuntimeError(f"feed benchmark: the decoder rejected frames: {decoder.rejected()}")
    out = empty(MD_DTYPE)
    # The reader was lapped many times over; it skips to the newest record, which must be the last frame.
    while reader.read_into(out):
        pass
    expected = json.loads(last_frame)["notification"]
    if out[0]["mark_price"] != expected["mark_price"] or out[0]["best_ask_price"] != expected["best_ask_price"]:
        raise RuntimeError("feed benchmark: the ring's newest record is not the last frame decoded")
    if baseline_latest.get("mark_price") != expected["mark_price"]:
        raise RuntimeError("feed benchmark: the baseline did not decode the last frame")
