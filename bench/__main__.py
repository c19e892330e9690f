"""``bin/mm-bench [SUITE ...|all] [--json]``."""
from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
from pathlib import Path

import bench
from bench.result import print_results

NOT_SUITES = {"result"}


def suites() -> list[str]:
    return sorted(m.name for m in pkgutil.iter_modules([str(Path(bench.__file__).parent)])
                  if not m.name.startswith("_") and m.name not in NOT_SUITES)


def main(argv: list[str] | None = None) -> int:
    names = suites()
    parser = argparse.ArgumentParser(prog="bin/mm-bench", description="benchmarks beside same-run baselines")
    parser.add_argument("suites", nargs="*", default=["all"], metavar="SUITE",
                        help=f"one or more of {', '.join(names)}, or all (default)")
    parser.add_argument("--json", action="store_true", help="one JSON object per line")
    parser.add_argument("--quick", action="store_true", help="smaller runs (for smoke tests)")
    modules = {name: importlib.import_module(f"bench.{name}") for name in names}
    for module in modules.values():
        if hasattr(module, "add_arguments"):
            module.add_arguments(parser)
    args = parser.parse_args(argv)
    chosen = names if "all" in args.suites else args.suites
    unknown = [s for s in chosen if s not in modules]
    if unknown:
        parser.error(f"unknown suite {unknown[0]!r}: expected one of {', '.join(names + ['all'])}")
    for name in chosen:
        if not args.json:
            print(f"\n== {name} ==", flush=True)
        print_results(modules[name].run(args), args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
