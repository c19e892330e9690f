"""Shared fixtures: a unique shm instance per test, and a guarantee that no segment outlives it."""
from __future__ import annotations

import os
import uuid

import pytest

from shm import segment as seg


@pytest.fixture
def instance():
    """A fresh instance name; every ``mm.<instance>.*`` segment is removed after the test."""
    name = f"t{os.getpid()}{uuid.uuid4().hex[:8]}"
    yield name
    leftovers = seg.list_segments(name)
    for leftover in leftovers:
        try:
            os.unlink(seg.SHM_DIR / leftover)
        except FileNotFoundError:
            pass
    assert not leftovers, f"test left shared-memory segments behind: {leftovers}"
