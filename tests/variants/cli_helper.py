"""Running the real `driftstore` entry point in-process (shared by the issue-4 tests)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from driftstore.cli.main import main


@dataclass
class Result:
    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)


def run_cli(capsys: pytest.CaptureFixture[str], root: Path, *args: str) -> Result:
    """`driftstore ARGS --root ROOT`, exit code and captured output."""
    capsys.readouterr()
    try:
        main([*args, "--root", str(root)])
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    captured = capsys.readouterr()
    return Result(code, captured.out, captured.err)


def assert_one_line_error(result: Result, code: int, *needles: str) -> None:
    """Bad input: the exit code, one line on stderr naming the problem, no traceback."""
    assert result.code == code, (result.code, result.out, result.err)
    lines = result.err.strip().splitlines()
    assert len(lines) == 1, result.err
    assert "Traceback" not in result.err
    for needle in needles:
        assert needle in lines[0], lines[0]
