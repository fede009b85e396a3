"""Prints what the fault suite tried (kills, disk-full cases, corruptions, fuzz inputs,
concurrent operations) at the end of the run; DRIFTSTORE_FAULT_SUMMARY=path also writes it
as JSON, for the README's figures."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.faults import tally


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not tally.COUNTS:
        return
    mode = "soak" if tally.SOAK else "quick"
    terminalreporter.section(f"driftstore fault suite ({mode}, seed {tally.seed()})")
    for line in tally.summary_lines():
        terminalreporter.write_line(line)
    target = os.environ.get("DRIFTSTORE_FAULT_SUMMARY")
    if target:
        tally.write_summary(Path(target))
