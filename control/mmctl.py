"""``bin/mmctl [--endpoint tcp://127.0.0.1:7755] [--json] COMMAND [KEY=VALUE ...]``.

Sends one command to the control port and prints the answer: readable text by default, the
raw result as JSON with --json. Exit code 0 on success, 1 when the market maker answered with
an error, 2 when nobody answered within --timeout seconds.

    bin/mmctl status
    bin/mmctl set quoter.gamma=0.1 quoter.levels=5     (quoter.* only: others need a restart)
    bin/mmctl set ETH-PERPETUAL.gamma=0.02           (one instrument's quoter key)
    bin/mmctl pause | resume | halt | flatten | kill | params | ping | shutdown
    bin/mmctl watch [--count N]     status, refreshed every second (Ctrl-C ends it)
"""
from __future__ import annotations

import argparse
import json
import sys
import time
import tomllib

import msgpack
import zmq

COMMANDS = ("ping", "status", "params", "set", "pause", "resume", "halt", "flatten", "kill", "shutdown",
            "watch")


def request(endpoint: str, cmd: str, args: dict | None = None, timeout_s: float = 5.0,
            curve_server_key: bytes | None = None) -> dict:
    """One round trip; raises TimeoutError when the port does not answer."""
    ctx = zmq.Context.instance()
    sock = ctx.socket(zmq.DEALER)
    sock.setsockopt(zmq.LINGER, 0)
    if curve_server_key:
        public, secret = zmq.curve_keypair()
        sock.curve_publickey, sock.curve_secretkey, sock.curve_serverkey = public, secret, curve_server_key
    try:
        sock.connect(endpoint)
        sock.send(msgpack.packb({"cmd": cmd, "args": args or {}}, use_bin_type=True))
        if not sock.poll(int(timeout_s * 1000)):
            raise TimeoutError(f"no answer from {endpoint} within {timeout_s}s (is bin/mm run running?)")
        return msgpack.unpackb(sock.recv(), raw=False)
    finally:
        sock.close(linger=0)


def parse_args(items: list[str]) -> dict:
    out = {}
    for item in items:
        key, sep, text = item.partition("=")
        if not sep or not key:
            raise ValueError(f"argument {item!r}: expected KEY=VALUE")
        try:
            out[key] = tomllib.loads(f"v = {text}")["v"]
        except tomllib.TOMLDecodeError:
            out[key] = text
    return out


def render(cmd: str, result) -> str:
    if cmd != "status" or not isinstance(result, dict):
        return json.dumps(result, indent=2, sort_keys=True, default=str)
    r = result
    pnl = r.get("pnl", {})
    lines = [
        f"venue      {r.get('venue')}",
        f"state      {r.get('trading_state')}{' (' + r['reason'] + ')' if r.get('reason') else ''}"
        f"{'  PAUSED' if r.get('paused') else ''}  quoting={r.get('quoting')}  connected={r.get('connected')}"
        f"  md_stale={r.get('md_stale')}",
        f"fills      {r.get('fills')}",
        f"pnl        realised {pnl.get('realised', 0):.2f}  unrealised {pnl.get('unrealised', 0):.2f}  "
        f"fees {pnl.get('fees', 0):.2f}  equity {pnl.get('equity', 0):.2f} USD",
    ]
    for name, why in (r.get("not_quoting") or {}).items():
        lines.append(f"not quoting {name}: {why}")
    pf = r.get("portfolio") or {}
    if pf:
        deltas = "  ".join(f"{u} {d:+.2f}" for u, d in (pf.get("net_delta_usd") or {}).items())
        lines.append(f"portfolio  net delta {deltas} USD (limit {_limit(pf.get('max_net_delta_usd'))})  "
                     f"gross notional {pf.get('gross_notional_usd', 0):.2f} USD "
                     f"(limit {_limit(pf.get('max_gross_notional_usd'))})")
    per = r.get("instruments") or {}
    if per:
        lines.append(f"instrument {'':<16} {'position':>10} {'delta USD':>11} {'open bid':>9} {'open ask':>9} "
                     f"{'mark':>11} {'fills':>6} {'ladders':>8} {'fast':>5}  params")
    for name, i in per.items():
        p = i.get("params") or {}
        lines.append(f"position   {name:<16} {i['position']:+10.4f} {i['delta_usd']:+11.2f} {i['open_bid']:9.4f} "
                     f"{i['open_ask']:9.4f} {i['mark']:11.2f} {i['fills']:6d} {i['quotes_published']:8d} "
                     f"{i['fast_cancels']:5d}  gamma={p.get('gamma')} levels={p.get('levels')} "
                     f"base_size={p.get('base_size')} max_position={p.get('max_position')}")
    if not per:
        for name, pos in (r.get("positions") or {}).items():
            oo = (r.get("open_orders") or {}).get(name, {})
            lines.append(f"position   {name:<16} {pos:+.6f}  open bid {oo.get('bid', 0):.6f}  "
                         f"ask {oo.get('ask', 0):.6f}  mark {(r.get('marks') or {}).get(name, 0):.2f}")
    lat = r.get("latency_us") or {}
    if lat:
        lines.append(f"latency    md->send p50 {lat.get('md_to_send_p50', 0):.0f} us  p99 {lat.get('md_to_send_p99', 0):.0f} us"
                     f"   fast cancels {r.get('fast_cancels', 0)} (md->send p50 {lat.get('fast_cancel_p50', 0):.0f} us)")
    for name, sides in (r.get("markouts") or {}).items():
        cells = "  ".join(f"{side} " + " ".join("-" if v is None else f"{v:+.2f}" for v in by_h.values())
                          for side, by_h in sides.items())
        lines.append(f"markout    {name:<16} 1s/5s/30s USD per contract: {cells}   guard {(r.get('guard') or {}).get(name)}")
    lines.append("process    pid      cpu  slice    alive  heartbeat  restarts  errors")
    for p in r.get("processes") or []:
        age = p.get("heartbeat_age_s")
        sl = p.get("slice_us")
        lines.append(f"  {p['name']:<8} {p.get('pid') or '-':<8} {p.get('cpu') if p.get('cpu') is not None else '-':<4} "
                     f"{'-' if sl is None else f'{sl:.0f}us':<8} {'yes' if p.get('alive') else 'NO':<6} {'-' if age is None else f'{age:.2f}s':<10} "
                     f"{p.get('restarts', 0):<9} {p.get('errors', 0)}")
    return "\n".join(lines)


def _limit(x) -> str:
    return "off" if not x else f"{x:g}"


def watch(endpoint: str, timeout_s: float, interval_s: float, count: int, as_json: bool) -> int:
    """Print status every ``interval_s`` (clearing a terminal first) until Ctrl-C or ``count``."""
    clear = "\x1b[H\x1b[2J" if sys.stdout.isatty() and not as_json else ""
    shown = 0
    try:
        while not count or shown < count:
            try:
                reply = request(endpoint, "status", {}, timeout_s)
            except TimeoutError as exc:
                print(f"mmctl: {exc}", file=sys.stderr)
                return 2
            text = json.dumps(reply.get("result"), default=str) if as_json else render("status", reply.get("result"))
            print(f"{clear}{time.strftime('%H:%M:%S')}  {endpoint}\n{text}" if not as_json else text, flush=True)
            shown += 1
            if not count or shown < count:
                time.sleep(interval_s)
    except KeyboardInterrupt:
        pass
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="bin/mmctl", description="control client of bin/mm run")
    parser.add_argument("--endpoint", default="tcp://127.0.0.1:7755")
    parser.add_argument("--json", action="store_true", help="print the raw result as JSON")
    parser.add_argument("--timeout", type=float, default=5.0, help="seconds to wait for an answer")
    parser.add_argument("--count", type=int, default=0, help="watch: stop after this many refreshes")
    parser.add_argument("--interval", type=float, default=1.0, help="watch: seconds between refreshes")
    parser.add_argument("command", help=f"one of {', '.join(COMMANDS)}")
    parser.add_argument("args", nargs="*", metavar="KEY=VALUE")
    a = parser.parse_args(argv)
    if a.command == "watch":
        return watch(a.endpoint, a.timeout, a.interval, a.count, a.json)
    try:
        args = parse_args(a.args)
        reply = request(a.endpoint, a.command, args, a.timeout)
    except ValueError as exc:
        parser.error(str(exc))
    except TimeoutError as exc:
        print(f"mmctl: {exc}", file=sys.stderr)
        return 2
    if not reply.get("ok"):
        print(f"mmctl: {reply.get('error')}", file=sys.stderr)
        return 1
    try:
        print(json.dumps(reply["result"], default=str) if a.json else render(a.command, reply["result"]))
    except BrokenPipeError:      # `bin/mmctl status | head`: the reader left, nothing to report
        sys.stderr.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
