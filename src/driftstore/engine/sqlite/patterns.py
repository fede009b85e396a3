"""SQL for reading and writing patterns and their locations."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from itertools import chain
from typing import Any

import apsw

from driftstore.engine import digests
from driftstore.engine.digests import LocationSummary
from driftstore.engine.rows import (
    INSERT_LOCATION,
    LOCATION_COLUMNS,
    LOCATION_SELECT,
    PATTERN_COLUMNS,
    PATTERN_SELECT,
    location_rows,
    pattern_row,
    row_to_location,
    row_to_pattern,
)
from driftstore.engine.sqlite.schema import LOCATION_INDEXES
from driftstore.engine.sqlite.sql import scalar
from driftstore.model.pattern import Location, Pattern

# SQLite's default limit on host parameters is far above this; chunks keep IN lists short
_CHUNK = 500


def _chunks(items: Sequence[str]) -> Iterable[Sequence[str]]:
    for start in range(0, len(items), _CHUNK):
        yield items[start : start + _CHUNK]


# Pattern rows are written with their digest (`engine.integrity`): the row's own, and the
# one of its location rows, computed from the very values bound.
_INSERT_PATTERN = (
    f"INSERT INTO patterns ({PATTERN_SELECT}, row_digest, rows_digest, scan_echo, "
    f"locations_summary) VALUES ({', '.join('?' * (len(PATTERN_COLUMNS) + 4))})"
)
_UPDATE_PATTERN = (
    "UPDATE patterns SET "
    + ", ".join(f"{col} = ?" for col in PATTERN_COLUMNS[1:])
    + ", row_digest = ?, scan_echo = ? WHERE id = ?"
)
_SELECT_CHECKED = f"SELECT {PATTERN_SELECT}, row_digest, rows_digest FROM patterns"
_LOCATIONS_OF = (
    f"SELECT {', '.join(LOCATION_COLUMNS)} FROM pattern_locations WHERE pattern_id = ? ORDER BY id"
)
_COLUMN_INDEX = {name: i for i, name in enumerate(PATTERN_COLUMNS)}


def insert_pattern(
    cur: apsw.Cursor,
    p: Pattern,
    *,
    content_hash: str | None,
    created_at: str,
    updated_at: str,
    layout: str | None = None,
    bulk: BulkLocations | None = None,
    echo: str | None = None,
    locations_hash: str | None = None,
) -> None:
    row = pattern_row(
        p, content_hash=content_hash, created_at=created_at, updated_at=updated_at, layout=layout
    )
    rows = location_rows(p)
    written = digests.rows_digest(rows)
    summary = digests.location_summary(locations_hash, row, written)
    cur.execute(
        _INSERT_PATTERN, (*row, digests.row_digest("patterns", row), written, echo, summary)
    )
    _write_locations(cur, rows, bulk)


def insert_locations(
    cur: apsw.Cursor, p: Pattern, row: Sequence[Any], locations_hash: str | None = None
) -> None:
    """Write the locations of a stored pattern that has none (after `delete_locations`),
    and the digest of them (and their summary) on its row (`row`: the values it holds)."""
    rows = location_rows(p)
    _write_locations(cur, rows, None)
    written = digests.rows_digest(rows)
    cur.execute(
        "UPDATE patterns SET rows_digest = ?, locations_summary = ? WHERE id = ?",
        (written, digests.location_summary(locations_hash, row, written), p.id),
    )


def _write_locations(
    cur: apsw.Cursor, rows: list[tuple[Any, ...]], bulk: BulkLocations | None
) -> None:
    """The one place location rows are written (`bulk`: buffered into multi-row INSERTs)."""
    if bulk is None:
        cur.executemany(INSERT_LOCATION, rows)
    else:
        bulk.add(rows)


#: rows per INSERT statement of a bulk load. One statement of ~100 rows costs SQLite less
#: than half of what as many single-row statements do (one VDBE run, one AUTOINCREMENT
#: update, one bind call per statement; benchmarks/NOTES.md); past a few
#: hundred rows the gain is gone and much longer statements get slower again.
BULK_ROWS = 128
_BULK_INSERT_LOCATIONS = (
    INSERT_LOCATION.split(" VALUES ")[0]
    + " VALUES "
    + ",".join(["(" + ",".join("?" * len(LOCATION_COLUMNS)) + ")"] * BULK_ROWS)
)
#: rows held before they are written: bounds the memory a bulk load keeps in flight
_BULK_PENDING = BULK_ROWS * 64


class BulkLocations:
    """Location rows of a bulk load, buffered and written BULK_ROWS per INSERT.

    Rows are written in the order they were added, so each pattern's locations get
    ascending ids as `insert_locations` alone gives them. Call `flush` before anything in
    the transaction reads pattern_locations, and before the transaction commits.
    """

    def __init__(self, cur: apsw.Cursor, *, pending_rows: int = _BULK_PENDING) -> None:
        self._cur = cur
        self._rows: list[tuple[Any, ...]] = []
        self._pending_rows = max(pending_rows, BULK_ROWS)

    def add(self, rows: list[tuple[Any, ...]]) -> None:
        self._rows.extend(rows)
        if len(self._rows) >= self._pending_rows:
            self._write(len(self._rows) // BULK_ROWS * BULK_ROWS)

    def flush(self) -> None:
        self._write(len(self._rows) // BULK_ROWS * BULK_ROWS)
        if self._rows:
            self._cur.executemany(INSERT_LOCATION, self._rows)
            self._rows.clear()

    def _write(self, count: int) -> None:
        rows = self._rows
        flat = chain.from_iterable
        self._cur.executemany(
            _BULK_INSERT_LOCATIONS,
            [tuple(flat(rows[i : i + BULK_ROWS])) for i in range(0, count, BULK_ROWS)],
        )
        del rows[:count]


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
    echo: str | None = None,
) -> tuple[Any, ...]:
    """Rewrite the pattern's row in place (children untouched); returns the values."""
    row = pattern_row(
        p, content_hash=content_hash, created_at=created_at, updated_at=updated_at, layout=layout
    )
    cur.execute(_UPDATE_PATTERN, (*row[1:], digests.row_digest("patterns", row), echo, p.id))
    return row


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
    """One pattern, its row (and its location rows) checked against their digests first:
    damaged data raises DigestMismatchError, never a wrong answer."""
    row = conn.execute(f"{_SELECT_CHECKED} WHERE id = ?", (pattern_id,)).fetchone()
    return None if row is None else _checked(conn, row, with_locations)


def _checked(
    conn: apsw.Connection | apsw.Cursor, row: tuple[Any, ...], with_locations: bool
) -> Pattern:
    """A row selected with _SELECT_CHECKED -> Pattern, every value checked before any is
    decoded (a damaged value may not even have its column's type)."""
    values = row[:-2]
    digests.check_pattern_row(values, row[-2])
    locations = None
    if with_locations:
        raw = conn.execute(_LOCATIONS_OF, (values[0],)).fetchall()
        digests.check_rows(values[0], raw, row[-1])
        locations = [row_to_location(r[1:]) for r in raw]
    return row_to_pattern(values, locations)


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
    """Patterns by id (in the order given, missing ids skipped), or all of them by id;
    each checked against its digests like `load_pattern`."""
    if ids is None:
        rows = list(conn.execute(f"{_SELECT_CHECKED} ORDER BY id"))
    else:
        by_id: dict[str, tuple[Any, ...]] = {}
        for chunk in _chunks(ids):
            marks = ",".join("?" * len(chunk))
            for row in conn.execute(f"{_SELECT_CHECKED} WHERE id IN ({marks})", tuple(chunk)):
                by_id[row[0]] = row
        rows = [by_id[i] for i in ids if i in by_id]
    return [_checked(conn, r, with_locations) for r in rows]


def scan_states(
    conn: apsw.Connection | apsw.Cursor,
) -> dict[str, tuple[str, str | None, str | None, str | None]]:
    """id -> (status, content_hash, last_seen, scan_echo), what a merge needs to know of
    every pattern."""
    return {
        row[0]: (row[1], row[2], row[3], row[4])
        for row in conn.execute(
            "SELECT id, status, content_hash, last_seen, scan_echo FROM patterns"
        )
    }


def location_summaries(
    conn: apsw.Connection | apsw.Cursor, ids: Sequence[str]
) -> dict[str, LocationSummary]:
    found: dict[str, LocationSummary] = {}
    for chunk in _chunks(ids):
        marks = ",".join("?" * len(chunk))
        for pid, text, rows in conn.execute(
            f"SELECT id, locations_summary, rows_digest FROM patterns WHERE id IN ({marks})",
            tuple(chunk),
        ):
            summary = digests.read_location_summary(text, rows)
            if summary is not None:
                found[str(pid)] = summary
    return found


def remember_echoes(cur: apsw.Cursor, echoes: Sequence[tuple[str, str]]) -> None:
    """Store (id, echo) pairs; the echo is outside the row's digest (not pattern data)."""
    cur.executemany(
        "UPDATE patterns SET scan_echo = ? WHERE id = ?", [(echo, pid) for pid, echo in echoes]
    )


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
    sort and filter indexes make each row insert costly; building them once at the end is
    far cheaper: benchmarks/NOTES.md). Returns their DDL for `create_indexes`."""
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
) -> bool:
    """A status move; an approval also stamps who and when. False: no such pattern."""
    changes: dict[str, Any] = {"status": status, "updated_at": now}
    if status == "approved":
        changes.update(approved_at=now, approved_by=approved_by)
    row = cur.execute(f"{_SELECT_CHECKED} WHERE id = ?", (pattern_id,)).fetchone()
    if row is None:
        return False
    update_columns(cur, row[:-2], row[-2], changes)
    return True


def update_columns(
    cur: apsw.Cursor, row: Sequence[Any], stored_digest: Any, changes: dict[str, Any]
) -> None:
    """Change some columns of a pattern row (`row`: its PATTERN_COLUMNS values as read)
    with its digest. The row is checked first, so a damaged row is never given a digest
    that would make it look intact."""
    digests.check_pattern_row(row, stored_digest)
    new = list(row)
    for name, value in changes.items():
        new[_COLUMN_INDEX[name]] = value
    assignments = ", ".join(f"{name} = ?" for name in changes)
    cur.execute(
        f"UPDATE patterns SET {assignments}, row_digest = ? WHERE id = ?",
        (*changes.values(), digests.row_digest("patterns", new), row[0]),
    )


def touch_last_seen(cur: apsw.Cursor, touched: Sequence[tuple[str, str]]) -> list[str]:
    """Store new `last_seen` stamps, (stamp, id) pairs, of patterns a scan found unchanged;
    rows are read in chunks and checked before their digests are renewed. Returns the ids
    of the patterns found."""
    stamps = {pid: stamp for stamp, pid in touched}
    updates: list[tuple[Any, ...]] = []
    for chunk in _chunks(list(stamps)):
        marks = ",".join("?" * len(chunk))
        for row in cur.execute(f"{_SELECT_CHECKED} WHERE id IN ({marks})", tuple(chunk)).fetchall():
            values = list(row[:-2])
            digests.check_pattern_row(values, row[-2])
            stamp = stamps[str(row[0])]
            values[_COLUMN_INDEX["last_seen"]] = stamp
            updates.append((stamp, digests.row_digest("patterns", values), row[0]))
    cur.executemany("UPDATE patterns SET last_seen = ?, row_digest = ? WHERE id = ?", updates)
    return [str(row[2]) for row in updates]


def refresh_planner_stats(cur: apsw.Cursor) -> None:
    """Re-sample the patterns table after it grew or shrank a lot, so the planner keeps
    walking the sort indexes (listings at offset 1,000 stay under a millisecond). Only the
    patterns table: a few thousand rows, cheap."""
    cur.execute("ANALYZE patterns")


def file_locations(
    conn: apsw.Connection | apsw.Cursor, file: str
) -> list[tuple[str, int, Location]]:
    """(pattern_id, list kind, location) of every row in `file`, by rowid: the plain SQL
    answer a one-shot process uses, and the reference the index is tested against."""
    found: list[tuple[str, int, Location]] = []
    for row in conn.execute(
        f"SELECT pattern_id, {LOCATION_SELECT} FROM pattern_locations WHERE file = ? ORDER BY id",
        (file,),
    ):
        kind, loc = row_to_location(row[1:])
        found.append((row[0], kind, loc))
    return found


def ids_with_prefix(conn: apsw.Connection | apsw.Cursor, prefix: str, limit: int) -> list[str]:
    """Stored ids that start with `prefix` (a range scan of the primary key), sorted."""
    return [
        row[0]
        for row in conn.execute(
            "SELECT id FROM patterns WHERE id >= ? AND substr(id, 1, ?) = ? ORDER BY id LIMIT ?",
            (prefix, len(prefix), prefix, limit),
        )
    ]


def outliers_of(
    conn: apsw.Connection | apsw.Cursor, pattern_ids: Sequence[str]
) -> dict[str, list[tuple[int, Location]]]:
    """Outlier rows (the outliers list, and locations flagged isOutlier) by pattern."""
    found: dict[str, list[tuple[int, Location]]] = {}
    for chunk in _chunks(list(pattern_ids)):
        marks = ",".join("?" * len(chunk))
        for row in conn.execute(
            f"SELECT pattern_id, {LOCATION_SELECT} FROM pattern_locations "
            f"WHERE pattern_id IN ({marks}) AND (list_kind = 1 OR outlier_key = 1) "
            "ORDER BY pattern_id, id",
            tuple(chunk),
        ):
            found.setdefault(row[0], []).append(row_to_location(row[1:]))
    return found


def update_content_hash(cur: apsw.Cursor, pattern_id: str, value: str) -> None:
    """Store a recomputed content hash (the row is checked first, then its digest renewed)."""
    row = cur.execute(f"{_SELECT_CHECKED} WHERE id = ?", (pattern_id,)).fetchone()
    if row is not None and row[_COLUMN_INDEX["content_hash"]] != value:
        update_columns(cur, row[:-2], row[-2], {"content_hash": value})
