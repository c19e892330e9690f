"""``bin/mm-synth --hours H --seed S [--sigma USD/sqrt(s)] [--A per s] [--k per USD] --out DIR``."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from backtest.synth import synthesize


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="bin/mm-synth", description="seeded synthetic market data with known truth")
    p.add_argument("--hours", type=float, default=1.0)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--sigma", type=float, default=5.0, help="USD/sqrt(s)")
    p.add_argument("--A", dest="a", type=float, default=1.0, help="trades per s per side")
    p.add_argument("--k", type=float, default=0.1, help="per USD")
    p.add_argument("--gzip", action="store_true", help="write .csv.gz")
    p.add_argument("--out", type=Path, required=True)
    args = p.parse_args(argv)
    for name in ("hours", "sigma", "a", "k"):
        if not getattr(args, name) > 0:
            p.error(f"--{name if name != 'a' else 'A'}={getattr(args, name)}: must be > 0")
    truth = synthesize(args.out, hours=args.hours, seed=args.seed, sigma=args.sigma, a=args.a, k=args.k,
                       compress=args.gzip)
    (args.out / "truth.json").write_text(json.dumps(truth, indent=2, sort_keys=True))
    print(json.dumps(truth))
    return 0


if __name__ == "__main__":
    sys.exit(main())
