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
from conf.instruments import section_for
from conf.schema import Config

PROJECT_ROOT = Path(__file__).resolve().parents[1]
SECTION_KEY = "instrument_sections"   # where settings.json keeps the [instruments."NAME"] sections


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
    underlying: str = ""  # index, e.g. BTCUSD (net delta is summed per underlying); "" = from product

    def __post_init__(self):
        if not self.underlying:   # Thalex's product groups are F<underlying> / O<underlying>
            object.__setattr__(self, "underlying", self.product[1:])


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
                              if item.get("type") != "perpetual" else 0.0,
                              str(item.get("underlying") or product[1:])))
    return out


def underlyings(instruments: list[Instrument]) -> list[str]:
    """The underlyings traded, in the order the instruments first name them: the index of each
    in the shared state's per-underlying figures (``net_delta_usd``)."""
    return list(dict.fromkeys(i.underlying for i in instruments))


def check_order_sizes(config: Config, instruments: list[Instrument]) -> None:
    """Refuse a ladder whose first level is below an instrument's minimum order size.

    The quoter drops a level below the minimum, so without this check it would quote nothing,
    silently. Each instrument is checked with its own parameters (base_size and size_multipliers
    in contracts, from [quoter] or its [instruments."NAME"] section)."""
    for inst in instruments:
        quoter = config.quoter_for(inst.name)
        multiplier = quoter.size_multipliers[0]
        first = quoter.base_size * multiplier
        snapped = int(first / inst.amount_tick + 1e-9) * inst.amount_tick if inst.amount_tick > 0 else first
        if snapped < inst.min_amount - 1e-12:
            scaled = "" if multiplier == 1 else f" x size_multipliers[0]={multiplier}"
            own = section_for(config.instruments, inst.name)
            key = f'instruments."{own.name}".base_size' if own is not None and "base_size" in own.get() \
                else "quoter.base_size"
            raise conf.ConfigError(
                f"{key}={quoter.base_size}{scaled} is below the minimum order size "
                f"{inst.min_amount} of {inst.name} on the venue (amount tick {inst.amount_tick}): the "
                f"quoter would quote nothing; set {key} >= {inst.min_amount / multiplier:g}")


def check_protection(config: Config, instruments: list[Instrument]) -> None:
    """Refuse mass quotes that market-maker protection would refuse: on Thalex a protection
    group's quote_amount is the largest single quote it accepts (THALEX_API.md section 5)."""
    if not config.gateway.mass_quote:
        return
    for inst in instruments:
        q, risk = config.quoter_for(inst.name), config.risk_for(inst.name)
        largest = min(q.base_size * max(q.size_multipliers[:q.levels]), risk.max_order_size)
        quote_amount = config.mmp_for(inst.product)[1]
        if quote_amount < largest - 1e-12:
            raise conf.ConfigError(
                f"mmp_quote_amount={quote_amount} of product group {inst.product} is below the largest "
                f"quote of {inst.name}, {largest:g} contracts (base_size x size_multipliers, at most "
                f"max_order_size): the exchange would refuse those quotes; set [products.\"{inst.product}\"] "
                f"mmp_quote_amount >= {largest:g}")


def build(config: Config, *, instance: str, venue_url: str, key_id: str, key_file: str,
          instruments: list[Instrument]) -> dict:
    """The settings dict written to settings.json (JSON-able); refuses order sizes the venue would."""
    check_order_sizes(config, instruments)
    check_protection(config, instruments)
    settings = conf.to_dict(config)
    # The [instruments."NAME"] sections travel under their own key: "instruments" holds the list
    # of traded instruments with the venue's numbers.
    settings[SECTION_KEY] = settings.pop("instruments")
    settings.update(instance=instance, venue_url=venue_url, key_id=key_id, key_file=key_file,
                    instruments=[vars(i) for i in instruments], log_level="INFO")
    # launch.py hands these straight to the idle strategy and the runner.
    settings["process_runtime"] = {name: _runtime(proc) for name, proc in settings["processes"].items()}
    return settings


def _runtime(proc: dict) -> dict:
    out = {"cpu": proc["cpu"], "idle": proc["idle"], "slice_us": proc["slice_us"]}
    if proc["idle"] == "backoff":
        out["max_sleep_s"] = proc["max_sleep_us"] * 1e-6
        out["min_sleep_s"] = min(50e-6, out["max_sleep_s"])
    elif proc["idle"] == "sleep":
        out["max_sleep_s"] = proc["max_sleep_us"] * 1e-6
    return out


def conf_sections(settings: dict) -> dict:
    """The configuration's sections inside ``settings``, as conf.from_dict takes them."""
    sections = {k: v for k, v in settings.items() if k in conf.schema.SECTIONS or k == "products"}
    sections["instruments"] = settings.get(SECTION_KEY, {})
    return sections


def with_sections(settings: dict, config: Config) -> dict:
    """``settings`` carrying ``config``'s sections (the run facts kept)."""
    tables = conf.to_dict(config)
    tables[SECTION_KEY] = tables.pop("instruments")
    tables.pop("source", None)
    return {**settings, **tables}


def config_of(settings: dict) -> Config:
    """The frozen Config inside ``settings`` (validated again)."""
    return conf.from_dict(conf_sections(settings), settings.get("source", "settings.json"))


def instruments_of(settings: dict) -> list[Instrument]:
    return [Instrument(**item) for item in settings.get("instruments", [])]
