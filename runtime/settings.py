"""The effective settings every pipeline process reads: the validated Config plus run facts.

``bin/mm run`` validates the configuration once (conf/), resolves what only a running system
knows (the venue URL, the instruments' ticks and our ids for them, the key to log in with) and
writes it all to ``<run_dir>/settings.json``; each process rebuilds the frozen Config from it
(validated again, so a hand-edited file cannot smuggle a bad value in) and never reads
environment or config files on its own.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import conf
from conf.schema import Config

PROJECT_ROOT = Path(__file__).resolve().parents[1]


def runs_dir(recorder_dir: str) -> Path:
    """Where runs live: ``recorder.dir``, a relative one taken from the project's root, so
    ``bin/mm run`` and ``bin/mm-report`` agree wherever they are started from."""
    path = Path(recorder_dir).expanduser()
    return path if path.is_absolute() else PROJECT_ROOT / path


@dataclass(frozen=True)
class Instrument:
    """One traded instrument: our id (index into shared-state arrays) and Thalex's numbers."""
    id: int
    name: str
    product: str          # MMP group, e.g. FBTCUSD
    tick_size: float      # USD
    amount_tick: float    # contracts
    min_amount: float     # contracts
    expiry_s: float       # Unix seconds; 0 for a perpetual


def instruments_from_venue(names: tuple, listing: list[dict]) -> list[Instrument]:
    """Our Instrument records for ``names`` from a ``public/instruments`` result, in config order."""
    by_name = {item.get("instrument_name"): item for item in listing}
    out = []
    for i, name in enumerate(names):
        item = by_name.get(name)
        if item is None:
            raise conf.ConfigError(f"venue.instruments: {name!r} is not listed by the exchange "
                                   f"(it lists {', '.join(sorted(k for k in by_name if k))})")
        product = item.get("product") or ("F" + item.get("underlying", "BTCUSD"))
        out.append(Instrument(i, name, product, float(item["tick_size"]),
                              float(item["volume_tick_size"]), float(item["min_order_amount"]),
                              float(item.get("expiration_timestamp") or 0.0)
                              if item.get("type") != "perpetual" else 0.0))
    return out


def check_order_sizes(quoter, instruments: list[Instrument]) -> None:
    """Refuse a ladder whose first level is below an instrument's minimum order size.

    The quoter drops a level below the minimum, so without this check it would quote nothing,
    silently. ``quoter`` is the QuoteParams (base_size and size_multipliers, contracts)."""
    multiplier = quoter.size_multipliers[0]
    first = quoter.base_size * multiplier
    for inst in instruments:
        snapped = int(first / inst.amount_tick + 1e-9) * inst.amount_tick if inst.amount_tick > 0 else first
        if snapped < inst.min_amount - 1e-12:
            scaled = "" if multiplier == 1 else f" x size_multipliers[0]={multiplier}"
            raise conf.ConfigError(
                f"quoter.base_size={quoter.base_size}{scaled} is below the minimum order size "
                f"{inst.min_amount} of {inst.name} on the venue (amount tick {inst.amount_tick}): the "
                f"quoter would quote nothing; set quoter.base_size >= {inst.min_amount / multiplier:g}")


def build(config: Config, *, instance: str, venue_url: str, key_id: str, key_file: str,
          instruments: list[Instrument]) -> dict:
    """The settings dict written to settings.json (JSON-able); refuses order sizes the venue would."""
    check_order_sizes(config.quoter, instruments)
    settings = conf.to_dict(config)
    settings.update(instance=instance, venue_url=venue_url, key_id=key_id, key_file=key_file,
                    instruments=[vars(i) for i in instruments], log_level="INFO")
    # launch.py hands these straight to the idle strategy and the runner.
    settings["process_runtime"] = {name: _runtime(proc) for name, proc in settings["processes"].items()}
    return settings


def _runtime(proc: dict) -> dict:
    out = {"cpu": proc["cpu"], "idle": proc["idle"]}
    if proc["idle"] == "backoff":
        out["max_sleep_s"] = proc["max_sleep_us"] * 1e-6
        out["min_sleep_s"] = min(50e-6, out["max_sleep_s"])
    return out


def config_of(settings: dict) -> Config:
    """The frozen Config inside ``settings`` (validated again)."""
    sections = {k: v for k, v in settings.items() if k in conf.schema.SECTIONS}
    return conf.from_dict(sections, settings.get("source", "settings.json"))


def instruments_of(settings: dict) -> list[Instrument]:
    return [Instrument(**item) for item in settings["instruments"]]
