"""best.toml: the sweep's best parameter set as a configuration file bin/mm run --config and
bin/mm-backtest --config read.

conf/load.py reads one file over the schema's defaults (conf/schema.py), not over
conf/paper.toml: a file holding only the tuned keys would quietly drop every other setting of
the base file (paper.toml's smaller max_position, its [processes] layout). So best.toml is the
sweep's base file with the tuned keys set, exactly what ``--config BASE --set KEY=VALUE ...``
gives (checked after writing: the two load into the same configuration).
"""
from __future__ import annotations

import json
import math
import tomllib
from pathlib import Path

from conf.load import apply_override, load, to_dict


def toml_value(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return "nan" if math.isnan(v) else ("inf" if v == math.inf else "-inf" if v == -math.inf else repr(v))
    if isinstance(v, str):
        return json.dumps(v)           # a JSON string is a valid TOML basic string
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(toml_value(x) for x in v) + "]"
    raise TypeError(f"{v!r}: no TOML form for a {type(v).__name__}")


def toml_key(k: str) -> str:
    """A bare key where TOML allows one, else a quoted key (instruments."BTC-PERPETUAL", "BTC-*")."""
    return k if k and all(c.isalnum() or c in "_-" for c in k) else json.dumps(k)


def dumps(data: dict, prefix: str = "") -> str:
    """A nested dict (as tomllib reads it) as TOML text; sub-tables as [a.b] sections."""
    scalars = {k: v for k, v in data.items() if not isinstance(v, dict)}
    tables = {k: v for k, v in data.items() if isinstance(v, dict)}
    lines = [f"[{prefix}]"] if prefix and (scalars or not tables) else []
    lines += [f"{toml_key(k)} = {toml_value(v)}" for k, v in scalars.items()]
    text = "\n".join(lines) + ("\n" if lines else "")
    for k, v in tables.items():
        text += ("\n" if text else "") + dumps(v, f"{prefix}.{toml_key(k)}" if prefix else toml_key(k))
    return text


def write(path: Path, base_name: str, base_text: str, overrides, comment: list[str]) -> Path:
    """``base_text`` (the sweep's --config, named ``base_name``) with ``overrides`` applied, to
    ``path``, under ``comment`` lines; raises if it would not load as that same configuration."""
    data = tomllib.loads(base_text)
    for item in overrides:
        apply_override(data, item)
    head = "".join(f"# {line}\n" for line in comment)
    Path(path).write_text(head + "\n" + dumps(data))
    want = to_dict(load(base_name, list(overrides)))
    got = to_dict(load(path))
    want.pop("source", None), got.pop("source", None)
    if want != got:
        raise RuntimeError(f"{path}: does not load as {base_name} with {' '.join(overrides)}")
    return Path(path)
