"""One owner per configured number: each has a unit and a range, is validated, and is read where it acts."""
import ast
import dataclasses
import re
import time
import typing
from pathlib import Path

import pytest

import conf
from conf.schema import PIPELINE, QUOTER_FROM, SECTIONS, Process
from procs.gateway.agent import Gateway
from procs.recorder import Recorder
from runtime import settings as S
from venue.ratelimit import CANCEL_LIMIT, ME_LIMIT_NON_PERSISTENT, ME_LIMIT_PERSISTENT, NS_PER_S

ROOT = Path(__file__).resolve().parents[3]
CODE = ("backtest", "control", "kernels", "procs", "report", "runtime", "shm", "venue")   # where settings act
LISTING = [{"instrument_name": "BTC-PERPETUAL", "product": "FBTCUSD", "tick_size": 1, "volume_tick_size": 0.001,
            "min_order_amount": 0.001, "type": "perpetual", "underlying": "BTCUSD"}]


def settings_with(*overrides: str) -> dict:
    return S.build(conf.load(None, list(overrides)), instance="t", venue_url="ws://127.0.0.1:1/ws/api/v2",
                   key_id="K", key_file="/k", instruments=S.instruments_from_venue(("BTC-PERPETUAL",), LISTING))


def section_fields():
    """(section name, field) for every configurable key, [processes.*] once as Process."""
    for name, cls in SECTIONS.items():
        if name == "processes":
            cls, name = Process, "processes.*"
        for f in dataclasses.fields(cls):
            if not (name == "quoter" and f.name in QUOTER_FROM):
                yield name, cls, f


def test_every_number_has_a_unit_and_a_range_or_choices():
    missing = []
    for name, cls, f in section_fields():
        hint = typing.get_type_hints(cls)[f.name]
        if hint in (int, float) or (hint is tuple and "lo" in f.metadata):
            if not f.metadata.get("unit") or not ("lo" in f.metadata or "choices" in f.metadata):
                missing.append(f"{name}.{f.name}")
    assert missing == []


def test_a_number_owned_by_risk_is_one_key_the_quoter_takes():
    config = conf.load(None, ["risk.max_position=0.02", "risk.maker_fee_rate=-0.0002"])
    assert (config.quoter.max_position, config.quoter.maker_fee_rate) == (0.02, -0.0002)
    assert "max_position" not in conf.to_dict(config)["quoter"]
    for key, (owner, owner_key) in QUOTER_FROM.items():
        with pytest.raises(conf.ConfigError, match=f"quoter.{key} in .*: {owner}.{owner_key} is its one owner"):
            conf.load(None, [f"quoter.{key}=0.001"])


def test_the_gateways_rate_limits_are_the_configured_ones():
    gateway = Gateway.from_settings(settings_with(
        "gateway.orders_per_s=4", "gateway.orders_per_s_non_persistent=20", "gateway.cancels_per_s=100",
        "gateway.throttle_cooldown_s=0.5", "gateway.throttle_cooldown_max_s=2"))
    limits = gateway.limits

    t0 = time.monotonic_ns()                 # the gateway built its buckets on this clock

    def sent_in_any_second(take, start_s, seconds, step_ns=1_000_000):
        sent, t = [], t0 + start_s * NS_PER_S
        while t < t0 + (start_s + seconds) * NS_PER_S:
            if take(t):
                sent.append(t)
            else:
                t += step_ns
        return max(sum(1 for u in sent if s <= u < s + NS_PER_S) for s in sent), len(sent)

    # Never more than the configured number in any one second, and sustained close to it
    # (the bucket keeps a fifth of the rate as its burst: rate + burst == the configured number).
    peak, total = sent_in_any_second(limits.try_order, 0, 10)
    assert peak <= 4 and total >= 30
    limits.set_cancel_on_disconnect(t0 + 10 * NS_PER_S, 50)    # what the exchange allows; ours holds
    peak, total = sent_in_any_second(limits.try_order, 10, 5)
    assert peak <= 20 and total >= 80
    peak, total = sent_in_any_second(limits.try_cancel, 20, 2, 100_000)
    assert peak <= 100 and total >= 170
    assert [limits.on_throttled(t0) / NS_PER_S for _ in range(4)] == [0.5, 1.0, 2.0, 2.0]


def test_the_defaults_pace_at_the_thalex_maxima_and_no_faster():
    gw = conf.load().gateway
    assert (gw.orders_per_s, gw.orders_per_s_non_persistent, gw.cancels_per_s) == (
        ME_LIMIT_PERSISTENT, ME_LIMIT_NON_PERSISTENT, CANCEL_LIMIT)


def test_the_recorder_flushes_at_its_configured_interval():
    recorder = Recorder.from_settings({**settings_with("recorder.flush_interval_s=0.25"), "run_dir": "/tmp/x"})
    assert recorder.flush_ns == 250_000_000


def _names_read(path: Path) -> set[str]:
    """Attribute names read and string keys looked up in a source file, outside ``validate``."""
    text = path.read_text()
    if path.suffix == ".pyx":
        return set(re.findall(r"\.(\w+)", text)) | set(re.findall(r"[\"'](\w+)[\"']", text))
    out = set()

    def walk(node):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.FunctionDef) and child.name == "validate":
                continue             # checking a value is not using it
            if isinstance(child, ast.Attribute) and isinstance(child.ctx, ast.Load):
                out.add(child.attr)
            elif isinstance(child, ast.Constant) and isinstance(child.value, str):
                out.add(child.value)
            walk(child)
    walk(ast.parse(text, str(path)))
    return out


def test_every_configured_key_is_read_outside_conf():
    read = set()
    for package in CODE:
        for path in list((ROOT / package).rglob("*.py")) + list((ROOT / package).rglob("*.pyx")):
            if path != ROOT / "kernels" / "params.py":   # the quoter section's own definition ...
                read |= _names_read(path)
    read |= _estimator_inputs()                           # ... which uses only what it builds estimators from
    unread = [f"{name}.{f.name}" for name, _, f in section_fields() if f.name not in read]
    assert unread == [], f"validated but never read: {unread}"


def _estimator_inputs() -> set[str]:
    """QuoteParams fields kernels/params.py itself passes to the estimators it builds."""
    tree = ast.parse((ROOT / "kernels" / "params.py").read_text())
    fn = next(n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef) and n.name == "estimators_to_rebuild")
    return {n.attr for n in ast.walk(fn) if isinstance(n, ast.Attribute) and isinstance(n.value, ast.Name)
            and n.value.id == "self"}


def test_the_process_sections_are_those_of_the_pipeline():
    assert [f.name for f in dataclasses.fields(SECTIONS["processes"])] == [p.name for p in PIPELINE]
