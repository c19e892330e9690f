"""Our fills against hftbacktest's, fill for fill, for one backtest run.

    .venv/bin/python -m testkit.hftbacktest_compare DATA RUN_DIR [--json]

DATA is what the run read (bin/mm-backtest DATA), RUN_DIR its run directory: the market data is
converted to hftbacktest's event format, the run's orders.csv (every insert / amend / cancel at
its local send time) is replayed through hftbacktest 2.4.4 with the run's settings (tick, lot,
constant entry / response latencies, queue model, partial fills, fees; settings.json), and the
two lists of fills (order id, exchange time, price, amount) are compared. Exit 0 when they agree.
"""
from __future__ import annotations

import argparse
import csv
import json
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from backtest.data import export_hftbacktest, open_data
from testkit import hftbacktest_env

REPLAY = Path(__file__).resolve().with_name("hftbacktest_replay.py")


@dataclass
class Comparison:
    ours: list                        # [(order_id, exch_ts, price ticks, amount lots)] sorted
    theirs: list
    refused: list = field(default_factory=list)    # actions hftbacktest would not take
    late: int = 0                     # actions after the last event (cannot fill in either)
    version: str = ""

    @property
    def agree(self) -> bool:
        return self.ours == self.theirs and not self.refused

    def differences(self, limit: int = 10) -> list[str]:
        mine, other = set(self.ours), set(self.theirs)
        out = [f"only ours: {f}" for f in sorted(mine - other)[:limit]]
        out += [f"only hftbacktest: {f}" for f in sorted(other - mine)[:limit]]
        out += [f"refused by hftbacktest: {r}" for r in self.refused[:limit]]
        return out

    def summary(self) -> str:
        if self.agree:
            return f"{len(self.ours)} fills, the same in both engines (hftbacktest {self.version})"
        return (f"{len(self.ours)} fills ours, {len(self.theirs)} hftbacktest {self.version}, "
                f"{len(set(self.ours) & set(self.theirs))} in common, {len(self.refused)} actions refused:\n  "
                + "\n  ".join(self.differences()))


def _key(oid, ts, price, amount, tick, lot):
    return int(oid), int(ts), int(round(float(price) / tick)), int(round(float(amount) / lot))


def params(settings: dict, **override) -> dict:
    bt, risk = settings["backtest"], settings["risk"]
    p = {"tick": bt["tick_size"], "lot": bt["amount_tick"], "entry_ns": int(bt["entry_latency_ms"] * 1e6),
         "response_ns": int(bt["response_latency_ms"] * 1e6), "maker_fee": risk["maker_fee_rate"],
         "taker_fee": risk["taker_fee_rate"], "queue_model": bt["queue_model"], "queue_power": bt["queue_power"],
         "partial_fills": bt["partial_fills"]}
    p.update(override)
    return p


def compare(data: Path, run_dir: Path, **override) -> Comparison:
    """Replay ``run_dir``'s decisions on ``data`` through hftbacktest; ``override`` changes a
    replay parameter (e.g. queue_model="log_prob": a different rule, to see the check fail)."""
    run_dir = Path(run_dir)
    settings = json.loads((run_dir / "settings.json").read_text())
    p = params(settings, **override)
    feed_ns = int(round(settings["backtest"]["feed_latency_ms"] * 1e6))
    chunks = list(open_data(Path(data), feed_ns))
    events = np.concatenate(chunks) if chunks else np.zeros(0)
    with tempfile.TemporaryDirectory() as d:
        np.save(Path(d) / "events.npy", export_hftbacktest(events))
        (Path(d) / "params.json").write_text(json.dumps(p))
        out = hftbacktest_env.run(REPLAY, Path(d) / "events.npy", run_dir / "orders.csv", Path(d) / "params.json")
    got = json.loads(out.stdout)
    tick, lot = p["tick"], p["lot"]
    with open(run_dir / "fills.csv", newline="") as f:
        ours = sorted(_key(r["order_id"], r["time_ns"], r["price"], r["amount"], tick, lot) for r in csv.DictReader(f))
    theirs = sorted(_key(*f, tick, lot) for f in got["fills"])
    return Comparison(ours, theirs, got["refused"], len(got["late"]), got["version"])


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m testkit.hftbacktest_compare", description=__doc__.split("\n")[0])
    ap.add_argument("data", type=Path)
    ap.add_argument("run_dir", type=Path)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    try:
        c = compare(args.data, args.run_dir)
    except hftbacktest_env.Unavailable as exc:
        print(f"hftbacktest_compare: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps({"agree": c.agree, "ours": len(c.ours), "theirs": len(c.theirs),
                          "differences": c.differences(), "late": c.late, "version": c.version}))
    else:
        print(c.summary())
    return 0 if c.agree else 1


if __name__ == "__main__":
    sys.exit(main())
