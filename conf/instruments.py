"""Per-instrument and per-product sections: ``[instruments."ETH-PERPETUAL"]``, ``[products."FETHUSD"]``.

``[instruments."NAME"]`` overrides, for one instrument, the defaults of [quoter] (every key but
the two it takes from [risk]) and the per-instrument limits of [risk] (INSTRUMENT_RISK_KEYS).
The account's limits (P&L, net delta, gross notional), the fee rates and the exits stay in
[risk]: they are one number for the whole account. NAME is an instrument name, or a pattern with
``*`` (``"BTC-*"``: every BTC instrument, e.g. the dated futures whose names change each quarter);
an exact name wins over patterns, and two patterns that both match a traded instrument are
refused. A section naming an instrument that is not traded is validated and otherwise unused.

``[products."FBTCUSD"]`` sets market-maker protection for one Thalex protection group
(F<underlying>: futures and perpetuals of one underlying; O<underlying>: options), overriding
[gateway] mmp_trade_amount and mmp_quote_amount for that group.

Each section is kept as an ``Overrides`` (name, ((key, value), ...)); ``quoter_for``,
``risk_for`` and ``mmp_for`` give the effective numbers of one instrument or product. Everything
here is checked by conf/load.py when the file is read, so a process never meets a bad value.
"""
from __future__ import annotations

import dataclasses
import fnmatch
import re
import typing
from dataclasses import dataclass, replace

from kernels.params import QuoteParams

INSTRUMENT_NAME = re.compile(r"[A-Z0-9*][A-Z0-9_*-]{0,47}")   # Thalex names: BTC-PERPETUAL, BTC-27MAR26
PRODUCT_NAME = re.compile(r"[FO][A-Z0-9]{2,15}")               # Thalex protection groups: FBTCUSD, OETHUSD
# [risk] keys one instrument may set for itself (risk.procs.limits.Limits: per instrument).
INSTRUMENT_RISK_KEYS = ("max_position", "max_notional", "max_order_size", "price_band_bps")
PRODUCT_KEYS = ("mmp_trade_amount", "mmp_quote_amount")          # [gateway] keys, per protection group
OVERRIDE_SECTIONS = ("instruments", "products")


@dataclass(frozen=True)
class Overrides:
    """One ``[instruments."NAME"]`` or ``[products."NAME"]`` section: the keys it sets."""
    name: str
    values: tuple = ()      # ((key, value), ...), as validated

    def get(self) -> dict:
        return dict(self.values)


def quoter_keys(quoter_from: dict) -> list[str]:
    return [f.name for f in dataclasses.fields(QuoteParams) if f.name not in quoter_from]


def parse(kind: str, raw, source: str, schema: dict, check_value) -> tuple:
    """The ``instruments`` or ``products`` table of a file as a tuple of Overrides.

    ``schema`` maps each allowed key to (its dataclass, its owning section) and ``check_value``
    is conf/load's value check; an unknown key, a wrong type or a value out of range is refused
    naming the file, the section and the key."""
    if not isinstance(raw, dict):
        raise ValueError(f"{kind}={raw!r} in {source}: expected [{kind}.\"NAME\"] tables")
    pattern = INSTRUMENT_NAME if kind == "instruments" else PRODUCT_NAME
    example = "ETH-PERPETUAL" if kind == "instruments" else "FETHUSD"
    out = []
    for name, table in raw.items():
        label = f'{kind}."{name}"'
        if not pattern.fullmatch(name):
            raise ValueError(f"[{label}] in {source}: expected a name like \"{example}\""
                             + (" (upper case, digits, - and *)" if kind == "instruments" else
                                " (F or O and the underlying, as Thalex names protection groups)"))
        if not isinstance(table, dict):
            raise ValueError(f"{label}={table!r} in {source}: expected a table of keys")
        values = []
        for key, value in table.items():
            if key not in schema:
                raise ValueError(f"unknown key {label}.{key} in {source}: expected one of "
                                 f"{', '.join(schema)}")
            cls, owner = schema[key]
            if cls is None:
                raise ValueError(f"{label}.{key} in {source}: {owner}.{key} is an account-wide number; "
                                 f"set it under [{owner}]")
            f = next(f for f in dataclasses.fields(cls) if f.name == key)
            values.append((key, check_value(value, typing.get_type_hints(cls)[key], f, f"{label}.{key}", source)))
        out.append(Overrides(name, tuple(values)))
    return tuple(out)


def instrument_schema(quoter_cls, risk_cls, quoter_from: dict) -> dict:
    """Key -> (dataclass, owner) for an instrument section; (None, owner) for keys refused there."""
    schema = {k: (quoter_cls, "quoter") for k in quoter_keys(quoter_from)}
    schema.update({k: (risk_cls, "risk") for k in INSTRUMENT_RISK_KEYS})
    for f in dataclasses.fields(risk_cls):
        schema.setdefault(f.name, (None, "risk"))
    return schema


def product_schema(gateway_cls) -> dict:
    return {k: (gateway_cls, "gateway") for k in PRODUCT_KEYS}


# ---- resolving: the effective numbers of one instrument or product ----------------------------
def section_for(sections: tuple, name: str) -> Overrides | None:
    """The section that applies to ``name``: its own, else the one pattern matching it (ValueError
    when several patterns do)."""
    exact = [s for s in sections if s.name == name]
    if exact:
        return exact[-1]
    matching = [s for s in sections if "*" in s.name and fnmatch.fnmatchcase(name, s.name)]
    if len(matching) > 1:
        raise ValueError(f"{name} matches [instruments.\"{matching[0].name}\"] and "
                         f"[instruments.\"{matching[1].name}\"]: give it a section of its own or make "
                         "the patterns exclusive")
    return matching[0] if matching else None


def _split(section: Overrides | None) -> tuple[dict, dict]:
    values = section.get() if section is not None else {}
    risk = {k: v for k, v in values.items() if k in INSTRUMENT_RISK_KEYS}
    return {k: v for k, v in values.items() if k not in risk}, risk


def risk_for(config, name: str):
    """The [risk] section as instrument ``name`` sees it (its own limits over the defaults)."""
    return replace(config.risk, **_split(section_for(config.instruments, name))[1])


def quoter_for(config, name: str, quoter_from: dict) -> QuoteParams:
    """The quoter's parameters of instrument ``name``: [quoter], its section's keys over them, and
    the numbers the quoter takes from [risk] as that instrument sees them."""
    risk = risk_for(config, name)
    params = replace(config.quoter, **_split(section_for(config.instruments, name))[0])
    return replace(params, **{key: getattr(risk, owner_key) for key, (_, owner_key) in quoter_from.items()})


def mmp_for(config, product: str) -> tuple[float, float]:
    """(trade_amount, quote_amount) in contracts of protection group ``product``."""
    values = {"mmp_trade_amount": config.gateway.mmp_trade_amount,
              "mmp_quote_amount": config.gateway.mmp_quote_amount}
    for section in config.products:
        if section.name == product:
            values.update(section.get())
    return values["mmp_trade_amount"], values["mmp_quote_amount"]


def to_tables(sections: tuple) -> dict:
    """Overrides as the TOML tables they came from (JSON-able: tuples become lists)."""
    return {s.name: {k: list(v) if isinstance(v, tuple) else v for k, v in s.values} for s in sections}


def split_list(value: str) -> list[str]:
    """``"BTC-PERPETUAL,ETH-PERPETUAL"`` -> its items (a list given as text: ``--set``)."""
    return [item.strip() for item in value.split(",") if item.strip()]
