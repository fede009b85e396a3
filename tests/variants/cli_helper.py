"""A check shared by the issue-4 CLI tests: bad input gives one line and an exit code."""

from __future__ import annotations

from tests.clirun import Result


def assert_one_line_error(result: Result, code: int, *needles: str) -> None:
    """Bad input: the exit code, one line on stderr naming the problem, no traceback."""
    assert result.code == code, (result.code, result.out, result.err)
    lines = result.err.strip().splitlines()
    assert len(lines) == 1, result.err
    assert "Traceback" not in result.err
    for needle in needles:
        assert needle in lines[0], lines[0]
