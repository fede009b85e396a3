"""Rows of the child tables, and pattern summaries, as model records: the same columns on
every engine (the SQL that selects them lives with each engine), so one decoder each.

Variant, example and history rows carry their digest last and are checked against it
(DigestMismatchError) as they are decoded.
"""

from __future__ import annotations

from typing import Any

import msgspec

from driftstore.engine import digests
from driftstore.engine.damage import stored
from driftstore.model.enums import HistoryAction, Scope, Severity, Status
from driftstore.model.query import PatternSummary
from driftstore.model.records import Example, HistoryEntry, Variant

#: the columns `summary_of` reads, in order
SUMMARY_COLUMNS = (
    "id, name, category, subcategory, status, confidence_score, confidence_level, severity, "
    "location_count, outlier_count, description, tags, first_seen, last_seen"
)
#: the columns `variant_of` reads (the digested ones follow id, in table order)
VARIANT_COLUMNS = (
    "id, pattern_id, scope, scope_path, severity_override, enabled_override, "
    "threshold_override, config_override, expires_at, created_at, row_digest"
)
#: the columns `example_of` reads
EXAMPLE_COLUMNS = (
    "id, pattern_id, file, code, line_start, line_end, is_positive, created_at, language, "
    "row_digest"
)


def summary_of(row: tuple[Any, ...]) -> PatternSummary:
    return PatternSummary(
        id=row[0],
        name=row[1],
        category=row[2],
        subcategory=row[3],
        status=stored(Status, row[4]),
        confidence=row[5],
        confidence_level=row[6],
        severity=stored(Severity, row[7] or "info"),
        location_count=row[8],
        outlier_count=row[9],
        description=row[10] or "",
        tags=msgspec.json.decode(row[11]) if row[11] else [],
        first_seen=row[12],
        last_seen=row[13],
    )


def variant_of(row: tuple[Any, ...]) -> Variant:
    digests.check_row("pattern_variants", row[0], row[1:10], row[10])
    return Variant(
        id=row[0],
        pattern_id=row[1],
        scope=stored(Scope, row[2]),
        scope_path=row[3],
        severity_override=stored(Severity, row[4]) if row[4] else None,
        enabled_override=None if row[5] is None else bool(row[5]),
        threshold_override=row[6],
        config_override=msgspec.json.decode(row[7]) if row[7] else None,
        expires_at=row[8],
        created_at=row[9],
    )


def example_of(row: tuple[Any, ...]) -> Example:
    digests.check_row("pattern_examples", row[0], row[1:9], row[9])
    return Example(
        id=row[0],
        pattern_id=row[1],
        file=row[2],
        code=row[3],
        line_start=row[4],
        line_end=row[5],
        is_positive=bool(row[6]),
        created_at=row[7],
        language=row[8],
    )


def history_entry_of(row: tuple[Any, ...]) -> HistoryEntry:
    """A row of (id, pattern_id, action, old, new, created_at, changed_by, reason, digest)."""
    digests.check_row("pattern_history", row[0], row[1:8], row[8])
    decode = msgspec.json.decode
    return HistoryEntry(
        id=row[0],
        pattern_id=row[1],
        action=stored(HistoryAction, row[2]),
        old=decode(row[3]) if row[3] else None,
        new=decode(row[4]) if row[4] else None,
        at=row[5],
        by=row[6],
        reason=row[7],
    )
