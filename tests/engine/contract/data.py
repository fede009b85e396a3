"""Patterns and small helpers the contract tests share; engine-neutral (interface only)."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import msgspec

from driftstore.engine.base import Engine, PatternWrite, Reader, StatsRow
from driftstore.engine.rows import as_stored
from driftstore.model.enums import Severity
from driftstore.model.pattern import Location, Pattern
from tests.factories import make_pattern

__all__ = ["as_stored", "content", "pattern", "put", "rich_pattern", "same_stats", "snapshot_saver"]


def pattern(pid: str, **kwargs: Any) -> Pattern:
    """A plain pattern (tests.factories), one location per file given."""
    return make_pattern(pid, **kwargs)


def rich_pattern(pid: str, *, category: str = "api", subcategory: str = "routes") -> Pattern:
    """A pattern whose locations use every shape a store must keep: plain rows, an outlier
    flag inside `locations`, confidences, a backslash spelling, end positions and a
    snippet, unknown keys, and the outliers list."""
    p = make_pattern(
        pid,
        category=category,
        subcategory=subcategory,
        files=["src/a.ts", "src/b.ts"],
        outlier_files=["src/a.ts"],
        tags=["http", "ünïcode"],
        severity=Severity.WARNING,
    )
    p.locations += [
        Location(file="src/c.ts", line=7, column=3, end_line=9, end_column=1, snippet="go()"),
        Location(file="src/a.ts", line=12, column=0, is_outlier=True, confidence=0.25),
        Location(file="src/d.ts", line=3, column=4, original_file="src\\d.ts", is_outlier=False),
        Location(file="src/e.ts", line=5, column=6, outlier_reason="odd", extras={"k": [1]}),
        Location(file="src/a.ts", line=2**30, column=9000, confidence=1.0),
    ]
    return p


def put(
    engine: Engine,
    *patterns: Pattern,
    locations: bool = True,
    layout: str | None = None,
    created_at: str | None = None,
) -> str:
    """Store the patterns in one write; returns the write's `now`."""
    with engine.write() as w:
        w.put_patterns(
            [
                PatternWrite(
                    p,
                    f"hash-{p.id}-{p.name}",
                    w.now,
                    created_at=created_at,
                    layout=layout,
                    locations=locations,
                )
                for p in patterns
            ]
        )
        return w.now


def builtins(value: Any) -> Any:
    return msgspec.to_builtins(value)


def files_of(patterns: Iterable[Pattern]) -> list[str]:
    return sorted({loc.file for p in patterns for loc in p.all_locations()})


def content(engine: Engine, *, meta_prefix: str = "t:") -> dict[str, Any]:
    """Everything a user can read of a store, as plain data (for before/after compares)."""
    with engine.read() as r:
        return read_content(r, meta_prefix=meta_prefix)


def read_content(r: Reader, *, meta_prefix: str = "t:") -> dict[str, Any]:
    found = r.patterns()
    return {
        "patterns": builtins(found),
        "states": builtins(r.pattern_states()),
        "files": {f: builtins(r.file_locations(f)) for f in files_of(found)},
        "variants": builtins(r.variants()),
        "examples": builtins(r.examples()),
        "history": builtins(r.history(oldest_first=True)),
        "layouts": r.layouts(),
        "meta": r.meta(meta_prefix),
        "exports": {layout: r.export_states(layout) for layout in ("v1", "v2")},
        "stats": sorted((*row[:6], round(row[6], 9)) for row in r.stats()),
        "count": r.count(),
    }


def same_stats(a: list[StatsRow], b: list[StatsRow]) -> bool:
    """Equal running totals (sums of scores compared as floats, not bit for bit)."""
    a, b = sorted(a), sorted(b)
    return len(a) == len(b) and all(
        x[:6] == y[:6] and math.isclose(x[6], y[6], abs_tol=1e-9) for x, y in zip(a, b, strict=True)
    )


def snapshot_saver(engine: Engine, folder: Path) -> tuple[Callable[[], str], list[str]]:
    """A `save_current` for restore_from that snapshots the store into `folder`, and the
    list of the ids it handed out."""
    made: list[str] = []

    def save() -> str:
        backup_id = f"safety-{len(made)}"
        engine.snapshot_to(folder / f"{backup_id}.db")
        made.append(backup_id)
        return backup_id

    return save, made
