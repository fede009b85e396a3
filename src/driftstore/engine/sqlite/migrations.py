"""The schema's migrations, in order: `PRAGMA user_version` holds the last one applied, and
each runs in one transaction together with its bookkeeping row (`connection.py`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import apsw

from driftstore.engine.sqlite.schema import (
    DIGEST_COLUMNS,
    FILTER_COLUMNS,
    SEED_SCHEMA,
    SORT_KEYS,
    STATS_SCHEMA,
    sort_index_name,
)


@dataclass(frozen=True)
class Migration:
    version: int
    description: str
    apply: Callable[[apsw.Cursor], None]


def _apply_v1(cursor: apsw.Cursor) -> None:
    cursor.execute(SEED_SCHEMA)


def _apply_v2(cursor: apsw.Cursor) -> None:
    """Listing and status in well under a millisecond at 5,000 patterns (benchmark B5)."""
    for key, expr in SORT_KEYS.items():
        cursor.execute(
            f"CREATE INDEX {sort_index_name(key)} ON patterns({expr}, id, {FILTER_COLUMNS})"
        )
    cursor.execute(STATS_SCHEMA)
    cursor.execute("ANALYZE")


def _apply_v3(cursor: apsw.Cursor) -> None:
    """Digests beside the data, so verify notices a value that changed on disk; an existing
    store's digests are computed from what it holds (a backup is taken first)."""
    from driftstore.engine.sqlite.integrity import fill_digests

    for table, column in DIGEST_COLUMNS:
        cursor.execute(f"ALTER TABLE {table} ADD COLUMN {column} TEXT")
    fill_digests(cursor)


def _apply_v4(cursor: apsw.Cursor) -> None:
    """One store generation moved by every write, and the log of what each one changed
    (`engine.sqlite.changes`)."""
    from driftstore.engine.sqlite.changes import SCHEMA

    cursor.execute(SCHEMA)


def _apply_v5(cursor: apsw.Cursor) -> None:
    """Content hashes taken over the effective confidence level (`model.digest`), so an
    entry without a level and the same entry read back from a store hash alike: every
    stored hash is recomputed from what is stored (a backup is taken first)."""
    from driftstore.engine.sqlite import patterns
    from driftstore.model.digest import content_hash

    ids = [str(row[0]) for row in cursor.execute("SELECT id FROM patterns ORDER BY id").fetchall()]
    for start in range(0, len(ids), 200):
        for p in patterns.load_patterns(cursor, ids[start : start + 200]):
            patterns.update_content_hash(cursor, p.id, content_hash(p))


def _apply_v6(cursor: apsw.Cursor) -> None:
    """What a re-scan needs to know of a stored pattern without reading it whole: the echo
    of the scan entry it was stored from (`formats.echo`) and the summary of its locations
    (`engine.digests.location_summary`); both empty until the pattern is next written."""
    cursor.execute("ALTER TABLE patterns ADD COLUMN scan_echo TEXT")
    cursor.execute("ALTER TABLE patterns ADD COLUMN locations_summary TEXT")


#: in order; the last one's version is the schema version this code writes
MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "seed schema with driftstore columns", _apply_v1),
    Migration(2, "sort indexes and running totals for listings and status", _apply_v2),
    Migration(3, "digests of every stored row, checked by verify", _apply_v3),
    Migration(4, "store generation and change log", _apply_v4),
    Migration(5, "content hashes over the effective confidence level", _apply_v5),
    Migration(6, "scan echoes and location summaries beside their patterns", _apply_v6),
)
SCHEMA_VERSION = MIGRATIONS[-1].version
