"""SQL for reading and writing patterns and their locations."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import apsw

from driftstore.engine.rows import (
    INSERT_LOCATION,
    INSERT_PATTERN,
    LOCATION_SELECT,
    PATTERN_SELECT,
    UPDATE_PATTERN,
    location_rows,
    pattern_row,
    row_to_location,
    row_to_pattern,
)
from driftstore.engine.schema import LOCATION_INDEXES
from driftstore.engine.sql import scalar
from driftstore.model.pattern import Location, Pattern

# SQLite's default limit on host parameters is far above this; chunks keep IN lists short
_CHUNK = 500


def _chunks(items: Sequence[str]) -> Iterable[Sequence[str]]:
    for start in range(0, len(items), _CHUNK):
        yield items[start : start + _CHUNK]


def insert_pattern(
    cur: apsw.Cursor,
    p: Pattern,
    *,
    content_hash: str | None,
    created_at: str,
    updated_at: str,
    layout: str | None = None,
) -> None:
    cur.execute(
        INSERT_PATTERN,
        pattern_row(
            p,
            content_hash=content_hash,
            created_at=created_at,
            updated_at=updated_at,
            layout=layout,
        ),
    )
    insert_locations(cur, p)


def insert_locations(cur: apsw.Cursor, p: Pattern) -> None:
    cur.executemany(INSERT_LOCATION, location_rows(p))


def delete_locations(cur: apsw.Cursor, pattern_id: str) -> None:
    cur.execute("DELETE FROM pattern_locations WHERE pattern_id = ?", (pattern_id,))


def delete_pattern(cur: apsw.Cursor, pattern_id: str) -> None:
    """Children first: the seed's foreign keys have no ON DELETE CASCADE."""
    for table in ("pattern_locations", "pattern_variants", "pattern_examples"):
        cur.execute(f"DELETE FROM {table} WHERE pattern_id = ?", (pattern_id,))
    cur.execute("DELETE FROM patterns WHERE id = ?", (pattern_id,))


def replace_pattern_row(
    cur: apsw.Cursor,
    p: Pattern,
    *,
    content_hash: str | None,
    created_at: str,
    updated_at: str,
    layout: str | None = None,
) -> None:
    """Rewrite the pattern's row in place (children untouched)."""
    row = pattern_row(
        p, content_hash=content_hash, created_at=created_at, updated_at=updated_at, layout=layout
    )
    cur.execute(UPDATE_PATTERN, (*row[1:], p.id))


def exists(conn: apsw.Connection | apsw.Cursor, pattern_id: str) -> bool:
    return conn.execute("SELECT 1 FROM patterns WHERE id = ?", (pattern_id,)).fetchone() is not None


def existing_ids(conn: apsw.Connection | apsw.Cursor, ids: Sequence[str]) -> set[str]:
    found: set[str] = set()
    for chunk in _chunks(ids):
        marks = ",".join("?" * len(chunk))
        found.update(
            row[0]
            for row in conn.execute(
                f"SELECT id FROM patterns WHERE id IN ({marks})",
                tuple(chunk),
            )
        )
    return found


def load_pattern(
    conn: apsw.Connection | apsw.Cursor, pattern_id: str, *, with_locations: bool = True
) -> Pattern | None:
    row = conn.execute(
        f"SELECT {PATTERN_SELECT} FROM patterns WHERE id = ?",
        (pattern_id,),
    ).fetchone()
    if row is None:
        return None
    locations = load_locations(conn, pattern_id) if with_locations else None
    return row_to_pattern(row, locations)


def load_locations(
    conn: apsw.Connection | apsw.Cursor, pattern_id: str
) -> list[tuple[int, Location]]:
    return [
        row_to_location(r)
        for r in conn.execute(
            f"SELECT {LOCATION_SELECT} FROM pattern_locations WHERE pattern_id = ? ORDER BY id",
            (pattern_id,),
        )
    ]


def load_patterns(
    conn: apsw.Connection | apsw.Cursor,
    ids: Sequence[str] | None = None,
    *,
    with_locations: bool = True,
) -> list[Pattern]:
    """Patterns by id (in the order given, missing ids skipped), or all of them by id."""
    if ids is None:
        rows = list(conn.execute(f"SELECT {PATTERN_SELECT} FROM patterns ORDER BY id"))
    else:
        by_id: dict[str, tuple[Any, ...]] = {}
        for chunk in _chunks(ids):
            marks = ",".join("?" * len(chunk))
            for row in conn.execute(
                f"SELECT {PATTERN_SELECT} FROM patterns WHERE id IN ({marks})",
                tuple(chunk),
            ):
                by_id[row[0]] = row
        rows = [by_id[i] for i in ids if i in by_id]
    return [row_to_pattern(r, load_locations(conn, r[0]) if with_locations else None) for r in rows]


def scan_states(
    conn: apsw.Connection | apsw.Cursor,
) -> dict[str, tuple[str, str | None, str | None]]:
    """id -> (status, content_hash, last_seen), what a merge needs to know of every pattern."""
    return {
        row[0]: (row[1], row[2], row[3])
        for row in conn.execute("SELECT id, status, content_hash, last_seen FROM patterns")
    }


def created_at(conn: apsw.Connection | apsw.Cursor, pattern_id: str) -> str:
    return str(scalar(conn, "SELECT created_at FROM patterns WHERE id = ?", (pattern_id,)))


def count_patterns(conn: apsw.Connection | apsw.Cursor) -> int:
    return int(scalar(conn, "SELECT count(*) FROM patterns"))


def drop_location_indexes(cur: apsw.Cursor) -> None:
    """Before a bulk load into an empty table: building the indexes once at the end is
    several times cheaper than maintaining them row by row."""
    for name in LOCATION_INDEXES:
        cur.execute(f"DROP INDEX IF EXISTS {name}")


def create_location_indexes(cur: apsw.Cursor) -> None:
    for ddl in LOCATION_INDEXES.values():
        cur.execute(ddl)


def drop_pattern_indexes(cur: apsw.Cursor) -> list[str]:
    """Before a bulk load into an empty table: drop the patterns table's own indexes (13
    sort and filter indexes make each row insert ~80 µs; building them once at the end
    takes ~60 ms for 5,000 rows). Returns their DDL for `create_indexes`."""
    found = list(
        cur.execute(
            "SELECT name, sql FROM sqlite_schema "
            "WHERE type = 'index' AND tbl_name = 'patterns' AND sql IS NOT NULL"
        )
    )
    for name, _sql in found:
        cur.execute(f'DROP INDEX "{name.replace(chr(34), chr(34) * 2)}"')
    return [sql for _name, sql in found]


def create_indexes(cur: apsw.Cursor, ddl: list[str]) -> None:
    for sql in ddl:
        cur.execute(sql)


def pattern_files(conn: apsw.Connection | apsw.Cursor, pattern_id: str) -> list[str]:
    return [
        r[0]
        for r in conn.execute(
            "SELECT DISTINCT file FROM pattern_locations WHERE pattern_id = ?", (pattern_id,)
        )
    ]


def set_status(
    cur: apsw.Cursor,
    pattern_id: str,
    status: str,
    now: str,
    *,
    approved_by: str | None = None,
) -> None:
    """A status move; an approval also stamps who and when."""
    if status == "approved":
        cur.execute(
            "UPDATE patterns SET status = ?, approved_at = ?, approved_by = ?, updated_at = ? "
            "WHERE id = ?",
            (status, now, approved_by, now, pattern_id),
        )
    else:
        cur.execute(
            "UPDATE patterns SET status = ?, updated_at = ? WHERE id = ?",
            (status, now, pattern_id),
        )


def refresh_planner_stats(cur: apsw.Cursor) -> None:
    """Re-sample the patterns table after it grew or shrank a lot, so the planner keeps
    walking the sort indexes (listings at offset 1,000 stay under a millisecond). Only the
    patterns table: a few thousand rows, ~20 ms."""
    cur.execute("ANALYZE patterns")
