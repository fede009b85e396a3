"""What the fault suite asserts after every fault: the store opens, SQLite's integrity check
passes, and the stored data is exactly one of the states a whole operation can leave."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import apsw
import xxhash

import driftstore

#: columns of pattern_locations that are data (not row ids or insert times)
_LOCATION_DATA = (
    "pattern_id, file, line, column_num, is_outlier, confidence, outlier_reason, list_kind, "
    "outlier_key, end_line, end_column, deviation_score, snippet, original_file, extras"
)
_PATTERN_DATA = (
    "id, category, subcategory, name, description, status, confidence_score, severity, "
    "first_seen, last_seen, approved_by, location_count, outlier_count, content_hash, extras"
)


@dataclass(frozen=True)
class State:
    """A fingerprint of everything stored, without insert times and row ids."""

    patterns: str
    locations: str
    pattern_count: int
    variants: int
    examples: int

    def __str__(self) -> str:
        return f"<{self.pattern_count} patterns {self.patterns[:8]}/{self.locations[:8]}>"


def db_path(root: Path) -> Path:
    return root / ".drift" / "drift.db"


def _digest(conn: apsw.Connection, sql: str) -> str:
    h = xxhash.xxh3_64()
    for row in conn.execute(sql):
        h.update(repr(row).encode())
    return h.hexdigest()


def fingerprint(conn: apsw.Connection) -> State:
    return State(
        patterns=_digest(conn, f"SELECT {_PATTERN_DATA} FROM patterns ORDER BY id"),
        locations=_digest(
            conn, f"SELECT {_LOCATION_DATA} FROM pattern_locations ORDER BY pattern_id, id"
        ),
        pattern_count=int(conn.execute("SELECT count(*) FROM patterns").fetchall()[0][0]),
        variants=int(conn.execute("SELECT count(*) FROM pattern_variants").fetchall()[0][0]),
        examples=int(conn.execute("SELECT count(*) FROM pattern_examples").fetchall()[0][0]),
    )


def history_count(conn: apsw.Connection) -> int:
    return int(conn.execute("SELECT count(*) FROM pattern_history").fetchall()[0][0])


def open_and_check(root: Path) -> tuple[State, int]:
    """Open the store as a user would (this recovers the WAL after a crash), then check it
    with a separate SQLite connection. Returns the state and the number of history rows."""
    with driftstore.open(root, create=False):
        pass
    conn = apsw.Connection(str(db_path(root)), flags=apsw.SQLITE_OPEN_READONLY)
    try:
        problems = [row[0] for row in conn.execute("PRAGMA integrity_check")]
        assert problems == ["ok"], f"integrity_check: {problems[:5]}"
        orphans = list(conn.execute("PRAGMA foreign_key_check"))
        assert orphans == [], f"foreign_key_check: {orphans[:5]}"
        indexes = {
            row[0] for row in conn.execute("SELECT name FROM sqlite_schema WHERE type='index'")
        }
        for name in ("idx_pattern_locations_file", "idx_pattern_locations_pattern"):
            assert name in indexes, f"index {name} is missing"
        conn.execute("BEGIN")
        state = fingerprint(conn)
        history = history_count(conn)
        conn.execute("COMMIT")
    finally:
        conn.close()
    return state, history


def state_of(root: Path) -> State:
    return open_and_check(root)[0]
