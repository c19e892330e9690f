"""``bin/mm-sweep DATA [--config FILE] --grid SECTION.KEY=V1,V2,... [--random N --range
SECTION.KEY=LO:HI[:log]] [--objective NAME] [--train START..END --test START..END | --split F]
[--top K] [--address ADDR] [--workers N] [--out DIR] [--keep-runs] [--json]``."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from backtest.data import DataError
from conf.load import ConfigError
from sweep.metrics import OBJECTIVES
from sweep.plan import PlanError
from sweep.run import SweepArgs, sweep
from sweep.runner import ClusterError
from sweep.window import WindowError


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="bin/mm-sweep", description="many backtests (bin/mm-backtest's code "
                                "path) as Ray tasks: grid or random search, walk-forward, ranked results")
    p.add_argument("data", type=Path, help="what bin/mm-backtest reads: a CSV-pair directory, .npz, a capture")
    p.add_argument("--config", help="base configuration file (default conf/paper.toml)")
    p.add_argument("--grid", action="append", default=[], metavar="SECTION.KEY=V1,V2,...",
                   help="one axis of the grid (repeat for more axes)")
    p.add_argument("--random", type=int, default=0, metavar="N", help="N random points within the --range's")
    p.add_argument("--range", dest="ranges", action="append", default=[], metavar="SECTION.KEY=LO:HI[:log]")
    p.add_argument("--seed", type=int, default=1, help="of the random points")
    p.add_argument("--objective", default="sharpe", help=f"rank by one of {', '.join(OBJECTIVES)} (default sharpe)")
    p.add_argument("--train", metavar="START..END", help="training window: offsets (0..40m) or UTC times")
    p.add_argument("--test", metavar="START..END", help="test window, same forms")
    p.add_argument("--split", type=float, metavar="F", help="the first fraction F of the data trains, the rest tests")
    p.add_argument("--top", type=int, default=3, metavar="K", help="sets chosen on train and scored on test (default 3)")
    p.add_argument("--address", help="a Ray cluster (HOST:6379, ray://HOST:10001, auto); default a local Ray")
    p.add_argument("--workers", type=int, metavar="N",
                   help="runs at once (local Ray: its CPUs; default all cores / all the cluster's CPUs)")
    p.add_argument("--out", type=Path, help="output directory (default runs/sweep-<data>-<hash of the command>)")
    p.add_argument("--keep-runs", action="store_true", help="keep every run directory in OUT/runs/ (large)")
    p.add_argument("--json", action="store_true", help="print the summary as one JSON object")
    return p


def report(result) -> str:
    s = result.summary
    runs = s["runs"]
    lines = [f"sweep in {result.out}: {runs['finished']}/{runs['planned']} runs finished ({runs['executed']} now, "
             f"{runs['finished'] - runs['executed']} resumed), {runs['failed']} failed"]
    for part, label in s["windows"].items():
        lines.append(f"  {part}: {label}")
    best = s["best"]
    if best is None:
        lines.append("  no run succeeded: see the error column of results.csv")
        return "\n".join(lines)
    first = next(iter(s["windows"]))
    lines.append(f"  ranked by {s['objective']}; best on {first}: {best['overrides']}")
    for part in (first, "test"):
        f = best.get(part)
        if f:
            lines.append(f"    {part:>5}: {s['objective']} {f[s['objective']]:.4g}, P&L {f['pnl_usd']:.2f} USD "
                         f"({f['pnl_per_hour_usd']:.2f}/h), Sharpe {f['sharpe']:.3g}, {f['fills']} fills, "
                         f"max drawdown {f['max_drawdown_usd']:.2f} USD")
    if "test" in s["windows"]:
        lines.append(f"  top {len(s['chosen'])} on {first} -> test ({s['objective']}):")
        for c in s["chosen"]:
            params = " ".join(f"{k}={v}" for k, v in c["params"].items())
            test = "failed" if c["test"] is None else f"{c['test']:.4g}"
            lines.append(f"    #{c['train_rank']} {params}: {first} {c[first]:.4g}, test {test}")
    lines += [f"  {f}" for f in s["files"]]
    return "\n".join(lines)


def main(argv=None) -> int:
    args = parser().parse_args(argv)
    try:
        result = sweep(SweepArgs(data=args.data, grid=args.grid, ranges=args.ranges, random=args.random,
                                 seed=args.seed, config=args.config, objective=args.objective, train=args.train,
                                 test=args.test, split=args.split, top=args.top, address=args.address,
                                 workers=args.workers, out=args.out, keep_runs=args.keep_runs))
    except (PlanError, WindowError, ConfigError, DataError, ClusterError) as exc:
        print(f"bin/mm-sweep: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("\nbin/mm-sweep: interrupted; runs that finished are kept in the output directory's "
              "runs.jsonl and the same command resumes", file=sys.stderr)
        return 130
    print(json.dumps(result.summary, default=str) if args.json else report(result))
    if result.interrupted:
        print(f"bin/mm-sweep: interrupted: the {result.summary['runs']['finished']} finished runs are kept in "
              f"{result.out}; the same command resumes", file=sys.stderr)
        return 130
    return 0 if result.summary["runs"]["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
