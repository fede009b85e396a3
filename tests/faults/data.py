"""Scans for the fault suite: sized so an operation lasts long enough to be interrupted, and
shaped so a half-applied one would show (every pattern of a scan carries its generation)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

CATEGORIES = ("api", "auth", "errors", "logging", "testing", "types")


def scan(
    prefix: str, generation: int, *, patterns: int = 60, locations: int = 40
) -> list[dict[str, Any]]:
    """One scan: `patterns` entries, each with `locations` locations and a few outliers.

    Names, one location's line and the number of outliers depend on the generation, so two
    generations differ in every pattern and in its location rows.
    """
    stamp = f"2026-05-{1 + generation % 28:02d}T12:00:00.000Z"
    entries = []
    for i in range(patterns):
        category = CATEGORIES[i % len(CATEGORIES)]
        pid = f"{prefix}{i:04d}"
        entries.append(
            {
                "id": pid,
                "category": category,
                "subcategory": "fault",
                "name": f"{prefix} gen {generation}",
                "description": f"pattern {i} of generation {generation}",
                "detector": {
                    "type": "regex",
                    "config": {"detectorId": f"{category}/fault", "patternId": pid},
                },
                "confidence": {"score": 0.5 + (i % 50) / 100, "frequency": 0.5},
                "locations": [
                    {
                        "file": f"src/{category}/m{(i + j) % 97}.ts",
                        "line": j + 1 + generation % 3,
                        "column": 1,
                    }
                    for j in range(locations)
                ],
                "outliers": [
                    {"file": f"src/legacy/o{k}.ts", "line": 10 + k, "column": 2, "reason": "off"}
                    for k in range(1 + generation % 3)
                ],
                "metadata": {"firstSeen": stamp, "lastSeen": stamp, "source": "auto-detected"},
                "severity": "warning",
            }
        )
    return entries


def write_scan(path: Path, entries: list[dict[str, Any]]) -> Path:
    path.write_text(json.dumps(entries))
    return path
