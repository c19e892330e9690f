"""Read a TOML file (plus ``--set SECTION.KEY=VALUE`` overrides) into a validated frozen Config.

Anything wrong stops the start before anything trades, with one message naming the file, the key,
the value and what was expected: an unknown section or key, a wrong type, a value out of range.
"""
from __future__ import annotations

import dataclasses
import ipaddress
import math
import tomllib
import typing
from pathlib import Path

from conf import instruments as I
from conf.schema import (BELLED, PROCESS_NAMES, QUOTER_FROM, SECTIONS, Config, Gateway, Process, Processes, Risk,
                         quoter_from_owners)
from kernels.params import QuoteParams
from runtime.timeslice import MAX_SLICE_US, MIN_SLICE_US
from kernels.params import in_range, range_text

CONF_DIR = Path(__file__).resolve().parent
DEFAULT_FILE = CONF_DIR / "paper.toml"


class ConfigError(ValueError):
    """A configuration value the market maker refuses to start with."""


def load(path: str | Path | None = None, overrides: typing.Iterable[str] = ()) -> Config:
    """The Config from ``path`` (default conf/paper.toml) with ``overrides`` applied."""
    path = Path(path) if path else DEFAULT_FILE
    source = str(path)
    try:
        data = tomllib.loads(path.read_text())
    except FileNotFoundError:
        raise ConfigError(f"configuration file {source} does not exist") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{source} is not valid TOML: {exc}") from None
    for item in overrides:
        apply_override(data, item)
    return from_dict(data, source)


def from_dict(data: dict, source: str) -> Config:
    """Validate a nested dict (as TOML gives it) into a Config; ``source`` names it in errors."""
    unknown = set(data) - set(SECTIONS) - set(I.OVERRIDE_SECTIONS) - {"source"}
    if unknown:
        raise ConfigError(f"unknown section [{sorted(unknown)[0]}] in {source}: expected one of "
                          f"{', '.join([*SECTIONS, *I.OVERRIDE_SECTIONS])}")
    sections = {}
    for name, cls in SECTIONS.items():
        raw = data.get(name, {})
        if not isinstance(raw, dict):
            raise ConfigError(f"{name}={raw!r} in {source}: expected a [{name}] table")
        if cls is Processes:
            sections[name] = Processes(**{
                proc: _build(Process, raw.get(proc, {}), f"processes.{proc}", source,
                             getattr(Processes(), proc))
                for proc in _check_keys(raw, Processes, "processes", source)})
        else:
            sections[name] = _build(cls, raw, name, source, cls())
    # The quoter's engine takes numbers other sections own: copied in here, validated again.
    try:
        sections["quoter"] = quoter_from_owners(sections["quoter"], sections).validate(source)
    except ValueError as exc:
        raise ConfigError(f"quoter.{exc}") from None
    try:
        sections["instruments"] = I.parse("instruments", data.get("instruments", {}), source,
                                          I.instrument_schema(QuoteParams, Risk, QUOTER_FROM), _check_value)
        sections["products"] = I.parse("products", data.get("products", {}), source,
                                       I.product_schema(Gateway), _check_value)
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    config = Config(source=source, **sections)
    _check_instruments(config)
    _cross_checks(config)
    return config


def _check_instruments(config: Config) -> None:
    """Every instrument section and every traded instrument resolves to parameters that pass the
    quoter's own rules (a section's levels against the inherited size_multipliers...)."""
    src = config.source
    for section in config.instruments:
        try:
            # A pattern is checked as it applies to an instrument it alone matches.
            alone = dataclasses.replace(config, instruments=(section,))
            alone.quoter_for(section.name).validate(src)
        except ValueError as exc:
            raise ConfigError(f'instruments."{section.name}".{exc}') from None
    names = config.venue.instruments
    for name in names:
        if not I.INSTRUMENT_NAME.fullmatch(name) or "*" in name:
            raise ConfigError(f"venue.instruments: {name!r} in {src}: expected an instrument name like "
                              "BTC-PERPETUAL (upper case, digits and -)")
        if names.count(name) > 1:
            raise ConfigError(f"venue.instruments: {name} is listed twice in {src}")
        try:
            config.quoter_for(name).validate(src)
        except ValueError as exc:
            raise ConfigError(f"{exc} (instrument {name} in {src})") from None


def to_dict(config: Config) -> dict:
    """Plain JSON-able dict (tuples become lists) that :func:`from_dict` reads back.

    The quoter's numbers owned by other sections are left out: they are not [quoter] keys."""
    out = dataclasses.asdict(config)
    for name in QUOTER_FROM:
        del out["quoter"][name]
    for name in I.OVERRIDE_SECTIONS:
        out[name] = I.to_tables(getattr(config, name))
    return out


def _check_keys(raw: dict, cls, section: str, source: str) -> list[str]:
    allowed = [f.name for f in dataclasses.fields(cls) if not (section == "quoter" and f.name in QUOTER_FROM)]
    for key in raw:
        if section == "quoter" and key in QUOTER_FROM:
            owner = ".".join(QUOTER_FROM[key])
            raise ConfigError(f"quoter.{key} in {source}: {owner} is its one owner (the quoter "
                              f"takes it from there); set {owner} instead")
        if key not in allowed:
            raise ConfigError(f"unknown key {section}.{key} in {source}: expected one of "
                              f"{', '.join(allowed)}")
    return allowed


def _build(cls, raw: dict, section: str, source: str, base):
    if not isinstance(raw, dict):
        raise ConfigError(f"{section}={raw!r} in {source}: expected a table")
    _check_keys(raw, cls, section, source)
    hints = typing.get_type_hints(cls)
    values = {}
    for f in dataclasses.fields(cls):
        if f.name not in raw:
            continue
        values[f.name] = _check_value(raw[f.name], hints[f.name], f, f"{section}.{f.name}", source)
    obj = dataclasses.replace(base, **values)
    if hasattr(obj, "validate"):
        try:
            obj.validate(source)
        except ValueError as exc:
            raise ConfigError(f"{section}.{exc}") from None
    return obj


def _check_value(value, hint, f, key: str, source: str):
    def bad(expected):
        raise ConfigError(f"{key}={value!r} in {source}: {expected}")

    def number(x):
        if isinstance(x, bool) or not isinstance(x, (int, float)):
            bad("expected a number" if hint is float else "expected a list of numbers")
        if not math.isfinite(x) and not (meta.get("infinite_ok") and x > 0):
            bad("expected a finite number")
        return x

    meta = f.metadata
    if hint is bool:
        if not isinstance(value, bool):
            bad("expected true or false")
    elif hint is int:
        if isinstance(value, bool) or not isinstance(value, int):
            bad("expected an integer")
    elif hint is float:
        value = float(number(value))
    elif hint is str:
        if not isinstance(value, str):
            bad("expected a string")
    elif hint is tuple:
        if isinstance(value, str):    # a list given as text (--set venue.instruments=A,B)
            value = I.split_list(value)
            if "lo" in meta:
                try:
                    value = [float(x) for x in value]
                except ValueError:
                    bad("expected a list of numbers")
        if not isinstance(value, (list, tuple)) or not value:
            bad("expected a non-empty list")
        value = tuple(value)
        if "lo" in meta:
            for x in value:
                number(x)
        if "max_len" in meta and len(value) > meta["max_len"]:
            bad(f"expected at most {meta['max_len']} values")
    if "lo" in meta and not all(in_range(meta, x) for x in (value if hint is tuple else (value,))):
        bad(("each value " if hint is tuple else "") + "must be " + range_text(meta))
    if "choices" in meta and value not in meta["choices"]:
        bad(f"expected one of {', '.join(str(c) for c in meta['choices'])}")
    return value


def _cross_checks(config: Config) -> None:
    src = config.source
    if config.control.port == config.control.pub_port:
        raise ConfigError(f"control.pub_port={config.control.pub_port} in {src}: must differ from control.port")
    if config.control.metrics_port in (config.control.port, config.control.pub_port):
        raise ConfigError(f"control.metrics_port={config.control.metrics_port} in {src}: must differ from "
                          "control.port and control.pub_port")
    if not is_loopback(config.control.host) and not config.control.curve_secret_key_file:
        raise ConfigError(f"control.host={config.control.host!r} in {src}: binding beyond 127.0.0.1 "
                          "requires control.curve_secret_key_file (CURVE authentication)")
    if config.venue.reconnect_min_s > config.venue.reconnect_max_s:
        raise ConfigError(f"venue.reconnect_min_s={config.venue.reconnect_min_s} in {src}: must be <= "
                          f"venue.reconnect_max_s ({config.venue.reconnect_max_s})")
    gw = config.gateway
    if gw.throttle_cooldown_s > gw.throttle_cooldown_max_s:
        raise ConfigError(f"gateway.throttle_cooldown_s={gw.throttle_cooldown_s} in {src}: must be <= "
                          f"gateway.throttle_cooldown_max_s ({gw.throttle_cooldown_max_s})")
    url = config.venue.url
    if url != "embedded" and not url.startswith(("ws://", "wss://")):
        raise ConfigError(f"venue.url={url!r} in {src}: expected ws://..., wss://... or \"embedded\"")
    for name in PROCESS_NAMES:
        slice_us = getattr(config.processes, name).slice_us
        if 0 < slice_us < MIN_SLICE_US:
            raise ConfigError(f"processes.{name}.slice_us={slice_us:g} in {src}: expected 0 (leave the "
                              f"kernel's) or {MIN_SLICE_US:g}-{MAX_SLICE_US:g} us (its range for a custom slice)")
    for name in BELLED:
        if getattr(config.processes, name).idle == "sleep":
            raise ConfigError(f"processes.{name}.idle='sleep' in {src}: {name} is woken by its producers' "
                              "rings, which a fixed sleep never hears; expected backoff (sleeps on its "
                              "bell), yield or busy-spin")
    spinners = [name for name in PROCESS_NAMES
                if getattr(config.processes, name).idle == "busy-spin"]
    cpus = [getattr(config.processes, name).cpu for name in spinners]
    if len(set(cpus)) < len(cpus) or -1 in cpus:
        raise ConfigError(f"processes.*.idle='busy-spin' in {src}: at most one busy-spinner per CPU, "
                          f"each pinned (spinners {spinners} on CPUs {cpus})")


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def apply_override(data: dict, item: str) -> None:
    """``SECTION.KEY=VALUE`` (or ``processes.NAME.KEY=VALUE``, ``instruments.NAME.KEY=VALUE``, and
    ``NAME.KEY=VALUE`` for an instrument); VALUE is a TOML value, a comma-separated list or a bare
    string."""
    key, sep, text = item.partition("=")
    parts = key.strip().split(".")
    if not sep or len(parts) < 2 or not all(parts):
        raise ConfigError(f"--set {item!r}: expected SECTION.KEY=VALUE, e.g. risk.max_position=0.05")
    if len(parts) == 2 and parts[0] not in SECTIONS and parts[0] != parts[0].lower() \
            and I.INSTRUMENT_NAME.fullmatch(parts[0]):
        parts = ["instruments", *parts]      # ETH-PERPETUAL.gamma: that instrument's section
    try:
        value = tomllib.loads(f"v = {text.strip()}")["v"]
    except tomllib.TOMLDecodeError:
        value = text.strip()
    node = data
    for part in parts[:-1]:
        node = node.setdefault(part, {})
        if not isinstance(node, dict):
            raise ConfigError(f"--set {item!r}: {part} is not a section")
    node[parts[-1]] = value
