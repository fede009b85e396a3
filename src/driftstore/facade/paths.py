"""Small helpers the file-facing operations share: how a path is shown, and records
grouped by pattern."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def display(path: Path, root: Path) -> str:
    """A path as reports show it: relative to the project root when inside it."""
    try:
        return path.resolve().relative_to(root).as_posix()
    except ValueError:
        return str(path)


def grouped(records: list[Any]) -> dict[str, list[Any]]:
    """Variants or examples by their pattern id, in the order given."""
    out: dict[str, list[Any]] = {}
    for record in records:
        out.setdefault(record.pattern_id, []).append(record)
    return out
