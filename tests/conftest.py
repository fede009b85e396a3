"""Fixtures shared by every test layer."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

import driftstore
from tests.factories import make_pattern

settings.register_profile(
    "default",
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
settings.register_profile("soak", max_examples=2000, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"
REAL_DRIFT = SHARED / "data" / "real-drift"


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """An empty project folder."""
    project = tmp_path / "project"
    project.mkdir()
    return project


@pytest.fixture
def store(root: Path) -> Iterator[driftstore.PatternStore]:
    with driftstore.open(root) as opened:
        yield opened


__all__ = ["REAL_DRIFT", "REPO", "SHARED", "make_pattern"]
