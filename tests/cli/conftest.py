"""The CLI tests' runner fixture."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.clirun import Result, run_cli

Runner = Callable[..., Result]


@pytest.fixture
def run(capsys: pytest.CaptureFixture[str], root: Path) -> Runner:
    """run("list", "--json") -> Result; --root defaults to the test's project folder."""

    def invoke(*args: str, root_dir: Path | None = root) -> Result:
        no_root = not args or args[0] in {"--help", "--version"}
        return run_cli(capsys, None if no_root else root_dir, *args)

    return invoke


__all__ = ["Result", "Runner"]


@pytest.fixture(autouse=True)
def _on_both_engines(on_both_engines: str) -> str:
    """Every test of this suite runs on SQLite and on PostgreSQL (tests/conftest.py)."""
    return on_both_engines
