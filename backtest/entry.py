"""One backtest as a function call: what ``bin/mm-backtest`` does (load the configuration, read the
data, run the driver), for callers in Python such as bin/mm-sweep's Ray tasks."""
from __future__ import annotations

from pathlib import Path

from backtest.data import open_data
from backtest.driver import Backtest
from conf.load import load


def feed_latency_ns(config) -> int:
    """The feed latency the CSV readers add to every event (ns), as bin/mm-backtest computes it."""
    return int(round(config.backtest.feed_latency_ms * 1e6))


def run_backtest(data, overrides=(), out: Path | None = None, config_file: str | Path | None = None,
                 twin: bool = False, progress: bool = False) -> dict:
    """The summary of one backtest (the dict bin/mm-backtest --json prints, without run_dir).

    ``data``: a path bin/mm-backtest accepts, or an iterable of EVENT_DTYPE chunks already read
    (with this configuration's feed latency). ``overrides``: ``SECTION.KEY=VALUE`` strings, as
    ``--set``. ``out``: the run directory to write, or None for none. Raises ConfigError or
    DataError with bin/mm-backtest's messages."""
    config = load(config_file, list(overrides))
    chunks = open_data(Path(data), feed_latency_ns(config)) if isinstance(data, (str, Path)) else data
    return Backtest(config, twin=twin, out=out, progress=progress).run(chunks)
