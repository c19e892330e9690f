"""What each control-port command does to the running pipeline.

Commands post requests through the shared state (``shm.state``): the process that acts on them
(risk for halt/resume/flatten, the gateway for kill and cancel) sees the sequence change on its
next pass. ``set`` is validated first (a refused value changes nothing) and reaches the quoter
through its shared-memory parameters record (runtime/live_params.py). ``status`` reads shared
memory only, so it answers even when a process is dead.
"""
from __future__ import annotations

import logging
import math
import re
import time

from conf import instruments as I
from control.instrument_status import InstrumentsRunning, instrument_status, limits_of
from runtime import settings as S
from shm.state import HALTED, MD_REFUSED_NAMES, NOT_QUOTING_NAMES, TRADING_STATE_NAMES

log = logging.getLogger("control")

# What ``set`` accepts, checked before anything is logged or applied: a key is SECTION.KEY made
# of lower-case names, or INSTRUMENT.KEY with an instrument's name (upper case, digits, -) (a
# newline in a key once forged a log line), a value is a TOML scalar or a short list of numbers,
# and text holds printable characters only.
SET_KEY = re.compile(r"(?:[a-z][a-z0-9_]{0,63}|[A-Z0-9][A-Z0-9_-]{0,47})\.[a-z][a-z0-9_]{0,63}")
MAX_TEXT = 200
MAX_LIST = 32


class Commands:
    def __init__(self, supervisor, venue_url: str, validate_set=None):
        self.sup = supervisor
        self.venue_url = venue_url
        self.validate_set = validate_set  # (settings, key, value) -> new settings; raises ValueError
        self.shutdown_requested = False
        self.started = time.time()
        self._limits_of = self._limits_cache = None

    @property
    def state(self):
        return self.sup.state

    def ping(self, args: dict) -> dict:
        return {"pong": True, "time": time.time()}

    def status(self, args: dict) -> dict:
        s = self.state.snapshot()
        instruments = [i["name"] for i in self.sup.settings.get("instruments", [])]
        positions = {name: s["position"][i] for i, name in enumerate(instruments)}
        per_instrument, portfolio = instrument_status(s, self._limits())
        return {
            "trading_state": TRADING_STATE_NAMES.get(s["trading_state"], str(s["trading_state"])),
            "reason": s["reason_text"],
            "paused": bool(s["paused"]),
            "quoting": bool(s["quoting"]),
            "connected": bool(s["connected"]),
            "md_stale": bool(s["md_stale"]),
            # why each instrument quotes nothing right now (absent while it quotes)
            "not_quoting": {name: NOT_QUOTING_NAMES.get(s["not_quoting"][i], str(s["not_quoting"][i]))
                            for i, name in enumerate(instruments) if s["not_quoting"][i]},
            "md_refused": dict(zip(MD_REFUSED_NAMES, s["md_refused"])),
            "processes": self.sup.processes(),
            "positions": positions,
            "open_orders": {name: {"bid": s["open_bid"][i], "ask": s["open_ask"][i]}
                            for i, name in enumerate(instruments)},
            "marks": {name: s["mark"][i] for i, name in enumerate(instruments)},
            "fills": s["fills"],
            "fast_cancels": s["fast_cancels"],
            "latency_us": {"md_to_send_p50": s["send_p50_ns"] / 1e3, "md_to_send_p99": s["send_p99_ns"] / 1e3,
                           "fast_cancel_p50": s["fast_send_p50_ns"] / 1e3,
                           "fast_cancel_p99": s["fast_send_p99_ns"] / 1e3, "fast_cancels_sent": s["fast_sends"],
                           # the gateway's own pulls on a jump, and the quoter's that came after one
                           "trip_pulls": s["trip_pulls"], "fast_followups": s["fast_followups"],
                           # per hop (shm/latency.py): feed, quoter, approve, send, total
                           "hops": self.sup.segs["latency"].snapshot_us() if "latency" in self.sup.segs else {}},
            "guard": {name: ("calm", "pull bids", "pull asks", "pull both")[s["guard_state"][i]]
                      for i, name in enumerate(instruments)},
            "markouts": {name: {side: {f"{h}s": _finite(s["markout"][i][k][j]) for j, h in enumerate((1, 5, 30))}
                                for k, side in enumerate(("buys", "sells"))}
                         for i, name in enumerate(instruments)},
            "pnl": {"realised": s["realised"], "unrealised": s["unrealised"], "fees": s["fees"],
                    "funding": s["funding"], "equity": s["equity"], "high_water": s["high_water"]},
            "instruments": per_instrument,
            "portfolio": portfolio,
            "venue": self.venue_url,
            "instance": self.sup.instance,
            "run_dir": str(self.sup.run_dir),
            "rings": self.sup.ring_depths(),
            "uptime_s": time.time() - self.started,
        }

    def _limits(self) -> InstrumentsRunning:
        """The running settings' instruments and limits (rebuilt only after a ``set``)."""
        settings = self.sup.settings
        if self._limits_of is not settings:
            self._limits_cache, self._limits_of = limits_of(settings), settings
        return self._limits_cache

    def params(self, args: dict) -> dict:
        """The effective configuration (no key material: only the key id and the file's path)."""
        return {k: v for k, v in self.sup.settings.items() if k not in ("processes", "process_runtime")}

    def set(self, args: dict) -> dict:
        # The server prefixes every error with the command's name ("set: ...").
        if not args:
            raise ValueError("expected at least one SECTION.KEY=VALUE argument, e.g. quoter.gamma=0.1")
        if self.validate_set is None:
            raise ValueError("live parameter changes are not available in this configuration")
        for key, value in args.items():
            check_set_argument(key, value)
        settings = self.sup.settings
        for key, value in args.items():
            settings = self.validate_set(settings, key, value)
        if settings.get("instruments"):   # a smaller base_size must not silence the quoter
            config, instruments = S.config_of(settings), S.instruments_of(settings)
            S.check_order_sizes(config, instruments)
            S.check_protection(config, instruments)
        log.warning("operator command: set %s", ", ".join(f"{k}={v!r}" for k, v in args.items()))
        seq = self.sup.apply_settings(settings)
        reply = {"changed": dict(args), "params_version": seq // 2}
        kept = _kept_by_instruments(settings, args)
        if kept:   # a default changed under instruments that set their own value
            reply["kept_by_instrument_sections"] = kept
        return reply

    def _wake(self, *names: str) -> None:
        bells = self.sup.segs.get("doorbells")
        for name in names if bells is not None else ():
            bells.bell(name).ring()

    def pause(self, args: dict) -> dict:
        self.state.set("paused", 1)
        self._wake("risk")
        return {"paused": True}

    def resume(self, args: dict) -> dict:
        self.state.set("paused", 0)
        seq = self.state.bump("resume_request_seq")
        self._wake("risk")
        return {"paused": False, "resume_seq": seq}

    def halt(self, args: dict) -> dict:
        seq = self.state.bump("halt_request_seq")
        self._wake("risk")
        return {"halt_seq": seq}

    def flatten(self, args: dict) -> dict:
        seq = self.state.bump("flatten_request_seq")
        self._wake("risk")
        return {"flatten_seq": seq}

    def kill(self, args: dict) -> dict:
        """Cancel every order on the account and halt; needs only the gateway alive.

        The trading state is set here as well as by risk: the kill must hold even while the risk
        process is dead (it keeps HALTED when it restarts)."""
        self.state.set("trading_state", HALTED)
        self.state.set("reason_text", b"kill")
        seq, cancelled = self.sup.request_cancel_all("kill", timeout_s=3.0, wake=("gateway", "risk"))
        if cancelled:
            return {"kill_seq": seq, "cancelled": True}
        return {"kill_seq": seq, "cancelled": False,
                "note": "gateway did not confirm within 3s; cancel-on-disconnect still protects the account"}

    def shutdown(self, args: dict) -> dict:
        self.shutdown_requested = True
        return {"shutting_down": True}

    def handlers(self) -> dict:
        """Command name -> handler; commands other than ``set`` refuse any argument."""
        out = {}
        for name in ("ping", "status", "params", "set", "pause", "resume", "halt", "flatten", "kill", "shutdown"):
            handler = getattr(self, name)
            out[name] = handler if name == "set" else _no_arguments(name, handler)
        return out


def check_set_argument(key, value) -> None:
    """Raise ValueError unless ``key`` is SECTION.KEY and ``value`` a plain value (see SET_KEY)."""
    if not isinstance(key, str) or not SET_KEY.fullmatch(key):
        raise ValueError(f"key {key!r}: expected SECTION.KEY of lower-case letters, digits and _, "
                         "e.g. quoter.gamma, or INSTRUMENT.KEY, e.g. ETH-PERPETUAL.gamma")
    items = value if isinstance(value, list) else [value]
    if isinstance(value, list) and not 0 < len(value) <= MAX_LIST:
        raise ValueError(f"{key}: a list of 1..{MAX_LIST} values expected, got {len(value)}")
    for item in items:
        if isinstance(item, float) and not math.isfinite(item):
            raise ValueError(f"{key}={item!r}: expected a finite number")
        if isinstance(item, str):
            if len(item) > MAX_TEXT or not item.isprintable():
                raise ValueError(f"{key}={item[:40]!r}: expected printable text of at most {MAX_TEXT} "
                                 "characters")
            if isinstance(value, list):
                raise ValueError(f"{key}: a list holds numbers only")
        elif not isinstance(item, (bool, int, float)):
            raise ValueError(f"{key}: expected a number, true/false or text, got {type(item).__name__}")


def _kept_by_instruments(settings: dict, args: dict) -> dict:
    """{key: [traded instruments whose own section sets it]} for the ``quoter.*`` keys of a set."""
    config = S.config_of(settings)
    out = {}
    for key in args:
        section, _, name = key.partition(".")
        if section != "quoter":
            continue
        own = []
        for inst in S.instruments_of(settings):
            found = I.section_for(config.instruments, inst.name)
            if found is not None and name in found.get():
                own.append(inst.name)
        if own:
            out[key] = own
    return out


def _finite(x: float):
    """None for NaN (no fill marked out yet), so JSON and msgpack readers need no special case."""
    return None if x != x else x


def _no_arguments(name: str, handler):
    """Refuse arguments a command does not take, and log the operator's state-changing commands."""
    def call(args: dict):
        if args:
            raise ValueError(f"takes no arguments, got {', '.join(sorted(args))}")
        if name not in ("ping", "status", "params"):
            log.warning("operator command: %s", name)
        return handler(args)
    return call
