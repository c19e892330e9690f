"""``bin/mm-report [RUN_DIR] [--out DIR] [--json]``: plots and a summary of a recorded run."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import conf
from report import load as L
from runtime.settings import runs_dir
from report import page, plots, summary


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="bin/mm-report", description=__doc__.split("\n")[0])
    parser.add_argument("run_dir", nargs="?", type=Path,
                        help="a run directory (default: the latest under --runs)")
    parser.add_argument("--out", type=Path, help="where to write (default: RUN_DIR/report)")
    parser.add_argument("--runs", type=Path, help="where runs live (default: recorder.dir of the default "
                        "configuration, relative to the project, where bin/mm run writes them)")
    parser.add_argument("--json", action="store_true", help="print the summary figures as JSON")
    args = parser.parse_args(argv)
    try:
        if args.run_dir is None:
            runs = args.runs or runs_dir(conf.load().recorder.dir)
            if not runs.is_dir():
                raise FileNotFoundError(f"no runs directory at {runs}: name a run directory "
                                        "(bin/mm-report RUN_DIR) or where runs live (--runs DIR)")
        run_dir = args.run_dir or L.latest_run(runs)
        run = L.load(run_dir)
    except FileNotFoundError as exc:
        print(f"bin/mm-report: {exc}", file=sys.stderr)
        return 2
    out = args.out or run_dir / "report"
    figures = summary.figures(run)
    pngs = plots.draw_all(run, out)
    (out / "summary.json").write_text(json.dumps(figures, indent=2))
    index = page.write(out, run_dir, figures, pngs)
    if args.json:
        print(json.dumps(figures))
    else:
        print(f"report of {run_dir}: {index}")
        for key, label, fmt in page.LABELS:
            if key in figures:
                print(f"  {label:<42} {fmt.format(figures[key])}")
        for name, f in figures.get("instruments", {}).items():
            print(f"  {name:<16} fills {f['fills']}  volume {f['volume_contracts']:.4f}  ladders "
                  f"{f['ladders_published']}  final position {f['final_position_contracts']:+.4f}  "
                  f"max |delta| {f['max_abs_delta_usd']:.2f} USD")
        pf = figures.get("portfolio") or {}
        for u, d in pf.get("net_delta_usd", {}).items():
            print(f"  portfolio net delta {u:<8} final {d['final']:+.2f}  max |.| {d['max_abs']:.2f} USD")
        if pf:
            print(f"  portfolio gross notional  final {pf['final_gross_notional_usd']:.2f}  "
                  f"max {pf['max_gross_notional_usd']:.2f} USD")
    return 0


if __name__ == "__main__":
    sys.exit(main())
