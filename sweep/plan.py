"""What a sweep runs: the parameter combinations from ``--grid`` and ``--random N --range``.

``--grid SECTION.KEY=V1,V2,...`` gives one axis; the grid is the product of the axes, in the
order given (the last axis varies fastest). Each value is written into the override exactly as
typed (``quoter.gamma=0.05``), so a run sets what ``bin/mm-backtest --set`` would set.
``--random N --range SECTION.KEY=LO:HI[:log]`` draws N points, uniform (or uniform in log) in
each range, seeded; integer keys are rounded. With both, every grid point is paired with every
draw. Key names are checked here; the values are checked by each run's configuration load, as
bin/mm-backtest checks them, so a bad combination is a failed run, not a stopped sweep.
"""
from __future__ import annotations

import dataclasses
import itertools
import math
import tomllib
import typing
from dataclasses import dataclass

import numpy as np

from conf.load import ConfigError, from_dict
from conf.schema import SECTIONS


class PlanError(ValueError):
    """A --grid, --range or --random argument that names no setting or cannot be read."""


@dataclass(frozen=True)
class Axis:
    key: str                 # SECTION.KEY
    values: tuple            # as TOML reads each text (what the run's configuration receives)
    texts: tuple             # as typed on the command line


@dataclass(frozen=True)
class Range:
    key: str
    lo: float
    hi: float
    log: bool
    integer: bool


@dataclass(frozen=True)
class Combo:
    """One parameter set: ``params`` {SECTION.KEY: value} and the ``--set`` strings that give it."""
    params: dict
    overrides: tuple


def key_type(key: str, flag: str):
    """The Python type of the setting ``key`` (SECTION.KEY); PlanError naming it if there is none."""
    parts = key.split(".")
    if len(parts) != 2 or not all(parts):
        raise PlanError(f"{flag} {key!r}: expected SECTION.KEY, e.g. quoter.gamma")
    section, name = parts
    cls = SECTIONS.get(section)
    if cls is None or not dataclasses.is_dataclass(cls) or section == "processes":
        raise PlanError(f"{flag} {key}: unknown section [{section}]: expected one of "
                        f"{', '.join(s for s in SECTIONS if s != 'processes')}")
    try:   # conf/load.py's own key checks, with its default value (always valid)
        from_dict({section: {name: getattr(cls(), name, None)}}, flag)
    except ConfigError as exc:
        raise PlanError(f"{flag} {key}: {exc}") from None
    return typing.get_type_hints(cls)[name]


def parse_value(text: str):
    """A value as ``--set`` reads it: a TOML value, or else the bare text as a string."""
    try:
        return tomllib.loads(f"v = {text.strip()}")["v"]
    except tomllib.TOMLDecodeError:
        return text.strip()


def parse_grid(item: str) -> Axis:
    key, sep, rest = item.partition("=")
    key = key.strip()
    texts = tuple(t.strip() for t in rest.split(","))
    if not sep or not all(texts):
        raise PlanError(f"--grid {item!r}: expected SECTION.KEY=V1,V2,... e.g. quoter.gamma=0.01,0.05,0.1")
    hint = key_type(key, "--grid")
    if len(set(texts)) != len(texts):
        raise PlanError(f"--grid {item!r}: a value is listed twice")
    values = [parse_value(t) for t in texts]
    # 1 for a float setting is 1.0 (the configuration load converts it the same way)
    values = [float(v) if hint is float and type(v) is int else v for v in values]
    return Axis(key, tuple(values), texts)


def parse_range(item: str) -> Range:
    key, sep, rest = item.partition("=")
    key = key.strip()
    parts = rest.split(":")
    if not sep or len(parts) not in (2, 3) or (len(parts) == 3 and parts[2].strip() != "log"):
        raise PlanError(f"--range {item!r}: expected SECTION.KEY=LO:HI or SECTION.KEY=LO:HI:log")
    hint = key_type(key, "--range")
    if hint not in (int, float):
        raise PlanError(f"--range {key}: a {hint.__name__} setting: expected a number setting (use --grid)")
    try:
        lo, hi = float(parts[0]), float(parts[1])
    except ValueError:
        raise PlanError(f"--range {item!r}: LO and HI must be numbers") from None
    log = len(parts) == 3
    if not (math.isfinite(lo) and math.isfinite(hi) and lo < hi):
        raise PlanError(f"--range {item!r}: expected finite LO < HI")
    if log and lo <= 0:
        raise PlanError(f"--range {item!r}: a log range needs LO > 0")
    return Range(key, lo, hi, log, hint is int)


def draw(ranges: list[Range], n: int, seed: int) -> list[dict]:
    """``n`` seeded points, {key: value}; floats kept to 6 significant digits (readable overrides)."""
    rng = np.random.default_rng(seed)
    points = []
    for _ in range(n):
        point = {}
        for r in ranges:
            u = rng.random()
            x = math.exp(math.log(r.lo) + u * (math.log(r.hi) - math.log(r.lo))) if r.log else r.lo + u * (r.hi - r.lo)
            point[r.key] = int(round(x)) if r.integer else float(f"{x:.6g}")
        points.append(point)
    return points


def combinations(axes: list[Axis], ranges: list[Range], n_random: int = 0, seed: int = 1) -> list[Combo]:
    """Every parameter set of the sweep, in a fixed order, duplicates dropped."""
    keys = [a.key for a in axes] + [r.key for r in ranges]
    dup = {k for k in keys if keys.count(k) > 1}
    if dup:
        raise PlanError(f"{sorted(dup)[0]}: swept twice (each key in one --grid or one --range)")
    if ranges and n_random <= 0:
        raise PlanError("--range needs --random N (how many points to draw), N > 0")
    if n_random and not ranges:
        raise PlanError(f"--random {n_random}: expected at least one --range SECTION.KEY=LO:HI")
    if not axes and not ranges:
        raise PlanError("nothing to sweep: expected --grid SECTION.KEY=V1,V2,... or --random N --range ...")
    points = draw(ranges, n_random, seed) if ranges else [{}]
    out, seen = [], set()
    for grid_point in itertools.product(*[list(zip(a.values, a.texts)) for a in axes]):
        for point in points:
            params = {a.key: v for a, (v, _) in zip(axes, grid_point)}
            overrides = [f"{a.key}={t}" for a, (_, t) in zip(axes, grid_point)]
            params.update(point)
            overrides += [f"{k}={v!r}" for k, v in point.items()]
            if tuple(overrides) not in seen:
                seen.add(tuple(overrides))
                out.append(Combo(params, tuple(overrides)))
    return out
