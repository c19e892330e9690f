"""``python -m sim``: run the local Thalex-compatible exchange.

Prints its URL (``ws://HOST:PORT/ws/api/v2``) as the first line of stdout once listening, then
logs to stderr; stops cleanly on SIGINT or SIGTERM.
"""
from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
from pathlib import Path

from cryptography.hazmat.primitives.serialization import load_pem_public_key

from .server import run


def parse_args(argv=None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(prog="thalex-sim", description=__doc__.splitlines()[0])
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0, help="0 = any free port")
    ap.add_argument("--seed", type=int, default=0, help="seed of the market's random generator")
    ap.add_argument("--api-key", action="append", default=[], metavar="KID=PUBLIC_KEY_PEM_FILE",
                    help="register an API key (repeatable); each key id is its own account. "
                         "With none, any key id logs in without a signature check.")
    ap.add_argument("--volatility", type=float, default=5.0, metavar="USD_PER_SQRT_S",
                    help="BTC index volatility (ETH scaled by price); default 5")
    ap.add_argument("--drift", type=float, default=0.0, metavar="USD_PER_S")
    ap.add_argument("--flow-rate", type=float, default=1.0, metavar="PER_S",
                    help="background market orders per second per side per instrument")
    ap.add_argument("--reach-bps", type=float, default=2.0, metavar="BPS",
                    help="mean distance from fair price that a background market order reaches")
    ap.add_argument("--tick-interval", type=float, default=0.1, metavar="S",
                    help="seconds between market steps and ticker notifications")
    ap.add_argument("--history-s", type=float, default=0.0, metavar="S",
                    help="run the market this many seconds into the past before listening, so "
                         "mark bars and recent trades exist from the start (default 0)")
    ap.add_argument("--history-step-s", type=float, default=0.0, metavar="S",
                    help="step of that past run (default: --tick-interval)")
    ap.add_argument("--recent-trades", type=int, default=100, metavar="N",
                    help="trades a recent_trades snapshot holds at most, per instrument (default 100)")
    ap.add_argument("--maker-fee", type=float, default=0.0001, metavar="F", help="fraction of notional")
    ap.add_argument("--taker-fee", type=float, default=0.0005, metavar="F", help="fraction of notional")
    ap.add_argument("--log-level", default="INFO")
    opts = ap.parse_args(argv)
    if opts.tick_interval <= 0:
        ap.error(f"--tick-interval={opts.tick_interval}: expected > 0 seconds")
    if opts.flow_rate < 0 or opts.reach_bps <= 0:
        ap.error(f"--flow-rate={opts.flow_rate} / --reach-bps={opts.reach_bps}: expected >= 0 / > 0")
    if opts.history_s < 0 or opts.history_step_s < 0 or opts.history_s > 7 * 86400:
        ap.error(f"--history-s={opts.history_s} / --history-step-s={opts.history_step_s}: expected "
                 "0..604800 s / >= 0 s")
    if not 1 <= opts.recent_trades <= 1_000_000:
        ap.error(f"--recent-trades={opts.recent_trades}: expected 1..1000000")
    if opts.volatility < 0:
        ap.error(f"--volatility={opts.volatility}: expected >= 0")
    keys = {}
    for spec in opts.api_key:
        kid, sep, path = spec.partition("=")
        if not sep or not kid or not path:
            ap.error(f"--api-key {spec!r}: expected KID=PUBLIC_KEY_PEM_FILE")
        try:
            keys[kid] = Path(path).read_bytes()
            load_pem_public_key(keys[kid])
        except OSError as e:
            ap.error(f"--api-key {spec!r}: cannot read the public key file: {e}")
        except ValueError as e:
            ap.error(f"--api-key {spec!r}: not a PEM public key: {e}")
    opts.public_keys = keys
    return opts


def main(argv=None) -> int:
    opts = parse_args(argv)
    logging.basicConfig(level=opts.log_level.upper(), stream=sys.stderr,
                        format="%(asctime)s %(name)s %(levelname)s %(message)s")
    logging.getLogger("websockets").setLevel(logging.WARNING)

    async def serve_until_signalled():
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)

        def ready(url):
            print(url, flush=True)
            logging.getLogger("sim").info("listening on %s (seed %d, %s)", url, opts.seed,
                                          f"{len(opts.public_keys)} API keys" if opts.public_keys
                                          else "permissive login: no API key registered")
        await run(opts, ready, stop)

    asyncio.run(serve_until_signalled())
    return 0


if __name__ == "__main__":
    sys.exit(main())
