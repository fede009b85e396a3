"""Fixtures of this suite."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _on_both_engines(on_both_engines: str) -> str:
    """Every test of this suite runs on SQLite and on PostgreSQL (tests/conftest.py)."""
    return on_both_engines
