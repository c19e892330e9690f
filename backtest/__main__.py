"""``bin/mm-backtest DATA [--config FILE] [--set SECTION.KEY=VALUE ...] [--out DIR] [--json] [--twin]``."""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from backtest.data import DataError, open_data
from backtest.driver import Backtest
from conf.load import ConfigError, load


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="bin/mm-backtest", description="the live kernels and limits over "
                                     "recorded, synthetic or hftbacktest market data")
    parser.add_argument("data", type=Path, help="a CSV-pair directory, hftbacktest .npz, or a bin/mm record capture")
    parser.add_argument("--config", help="configuration file (default conf/paper.toml)")
    parser.add_argument("--set", action="append", default=[], metavar="SECTION.KEY=VALUE")
    parser.add_argument("--out", type=Path, help="run directory (default runs/backtest-<UTC time>)")
    parser.add_argument("--json", action="store_true", help="print the summary as one JSON object")
    parser.add_argument("--twin", action="store_true", help="the pure-Python exchange model (slow; for checks)")
    args = parser.parse_args(argv)
    try:
        config = load(args.config, args.set)
    except ConfigError as exc:
        print(f"bin/mm-backtest: {exc}", file=sys.stderr)
        return 2
    out = args.out or Path("runs") / time.strftime("backtest-%Y%m%d-%H%M%S", time.gmtime())
    try:
        chunks = open_data(args.data, int(round(config.backtest.feed_latency_ms * 1e6)))
        summary = Backtest(config, twin=args.twin, out=out, progress=sys.stderr.isatty()).run(chunks)
    except DataError as exc:
        print(f"bin/mm-backtest: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps({**summary, "run_dir": str(out)}))
    else:
        print(f"backtest run in {out}: {summary['events']:,} events in {summary['wall_s']:.2f} s "
              f"({summary['events_per_s']:,.0f}/s), {summary['fills']} fills, equity "
              f"{summary['equity_usd']:.2f} USD, position {summary['position']:g}, {summary['trading_state']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
