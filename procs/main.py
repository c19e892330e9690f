"""``bin/mm run``: the entry point of the market maker."""
from __future__ import annotations

import argparse
import sys


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bin/mm", description="Thalex market maker")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="start the whole pipeline (default: paper trading on a local exchange)")
    run.add_argument("--config", help="TOML configuration file (default conf/paper.toml)")
    run.add_argument("--set", action="append", default=[], metavar="SECTION.KEY=VALUE",
                     help="override one configuration value")
    args = parser.parse_args(argv)
    if args.command == "run":
        print("bin/mm run: the pipeline (procs/ supervisor) is not assembled yet; "
              "see the open pipeline issue", file=sys.stderr)
        return 3
    return 2


if __name__ == "__main__":
    sys.exit(main())
