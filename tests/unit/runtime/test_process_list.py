"""The pipeline's processes are listed once (conf.schema.PIPELINE); everything else derives from it."""
import ast
import dataclasses
import importlib
import re
from pathlib import Path

import conf
from conf.schema import BELLED, PIPELINE, PROCESS_NAMES, Processes
from runtime import launch, segments, supervisor
from runtime import settings as S
from runtime.agent import Agent
from runtime.handoff import HANDBACKS

ROOT = Path(__file__).resolve().parents[3]
PRODUCT = ("conf", "control", "kernels", "procs", "report", "runtime", "shm", "venue", "bench", "testkit")


def test_the_start_order_slots_and_launcher_come_from_the_pipeline():
    assert supervisor.START_ORDER is PROCESS_NAMES
    assert list(supervisor.SLOTS) == list(PROCESS_NAMES) and sorted(supervisor.SLOTS.values()) == list(range(5))
    assert list(launch.AGENTS) == list(PROCESS_NAMES)
    assert [f.name for f in dataclasses.fields(Processes)] == list(PROCESS_NAMES)
    assert BELLED == tuple(p.name for p in PIPELINE if p.belled)


def test_process_defaults_and_run_settings_follow_the_pipeline():
    config = conf.load()
    settings = S.build(config, instance="t", venue_url="ws://x", key_id="K", key_file="/k", instruments=[])
    assert list(settings["process_runtime"]) == list(PROCESS_NAMES)
    for p in PIPELINE:
        assert getattr(Processes(), p.name) == p.defaults


def test_each_process_is_an_agent_built_by_its_class_from_settings():
    for p in PIPELINE:
        module, name = p.agent.split(":")
        cls = getattr(importlib.import_module(module), name)
        assert issubclass(cls, Agent) and cls.name == p.name
        assert callable(getattr(cls, "from_settings", None)), f"{p.agent} has no from_settings"


def test_the_doorbells_hold_a_bell_for_each_belled_process_and_each_hand_back_waiter_and_no_other(instance):
    made = segments.create_all(instance)
    try:
        waiters = [name for name in HANDBACKS if name not in BELLED]
        assert waiters and set(waiters) <= set(PROCESS_NAMES)
        assert list(made["doorbells"].slots) == list(BELLED) + waiters
    finally:
        for seg in made.values():
            seg.close()


def _literal_groups_py(path: Path):
    """Every tuple, list, set or dict literal of a Python file, as the strings it holds."""
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        items = node.keys if isinstance(node, ast.Dict) else node.elts if isinstance(
            node, (ast.Tuple, ast.List, ast.Set)) else None
        if items is not None:
            yield node.lineno, {i.value for i in items if isinstance(i, ast.Constant) and isinstance(i.value, str)}


def _literal_groups_pyx(path: Path):
    for n, line in enumerate(path.read_text().splitlines(), 1):
        yield n, set(re.findall(r"[\"'](\w+)[\"']", line))


def test_no_other_module_writes_out_a_list_of_process_names():
    names = set(PROCESS_NAMES)
    offenders = []
    for package in PRODUCT:
        for path in sorted((ROOT / package).rglob("*.py")) + sorted((ROOT / package).rglob("*.pyx")):
            if path == ROOT / "conf" / "schema.py":
                continue
            groups = _literal_groups_py(path) if path.suffix == ".py" else _literal_groups_pyx(path)
            offenders += [f"{path.relative_to(ROOT)}:{line}" for line, strings in groups if len(strings & names) >= 3]
    assert offenders == [], "process names listed outside conf.schema.PIPELINE: " + ", ".join(offenders)
