"""``bin/mm-report [RUN_DIR] [--out DIR] [--json]``: plots and a summary of a recorded run."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from report import load as L
from report import page, plots, summary


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="bin/mm-report", description=__doc__.split("\n")[0])
    parser.add_argument("run_dir", nargs="?", type=Path,
                        help="a run directory (default: the latest under runs/)")
    parser.add_argument("--out", type=Path, help="where to write (default: RUN_DIR/report)")
    parser.add_argument("--runs", type=Path, default=Path("runs"), help="where runs live (default runs/)")
    parser.add_argument("--json", action="store_true", help="print the summary figures as JSON")
    args = parser.parse_args(argv)
    try:
        run_dir = args.run_dir or L.latest_run(args.runs)
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
    return 0


if __name__ == "__main__":
    sys.exit(main())
