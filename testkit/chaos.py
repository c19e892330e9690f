"""The chaos soak: a real pipeline on a real local exchange, faults injected, invariants watched.

    soak = ChaosSoak(workdir, seconds=600, seed=1)
    report = soak.run()          # ChaosReport: faults, samples, violations, final books
    print(report.table())

One local exchange (``python -m sim``) with one registered key plays Thalex, so the pipeline can be
killed entirely (its supervisor too) and started again on the same account, exactly as an
operator's host would see it. While faults run one after another, a watcher thread samples the
exchange every ``sample_s`` and checks, for the account:

- never more resting orders on a side than the ladder's levels (plus a take-profit if enabled);
- the position never beyond ``risk.max_position``;
- after the supervisor is SIGKILLed, no pipeline process lives on, and nothing rests on the
  exchange once cancel-on-disconnect has run out.

At the end the market is calmed, the pipeline paused, and our books (fills, fees, position,
equity from ``bin/mmctl status``) are compared with the exchange's (its trade history and
portfolio). Used by ``bin/mm-chaos --minutes N`` and, short, by tests/chaos/.
"""
from __future__ import annotations

import contextlib
import os
import random
import signal
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from sim.keys import make_key_pair
from testkit.exchange import Client, running_sim
from testkit.pipeline import Pipeline, free_port_pair, protection

# (kind, weight): process kills dominate; the supervisor is killed less often (a full restart).
DEFAULT_FAULTS = (("kill:feed", 2), ("kill:quoter", 2), ("kill:risk", 3), ("kill:gateway", 2),
                  ("kill:recorder", 1), ("kill:supervisor", 1), ("drop:public", 1),
                  ("drop:private", 2), ("throttle", 1), ("stall", 1), ("delay", 1))
COD_TIMEOUT_S = 6          # the exchange pulls a dead session's orders after this
LEVELS = 3
MAX_POSITION = 0.05
PIPELINE_SETS = (
    "--set", "risk.stop_loss=0", "--set", "risk.max_drawdown=0",
    "--set", f"risk.max_position={MAX_POSITION}", "--set", f"quoter.levels={LEVELS}",
    *protection(50),
)
EPS = 1e-9


@dataclass
class Fault:
    at_s: float                 # seconds since the soak started
    kind: str
    detail: str = ""
    requote_s: float | None = None   # until quoting again with every process alive; None = never


@dataclass
class ChaosReport:
    seconds: float
    faults: list[Fault] = field(default_factory=list)
    samples: int = 0
    max_open_per_side: int = 0
    max_abs_position: float = 0.0
    violations: list[str] = field(default_factory=list)
    ours: dict = field(default_factory=dict)       # fills, fees, position, equity
    exchange: dict = field(default_factory=dict)
    leftovers: list[str] = field(default_factory=list)

    def books_agree(self) -> list[str]:
        """What differs between our books and the exchange's (empty when they agree)."""
        o, x = self.ours, self.exchange
        if not o or not x:
            return ["books not compared (the soak did not reach its end)"]
        bad = []
        if o["fills"] != x["fills"]:
            bad.append(f"fills: ours {o['fills']} exchange {x['fills']}")
        if abs(o["position"] - x["position"]) > EPS:
            bad.append(f"position: ours {o['position']:+.6f} exchange {x['position']:+.6f}")
        if abs(o["fees"] - x["fees"]) > 1e-6:
            bad.append(f"fees: ours {o['fees']:.6f} exchange {x['fees']:.6f}")
        # Marks differ by the settling EMA only; funding accrues from tickers: cents at most.
        if abs(o["equity"] - x["equity"]) > 0.05 + abs(x["position"]) * 2.0:
            bad.append(f"equity: ours {o['equity']:.4f} exchange {x['equity']:.4f}")
        return bad

    def ok(self) -> bool:
        return not self.violations and not self.books_agree() and not self.leftovers and \
            all(f.requote_s is not None for f in self.faults)

    def table(self) -> str:
        lines = [f"chaos soak: {self.seconds:.0f} s, {len(self.faults)} faults, "
                 f"{self.samples} exchange samples"]
        lines.append(f"{'fault':<18}{'count':>6}{'requote p50':>13}{'requote max':>13}{'never':>7}")
        for kind in sorted({f.kind for f in self.faults}):
            times = sorted(f.requote_s for f in self.faults if f.kind == kind and f.requote_s is not None)
            never = sum(1 for f in self.faults if f.kind == kind and f.requote_s is None)
            p50 = f"{times[len(times) // 2]:.2f} s" if times else "-"
            worst = f"{times[-1]:.2f} s" if times else "-"
            lines.append(f"{kind:<18}{len(times) + never:>6}{p50:>13}{worst:>13}{never:>7}")
        lines.append("")
        lines.append(f"{'invariant':<44}{'result':>28}")
        checks = [
            ("resting orders per side <= ladder levels", f"max {self.max_open_per_side} (limit {LEVELS})",
             self.max_open_per_side <= LEVELS),
            ("|position| <= risk.max_position", f"max {self.max_abs_position:.4f} (limit {MAX_POSITION})",
             self.max_abs_position <= MAX_POSITION + EPS),
            ("no process outlives its supervisor; nothing rests",
             "ok" if not any("outlived" in v or "rests" in v for v in self.violations) else "VIOLATED",
             not any("outlived" in v or "rests" in v for v in self.violations)),
            ("nothing left behind (segments)", ", ".join(self.leftovers) or "none", not self.leftovers),
        ]
        for name, value, good in checks:
            lines.append(f"{name:<44}{value:>28}  {'ok' if good else 'FAIL'}")
        lines.append("")
        lines.append(f"{'books':<12}{'ours':>16}{'exchange':>16}")
        for key, fmt in (("fills", "{:d}"), ("fees", "{:.6f}"), ("position", "{:+.6f}"), ("equity", "{:.4f}")):
            if key in self.ours and key in self.exchange:
                lines.append(f"{key:<12}{fmt.format(self.ours[key]):>16}{fmt.format(self.exchange[key]):>16}")
        for v in self.violations[:20]:
            lines.append(f"VIOLATION: {v}")
        for d in self.books_agree():
            lines.append(f"BOOKS DIFFER: {d}")
        lines.append("result: " + ("all invariants held" if self.ok() else "FAILED"))
        return "\n".join(lines)


class Watcher(threading.Thread):
    """Samples the account on the exchange; records what breaks an invariant."""

    def __init__(self, url: str, account: str, report: ChaosReport, sample_s: float):
        super().__init__(daemon=True, name="chaos-watcher")
        self.url, self.account, self.report, self.sample_s = url, account, report, sample_s
        self.stopping = threading.Event()

    def run(self) -> None:
        client = None
        while not self.stopping.wait(self.sample_s):
            try:
                client = client or Client(self.url, 10.0)
                reply = client.call("sim/portfolio", {"account": self.account})
            except Exception:   # sim/drop_connections drops the watcher too: connect again
                with contextlib.suppress(Exception):
                    client.close()
                client = None
                continue
            if "result" in reply:   # the account does not exist before the first login
                self.check(reply["result"])
        if client is not None:
            client.close()

    def check(self, state: dict) -> None:
        r = self.report
        r.samples += 1
        per_side: dict = {}
        for o in state["open_orders"]:
            if o.get("label") == "tp" or o.get("order_type") == "market":
                continue
            key = (o["instrument_name"], o["direction"])
            per_side[key] = per_side.get(key, 0) + 1
        worst = max(per_side.values(), default=0)
        r.max_open_per_side = max(r.max_open_per_side, worst)
        if worst > LEVELS:
            r.violations.append(f"{worst} orders rest on one side (ladder has {LEVELS}): {per_side}")
        for p in state["portfolio"]:
            pos = abs(p["position"])
            r.max_abs_position = max(r.max_abs_position, pos)
            if pos > MAX_POSITION + EPS:
                r.violations.append(f"position {p['position']:+.6f} on {p['instrument_name']} beyond {MAX_POSITION}")


class ChaosSoak:
    def __init__(self, workdir: Path, seconds: float, seed: int = 1, faults=DEFAULT_FAULTS,
                 sample_s: float = 0.2, flow_rate: float = 30.0, log=print):
        self.workdir, self.seconds, self.rng = Path(workdir), seconds, random.Random(seed)
        self.faults, self.sample_s, self.flow_rate, self.log = faults, sample_s, flow_rate, log
        self.seed = seed
        self.report = ChaosReport(seconds)
        self.port = free_port_pair()
        self.mm: Pipeline | None = None
        self.instances: set[str] = set()

    # ---- the pipeline --------------------------------------------------------------------
    def _start_pipeline(self, url: str, kid: str, private: Path) -> Pipeline:
        run = self.workdir / f"run{len(self.instances)}-{int(time.time())}"
        run.mkdir(parents=True, exist_ok=True)
        mm = Pipeline(run, "--set", f"venue.url={url}", *PIPELINE_SETS, port=self.port,
                      env={"THALEX_KEY_ID": kid, "THALEX_PRIVATE_KEY_FILE": str(private)})
        self.instances.add(mm.instance)
        return mm

    def _pids(self) -> dict[str, int]:
        return {p["name"]: p["pid"] for p in self.mm.ctl("status")["processes"]}

    def _recovered(self, started: float, timeout_s: float = 30.0, killed: tuple | None = None) -> float | None:
        """Seconds from ``started`` until quoting with every process alive (and the ``killed``
        (name, pid) process replaced: right after a SIGKILL it may still look alive)."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            with contextlib.suppress(Exception):
                s = self.mm.ctl("status")
                replaced = killed is None or all(p["pid"] != killed[1] for p in s["processes"]
                                                 if p["name"] == killed[0])
                if s["quoting"] and s["connected"] and replaced and all(p["alive"] for p in s["processes"]):
                    return time.monotonic() - started
            time.sleep(0.05)
        return None

    # ---- faults ----------------------------------------------------------------------------
    def _inject(self, kind: str, url: str, kid: str, private: Path) -> Fault:
        fault = Fault(time.monotonic() - self.t0, kind)
        started = time.monotonic()
        killed = None
        if kind == "kill:supervisor":
            self._kill_supervisor(fault)
            started = time.monotonic()   # time to quote again counts from the operator's restart
            self.mm = self._start_pipeline(url, kid, private)
        elif kind.startswith("kill:"):
            name = kind.split(":", 1)[1]
            pid = self._pids()[name]
            os.kill(pid, signal.SIGKILL)
            fault.detail = f"pid {pid}"
            killed = (name, pid)
        elif kind.startswith("drop:"):
            fault.detail = str(self.mm.sim("sim/drop_connections", scope=kind.split(":", 1)[1])["dropped"])
        elif kind == "throttle":
            self.mm.sim("sim/throttle", seconds=1.5)
        elif kind == "stall":
            self.mm.sim("sim/stall_feed", seconds=3.0)
        elif kind == "delay":
            self.mm.sim("sim/delay_replies", seconds=0.3)
            time.sleep(2.0)
            self.mm.sim("sim/delay_replies", seconds=0.0)
        fault.requote_s = self._recovered(started, killed=killed)
        return fault

    def _kill_supervisor(self, fault: Fault) -> None:
        pids = self._pids()
        mm = self.mm
        os.kill(mm.proc.pid, signal.SIGKILL)
        mm.proc.wait(timeout=10)
        killed = time.monotonic()
        alive = dict(pids)
        while alive and time.monotonic() - killed < 5.0:
            alive = {n: p for n, p in alive.items() if _running(p)}
            time.sleep(0.05)
        if alive:
            self.report.violations.append(f"pipeline processes outlived their supervisor by 5 s: {alive}")
            for pid in alive.values():   # clean up what the pipeline should have: by pid
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
        fault.detail = f"children gone after {time.monotonic() - killed:.2f} s"
        deadline = killed + COD_TIMEOUT_S + 4.0
        resting = None
        while time.monotonic() < deadline:
            resting = mm.exchange_state()["open_orders"]
            if not resting:
                break
            time.sleep(0.2)
        if resting:
            self.report.violations.append(f"{len(resting)} orders still rest {COD_TIMEOUT_S + 4} s "
                                          "after the supervisor died")
        with contextlib.suppress(Exception):
            mm.exchange.close()
        mm.log.close()

    # ---- the soak ---------------------------------------------------------------------------
    def run(self) -> ChaosReport:
        kid, private, public = make_key_pair(self.workdir / "keys")
        with running_sim(api_keys={kid: public}, seed=self.seed) as sim:
            self.mm = self._start_pipeline(sim.url, kid, private)
            watcher = None
            try:
                self.mm.wait(lambda s: s["quoting"], 30, "quoting")
                self.mm.sim("sim/options", flow_rate=self.flow_rate)
                watcher = Watcher(sim.url, self.mm.account, self.report, self.sample_s)
                watcher.start()
                self.t0 = time.monotonic()
                kinds = [k for k, _ in self.faults]
                weights = [w for _, w in self.faults]
                while time.monotonic() - self.t0 < self.seconds:
                    kind = self.rng.choices(kinds, weights)[0]
                    fault = self._inject(kind, sim.url, kid, private)
                    self.report.faults.append(fault)
                    self.log(f"[{fault.at_s:7.1f}s] {fault.kind:<16} {fault.detail:<28} quoting again after "
                             + (f"{fault.requote_s:.2f} s" if fault.requote_s is not None else "NEVER"))
                    time.sleep(self.rng.uniform(1.0, 3.0))
                watcher.stopping.set()
                watcher.join(timeout=10)
                self._settle_and_compare()
            finally:
                if watcher is not None:
                    watcher.stopping.set()
                code = self.mm.stop()
                if code != 0:
                    self.report.violations.append(f"bin/mm run exited {code} at the end")
                self.report.leftovers = sorted(s for inst in self.instances for s in _segments(inst))
        return self.report

    def _settle_and_compare(self) -> None:
        mm = self.mm
        mm.sim("sim/options", flow_rate=0.0, volatility=0.0)
        mm.ctl("pause")
        mm.wait(lambda s: not s["quoting"], 15, "quotes pulled after pause")
        time.sleep(2.0)   # let the mark settle
        x = exchange_books(mm)
        try:
            s = mm.wait(lambda s: s["fills"] == x["fills"] and
                        all(abs(s["positions"][n] - x["positions"].get(n, 0.0)) < EPS for n in s["positions"]),
                        15, "our books caught up with the exchange")
        except AssertionError:
            s = mm.ctl("status")
        self.report.exchange = {"fills": x["fills"], "fees": x["fees"], "position": x["position"],
                                "equity": x["equity"]}
        self.report.ours = {"fills": int(s["fills"]), "fees": s["pnl"]["fees"],
                            "position": sum(s["positions"].values()), "equity": s["pnl"]["equity"]}


def exchange_books(mm: Pipeline) -> dict:
    """The exchange's view of the account: trades, fees, positions, equity (USD)."""
    state = mm.exchange_state()
    params = mm.ctl("params")
    client = Client(mm.url, 10.0)
    try:
        client.login(params["key_id"], params["key_file"])
        trades, bookmark = [], None
        while True:
            page = client.result("private/trade_history",
                                 {"limit": 1000, **({"bookmark": bookmark} if bookmark else {})})
            trades += page["trades"]
            bookmark = page.get("bookmark")
            if not bookmark or not page["trades"]:
                break
    finally:
        client.close()
    positions = {p["instrument_name"]: p["position"] for p in state["portfolio"]}
    summary = state["summary"]
    return {"fills": len(trades), "fees": sum(t.get("fee", 0.0) for t in trades),
            "positions": positions, "position": sum(positions.values()),
            "equity": summary["cash_collateral"] - 1_000_000.0 + summary["unrealised_pnl"]}


def _running(pid: int) -> bool:
    """True while ``pid`` exists and is not a zombie."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return False


def _segments(instance: str) -> list[str]:
    from shm.segment import list_segments
    return list_segments(instance)


def main(argv: list[str] | None = None) -> int:
    import argparse
    import tempfile

    p = argparse.ArgumentParser(prog="bin/mm-chaos", description="the chaos soak and its invariants table")
    p.add_argument("--minutes", type=float, default=10.0)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--keep", action="store_true", help="keep the work directory (logs of every run)")
    a = p.parse_args(argv)
    if a.minutes <= 0:
        p.error(f"--minutes={a.minutes}: expected > 0")
    workdir = Path(tempfile.mkdtemp(prefix="mm-chaos-"))
    report = ChaosSoak(workdir, a.minutes * 60.0, a.seed).run()
    print(report.table())
    print(f"logs: {workdir}" if a.keep else "")
    if not a.keep:
        import shutil
        shutil.rmtree(workdir, ignore_errors=True)
    return 0 if report.ok() else 1


if __name__ == "__main__":
    raise SystemExit(main())
