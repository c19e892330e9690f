"""``bin/mm run [--config FILE] [--set SECTION.KEY=VALUE ...]``: the whole market maker.

1. Validate the configuration (a bad value stops here, before anything starts).
2. Paper mode (venue.url = "embedded", the default): make a throwaway key pair; otherwise take
   the credentials from the environment. Lock the account (runtime/account_lock.py): a second
   pipeline on the same venue, key and account stops here, before anything connects. In paper
   mode, start the local exchange (sim/) with the key.
3. Ask the venue for the instruments' ticks (an order size below their minimum is refused),
   write the run's settings, bind the control port (a port clash fails before any process
   starts), start the pipeline through the supervisor.
4. Serve the control port, watch heartbeats, publish telemetry, until SIGINT/SIGTERM or
   ``bin/mmctl shutdown``; then cancel everything, stop every process, unlink every segment.

The supervisor's log, operator commands included, goes to the console and to
``<run_dir>/logs/supervisor.log``. A start that fails removes its run directory, unless a
process or the exchange wrote logs there that explain the failure (the message names them).
"""
from __future__ import annotations

import argparse
import copy
import logging
import os
import shutil
import signal
import sys
import time
from pathlib import Path

import conf
from venue.credentials import read_credentials
from conf.instruments import quoter_keys
from conf.load import apply_override
from conf.schema import QUOTER_FROM
from runtime import settings as S
from runtime.account_lock import AccountLock
from control.commands import Commands
from control.server import ControlServer
from runtime.metrics import MetricsServer
from runtime.paper import EmbeddedExchange, make_throwaway_key
from runtime.supervisor import Supervisor
from venue.client import ThalexClient

log = logging.getLogger("mm")
LIVE_SECTIONS = ("quoter",)   # what `set` may change while running (shared memory: runtime/live_params.py)


def validate_set(settings: dict, key: str, value) -> dict:
    """``set SECTION.KEY=VALUE`` (or ``INSTRUMENT.KEY=VALUE``: one instrument's quoter key) on the
    running settings, validated like the file; new settings.

    Nothing is applied here: the caller hands the result to Supervisor.apply_settings, so a
    refused value (ValueError, naming the key, the value and the range) changes nothing."""
    if "." not in key:
        raise ValueError(f"{key!r}: expected SECTION.KEY or INSTRUMENT.KEY, e.g. quoter.gamma or "
                         "ETH-PERPETUAL.gamma")
    section, name = key.split(".", 1)
    traded = [i["name"] for i in settings.get("instruments", [])]
    if section in traded:
        if name not in quoter_keys(QUOTER_FROM):
            raise ValueError(f"{key}: only the quoter's keys of an instrument can change while running "
                             "(its risk limits need a restart with --set)")
        key = f"instruments.{key}"
    elif section not in LIVE_SECTIONS:
        hint = f" (traded: {', '.join(traded)})" if section != section.lower() else ""
        raise ValueError(f"{key}: only {', '.join(s + '.*' for s in LIVE_SECTIONS)} and INSTRUMENT.* of a "
                         f"traded instrument can change while running{hint}; other sections need a "
                         "restart with --set")
    # A deep copy: a refused value must leave the running settings exactly as they were.
    data = copy.deepcopy(S.conf_sections(settings))
    text = value if isinstance(value, str) else repr(value).lower() if isinstance(value, bool) else repr(value)
    apply_override(data, f"{key}={text}")
    config = conf.from_dict(data, "bin/mmctl set")
    return S.with_sections(settings, config)


def fetch_instruments(url: str, names: tuple, timeout_s: float) -> list[S.Instrument]:
    client = ThalexClient(url, timeout_s=timeout_s)
    client.connect()
    try:
        return S.instruments_from_venue(names, client.instruments())
    finally:
        client.close()


LOG_FORMAT = "%(asctime)s %(levelname)-7s %(name)-10s %(message)s"


def run(args) -> int:
    logging.basicConfig(level=logging.INFO, format=LOG_FORMAT)
    try:
        config = conf.load(args.config, args.set)
    except conf.ConfigError as exc:
        print(f"bin/mm: {exc}", file=sys.stderr)
        return 2
    instance = f"p{config.control.port}"
    run_dir = (S.runs_dir(config.recorder.dir) / f"{time.strftime('%Y%m%d-%H%M%S')}-{instance}").resolve()
    (run_dir / "logs").mkdir(parents=True, exist_ok=True)
    file_log = logging.FileHandler(run_dir / "logs" / "supervisor.log")
    file_log.setFormatter(logging.Formatter(LOG_FORMAT))
    logging.getLogger().addHandler(file_log)
    stop = {"now": False}

    def on_signal(*_):
        stop["now"] = True
    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)

    exchange = control = sup = lock = metrics = None
    started = False
    try:
        url = config.venue.url
        if url == "embedded":
            key_id, private, public = make_throwaway_key(run_dir)
            key_file = str(private)
        else:
            key_id, _pem = read_credentials(config.venue)
            key_file = str(Path(os.environ[config.venue.private_key_env]).resolve())
        # One pipeline per account, decided before anything connects (paper keys are new each run).
        lock = AccountLock.acquire(url, key_id, config.venue.account, str(run_dir))
        if url == "embedded":
            exchange = EmbeddedExchange(run_dir, key_id, public, config.venue.sim_seed, config.venue.sim_volatility)
            url = exchange.start()
            log.info("paper trading against the local exchange at %s", url)
        instruments = fetch_instruments(url, config.venue.instruments, config.venue.request_timeout_s)
        settings = S.build(config, instance=instance, venue_url=url, key_id=key_id, key_file=key_file,
                           instruments=instruments)
        settings["run_dir"] = str(run_dir)
        sup = Supervisor(settings, run_dir, inherit_fds=(lock.fd,))
        commands = Commands(sup, url, validate_set)
        c = config.control
        control = ControlServer(commands.handlers(), c.host, c.port, c.pub_port,
                                c.curve_secret_key_file, c.curve_client_keys_dir)
        if c.metrics_port:   # bound before any process starts: a port clash stops here
            metrics = MetricsServer(sup, url, c.metrics_host, c.metrics_port)
        sup.start()
        print(f"bin/mm: quoting {', '.join(config.venue.instruments)} on {url}\n"
              f"bin/mm: control port {control.endpoint} (telemetry {control.pub_endpoint}); "
              f"try: bin/mmctl --endpoint {control.endpoint} status\n"
              f"bin/mm: prometheus metrics {metrics.url if metrics else 'off (control.metrics_port = 0)'}\n"
              f"bin/mm: metrics and logs in {run_dir}", flush=True)
        control.publish({"event": "started", "run_dir": str(run_dir), "venue": url})
        started = True
        last = {"fills": 0, "state": None}
        while not stop["now"] and not commands.shutdown_requested:
            control.serve(50)
            sup.watch()
            _telemetry(sup, control, last)
        log.info("stopping")
        return 0
    except conf.ConfigError as exc:
        print(f"bin/mm: {exc}", file=sys.stderr)
        return 2
    except (RuntimeError, TimeoutError, OSError, ValueError) as exc:
        print(f"bin/mm: {exc}", file=sys.stderr)
        return 1
    finally:
        if metrics is not None:
            metrics.close()      # before the segments go: no scrape reads them after this
        if sup is not None:
            sup.stop()
        if control is not None:
            control.publish({"event": "stopped"})
            control.close()
        if exchange is not None:
            exchange.stop()
        if lock is not None:
            lock.release()   # after every process stopped: they held it too
        logging.getLogger().removeHandler(file_log)
        file_log.close()
        if not started:
            _keep_or_remove(run_dir, _logs_explaining_failure(run_dir, sup, exchange))


def _logs_explaining_failure(run_dir: Path, sup, exchange) -> list[str]:
    """Logs a failed start leaves that say more than the console did: those of the exchange when
    it did not come up, and those of every pipeline process that was started."""
    names = []
    if exchange is not None and exchange.url is None:
        names.append("exchange.log")
    for name, child in (sup.children.items() if sup is not None else ()):
        if child.proc is not None:
            names += [f"{name}.log", f"{name}.stderr"]
    return [n for n in names if (run_dir / "logs" / n).is_file() and (run_dir / "logs" / n).stat().st_size]


def _keep_or_remove(run_dir: Path, logs: list[str]) -> None:
    if logs:
        print(f"bin/mm: the failed start's logs are kept in {run_dir}/logs: {', '.join(logs)} "
              "(and supervisor.log)", file=sys.stderr)
    else:
        shutil.rmtree(run_dir, ignore_errors=True)


def _telemetry(sup, control, last: dict) -> None:
    while sup.events:
        control.publish(sup.events.pop(0))
    s = sup.state.snapshot()
    if s["fills"] != last["fills"]:
        last["fills"] = s["fills"]
        control.publish({"event": "fill", "fills": int(s["fills"]), "realised": float(s["realised"]),
                         "position": [float(x) for x in s["position"]]})
    state = (int(s["trading_state"]), s["reason_text"], int(s["paused"]))
    if state != last["state"]:
        last["state"] = state
        control.publish({"event": "state", "trading_state": state[0], "reason": str(state[1]),
                         "paused": bool(state[2])})


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bin/mm", description="Thalex market maker")
    sub = parser.add_subparsers(dest="command", required=True)
    run_p = sub.add_parser("run", help="start the whole pipeline (default: paper trading on a local exchange)")
    run_p.add_argument("--config", help="TOML configuration file (default conf/paper.toml)")
    run_p.add_argument("--set", action="append", default=[], metavar="SECTION.KEY=VALUE",
                       help="override one configuration value")
    from backtest import record   # bin/mm record: public market data for backtests
    record.add_arguments(sub.add_parser("record", help="capture public market data for bin/mm-backtest"))
    args = parser.parse_args(argv)
    return record.run(args) if args.command == "record" else run(args)


if __name__ == "__main__":
    sys.exit(main())
