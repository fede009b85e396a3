"""SQL that export, import, migrate and verify need beyond pattern CRUD.

- `export_state`: per (category, layout, status) the checksum and `lastUpdated` of the last
  export, so a file's timestamp moves only when its content did.
- `store_meta` rows `legacy-file:{status}/{category}`: top-level keys of a drift 0.9 file
  beyond the usual five, kept for a faithful v1 re-export.
- `patterns.layout`: the per-pattern record of how a legacy entry looked.
- SQLite's own integrity checks.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from itertools import starmap
from typing import Any, TypeVar

import apsw

from driftstore.engine.base import EXPORT_FULL_COLUMNS, EXPORT_LEAN_COLUMNS
from driftstore.engine.damage import DAMAGED_DATA
from driftstore.engine.rows import LOCATION_SELECT, PATTERN_SELECT, row_to_location, row_to_pattern
from driftstore.engine.sqlite import examples, history, patterns, variants
from driftstore.engine.sqlite.changes import RESERVED_META
from driftstore.engine.sqlite.sql import scalar
from driftstore.model.pattern import Location, Pattern

T = TypeVar("T")

LEGACY_FILE_META = "legacy-file:"
_CHUNK = 500
#: end_line, end_column, deviation_score, snippet: NULL in most location rows
_NO_RARE = (None, None, None, None)


def read_states(
    conn: apsw.Connection | apsw.Cursor, layout: str
) -> dict[tuple[str, str], tuple[str, str]]:
    """(category, status) -> (checksum, last_updated) for one layout ("v1", "v2", ...)."""
    return {
        (row[0], row[1]): (row[2], row[3])
        for row in conn.execute(
            "SELECT category, status, checksum, last_updated FROM export_state WHERE layout = ?",
            (layout,),
        )
    }


def write_state(
    cur: apsw.Cursor, category: str, layout: str, status: str, checksum: str, last_updated: str
) -> None:
    cur.execute(
        "INSERT INTO export_state (category, layout, status, checksum, last_updated) "
        "VALUES (?, ?, ?, ?, ?) ON CONFLICT (category, layout, status) DO UPDATE SET "
        "checksum = excluded.checksum, last_updated = excluded.last_updated",
        (category, layout, status, checksum, last_updated),
    )


def delete_state(cur: apsw.Cursor, category: str, layout: str, status: str) -> bool:
    """False when there was no such state."""
    cur.execute(
        "DELETE FROM export_state WHERE category = ? AND layout = ? AND status = ?",
        (category, layout, status),
    )
    return bool(cur.connection.changes())


def read_meta(conn: apsw.Connection | apsw.Cursor, prefix: str) -> dict[str, str]:
    """store_meta rows whose key starts with `prefix`, keyed by the rest of the key (the
    engine's own rows, RESERVED_META, are not the facade's to see)."""
    return {
        row[0][len(prefix) :]: row[1]
        for row in conn.execute(
            "SELECT key, value FROM store_meta WHERE substr(key, 1, ?) = ?",
            (len(prefix), prefix),
        )
        if row[0] not in RESERVED_META
    }


def write_meta(cur: apsw.Cursor, key: str, value: str | None) -> bool:
    """Set or (None) remove one value; False when there was nothing to remove."""
    if key in RESERVED_META:
        raise ValueError(f"store_meta key {key!r} is the engine's own; choose another key")
    if value is None:
        cur.execute("DELETE FROM store_meta WHERE key = ?", (key,))
        return bool(cur.connection.changes())
    cur.execute(
        "INSERT INTO store_meta (key, value) VALUES (?, ?) "
        "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        (key, value),
    )
    return True


def read_layouts(conn: apsw.Connection | apsw.Cursor) -> dict[str, str]:
    return {
        row[0]: row[1]
        for row in conn.execute("SELECT id, layout FROM patterns WHERE layout IS NOT NULL")
    }


def ids_by_category(conn: apsw.Connection | apsw.Cursor) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for category, pid in conn.execute("SELECT category, id FROM patterns ORDER BY category, id"):
        out.setdefault(category, []).append(pid)
    return out


def known_ids(conn: apsw.Connection | apsw.Cursor, ids: Sequence[str]) -> set[str]:
    """Ids the store holds or has history for (it has seen them)."""
    found: set[str] = set()
    for start in range(0, len(ids), _CHUNK):
        chunk = tuple(ids[start : start + _CHUNK])
        marks = ",".join("?" * len(chunk))
        for row in conn.execute(
            f"SELECT id FROM patterns WHERE id IN ({marks}) "
            f"UNION SELECT pattern_id FROM pattern_history WHERE pattern_id IN ({marks})",
            chunk + chunk,
        ):
            found.add(row[0])
    return found


def pattern_states(conn: apsw.Connection | apsw.Cursor) -> dict[str, tuple[Any, ...]]:
    """id -> (status, content_hash, approved_at, approved_by, first_seen, last_seen, layout)."""
    return {
        row[0]: tuple(row[1:])
        for row in conn.execute(
            "SELECT id, status, content_hash, approved_at, approved_by, first_seen, last_seen, "
            "layout FROM patterns"
        )
    }


def delete_children(cur: apsw.Cursor, pattern_id: str, table: str) -> None:
    if table not in ("pattern_variants", "pattern_examples"):
        raise ValueError(f"not a child table: {table}")
    cur.execute(f"DELETE FROM {table} WHERE pattern_id = ?", (pattern_id,))


#: page cache while integrity_check runs: its index checks revisit b-tree pages, and 64 MiB
#: instead of the default 2 MiB makes it faster (benchmarks/NOTES.md)
_CHECK_CACHE_KIB = 65536


def integrity_problems(conn: apsw.Connection) -> list[str]:
    """What `PRAGMA integrity_check` and `foreign_key_check` find (empty when healthy).

    The full integrity_check, not quick_check: only it compares every index with its table,
    and a damaged index serves wrong answers without any read failing.
    """
    cache = int(scalar(conn, "PRAGMA cache_size"))
    conn.execute(f"PRAGMA cache_size = -{_CHECK_CACHE_KIB}")
    try:
        problems = [
            str(row[0]) for row in conn.execute("PRAGMA integrity_check") if str(row[0]) != "ok"
        ]
    finally:
        conn.execute(f"PRAGMA cache_size = {cache}")
    for table, rowid, parent, _fk in conn.execute("PRAGMA foreign_key_check"):
        problems.append(f"{table} row {rowid} points at a missing {parent} row")
    return problems


def load_category(conn: apsw.Connection | apsw.Cursor, category: str) -> list[Pattern]:
    """Every pattern of a category with its locations, by id, in two queries (export).

    Hot: a million locations pass through here, so the common row (no end, deviation,
    snippet or extras column, no outlier-list reason) is built inline; any other row goes
    through `row_to_location`.
    """
    found: dict[str, list[tuple[int, Location]]] = {}
    current: list[tuple[int, Location]] = []
    last = None
    append = current.append
    for row in conn.execute(
        f"SELECT pattern_id, {LOCATION_SELECT} FROM pattern_locations WHERE pattern_id IN "
        "(SELECT id FROM patterns WHERE category = ?) ORDER BY pattern_id, id",
        (category,),
    ):
        pid, file, line, column, _flag, confidence, reason, kind, key = row[:9]
        if pid != last:
            current = found.setdefault(pid, [])
            append = current.append
            last = pid
        if row[9:13] == _NO_RARE and row[14] is None and (reason is None or not kind):
            loc = Location(file, line, column)
            if key is not None:
                loc.is_outlier = bool(key)
            if confidence is not None:
                loc.confidence = confidence
            if reason is not None:
                loc.outlier_reason = reason
            if row[13] is not None:
                loc.original_file = row[13]
            append((kind, loc))
        else:
            append(row_to_location(row[1:]))
    return [
        row_to_pattern(row, found.get(row[0], []))
        for row in conn.execute(
            f"SELECT {PATTERN_SELECT} FROM patterns WHERE category = ? ORDER BY id", (category,)
        )
    ]


#: Location rows for the v2 writer, one column per field of the writer's row structs
#: (`formats.shards.fast.LeanLocation` / `ExportLocation`, same names, same order; NULL is an
#: absent key). Integral REALs come back as INTEGER, as JavaScript writes them. `flag` (NULL
#: when 0) holds what a row needs, as bits: 1 it belongs to the outliers list, 2 it has a
#: column only the full row has (endLine, endColumn, snippet), 4 the general path
#: (`stored_locations`: extras, an odd list kind, a number outside bounds kept wider than
#: the exact ES rule so the fast path never sees a doubtful one).
_NUMBER = (
    "CASE WHEN {c} = CAST({c} AS INTEGER) AND abs({c}) < 1e15 THEN CAST({c} AS INTEGER) "
    "ELSE {c} END"
)
_ODD_NUMBER = (
    "({c} IS NOT NULL AND (typeof({c}) NOT IN ('real', 'integer') "
    "OR ({c} <> 0 AND (abs({c}) < 1e-4 OR abs({c}) >= 1e15))))"
)
_FLAG = (
    "nullif((CASE WHEN extras IS NOT NULL OR (list_kind IS NOT 0 AND list_kind IS NOT 1) OR "
    f"{_ODD_NUMBER.format(c='confidence')} OR {_ODD_NUMBER.format(c='deviation_score')} "
    "THEN 4 ELSE 0 END) | (CASE WHEN end_line IS NOT NULL OR end_column IS NOT NULL OR "
    "snippet IS NOT NULL THEN 2 ELSE 0 END) | "
    "(CASE WHEN list_kind = 1 THEN 1 ELSE 0 END), 0)"
)
_EXPORT_COLUMNS = {
    "file": "file",
    "line": "line",
    "column": "column_num",
    "end_line": "end_line",
    "end_column": "end_column",
    "is_outlier": "outlier_key",
    "confidence": _NUMBER.format(c="confidence"),
    "outlier_reason": "CASE WHEN list_kind = 0 THEN outlier_reason END",
    "reason": "CASE WHEN list_kind = 1 THEN outlier_reason END",
    "deviation_score": _NUMBER.format(c="deviation_score"),
    "snippet": "snippet",
    "original_file": "original_file",
    "flag": _FLAG,
}
FULL_ONLY = ("end_line", "end_column", "snippet")
FULL_COLUMNS = EXPORT_FULL_COLUMNS
LEAN_COLUMNS = EXPORT_LEAN_COLUMNS
assert tuple(_EXPORT_COLUMNS) == FULL_COLUMNS
assert tuple(name for name in FULL_COLUMNS if name not in FULL_ONLY) == LEAN_COLUMNS


def _export_select(names: tuple[str, ...], where: str) -> str:
    columns = ", ".join(f"{_EXPORT_COLUMNS[name]} AS {name}" for name in names)
    return f"SELECT {columns} FROM pattern_locations WHERE {where} ORDER BY id"


_BY_PATTERN = "pattern_id = ?"
_BY_SPAN = "id BETWEEN ? AND ?"
_LEAN_SELECT = _export_select(LEAN_COLUMNS, _BY_PATTERN)
_LEAN_SPAN_SELECT = _export_select(LEAN_COLUMNS, _BY_SPAN)
_FULL_SELECT = _export_select(FULL_COLUMNS, _BY_PATTERN)


def location_spans(conn: apsw.Connection | apsw.Cursor) -> dict[str, tuple[int, int]]:
    """pattern id -> (first, last) row id, for each pattern whose location rows are
    consecutive rows of the table (an ingest writes them so; an edit may not).

    One pass over the pattern_id index. Reading such a pattern's rows
    by row-id range walks the table in order instead of looking up each row through the
    index, a large share of a v2 export's reading (benchmarks/NOTES.md).
    """
    return {
        pid: (first, last)
        for pid, first, last, count in conn.execute(
            "SELECT pattern_id, min(id), max(id), count(*) FROM pattern_locations "
            "GROUP BY pattern_id"
        )
        if last - first + 1 == count  # every row id in between is one of the pattern's
    }


def export_category(
    conn: apsw.Connection | apsw.Cursor,
    category: str,
    make: Callable[..., T],
    spans: dict[str, tuple[int, int]] | None = None,
) -> Iterator[tuple[Pattern, list[T]]]:
    """Each pattern of a category by id (without locations), with its location rows made
    by `make` from the LEAN_COLUMNS, in stored order.

    The v2 export's hot path: a million rows become writer structs in C (`starmap`), with
    no Python code per row; fewer columns cost less per row. `spans` (`location_spans`,
    read in the same transaction) lets consecutive rows be read as a row-id range; a
    pattern missing from it is read through the pattern_id index.
    """
    spans = spans or {}
    for row in list(
        conn.execute(
            f"SELECT {PATTERN_SELECT} FROM patterns WHERE category = ? ORDER BY id", (category,)
        )
    ):
        span = spans.get(row[0])
        cursor = (
            conn.execute(_LEAN_SELECT, (row[0],))
            if span is None
            else conn.execute(_LEAN_SPAN_SELECT, span)
        )
        yield row_to_pattern(row, None), list(starmap(make, cursor))


def export_locations(
    conn: apsw.Connection | apsw.Cursor, pattern_id: str, make: Callable[..., T]
) -> list[T]:
    """One pattern's location rows made by `make` from the FULL_COLUMNS, in stored order."""
    return list(starmap(make, conn.execute(_FULL_SELECT, (pattern_id,))))


def stored_locations(
    conn: apsw.Connection | apsw.Cursor, pattern_id: str
) -> tuple[list[Location], list[Location]]:
    """(locations, outliers) of one pattern through the general row mapping."""
    found = patterns.load_locations(conn, pattern_id)
    return [loc for kind, loc in found if kind == 0], [loc for kind, loc in found if kind == 1]


_EXTRAS_AT = LOCATION_SELECT.split(", ").index("extras")


def _unreadable_location(conn: apsw.Connection | apsw.Cursor) -> str | None:
    """Why a location row does not read back, or None: each text column must decode (the
    only way a plain row can fail) and each row with extras goes through the read mapping.

    `file` and `pattern_id` are decoded once per distinct value, from their indexes (20k
    files, not a million rows, at size M; the integrity check holds each index equal to
    its table); one scan hands over the rows with a rarely set column, extras included."""
    try:
        for column in ("file", "pattern_id"):
            for _row in conn.execute(f"SELECT DISTINCT {column} FROM pattern_locations"):
                pass
        for row in conn.execute(
            f"SELECT {LOCATION_SELECT} FROM pattern_locations WHERE outlier_reason IS NOT NULL "
            "OR snippet IS NOT NULL OR original_file IS NOT NULL OR extras IS NOT NULL"
        ):
            if row[_EXTRAS_AT] is not None:
                row_to_location(row)
    except DAMAGED_DATA as exc:
        return str(exc)
    return None


def unreadable_rows(conn: apsw.Connection | apsw.Cursor) -> list[str]:
    """Rows SQLite's checks pass but driftstore cannot read back: text that is not UTF-8,
    stored JSON that does not parse, a status or severity driftstore never writes. Every
    pattern row goes through the same decoding a read does (in chunks), and every location
    row is read once; when one fails, the chunks read their locations too, so the problem
    names the patterns. verify fails wherever a read would."""
    problems: list[str] = []
    try:
        ids = [row[0] for row in conn.execute("SELECT id FROM patterns ORDER BY id")]
    except DAMAGED_DATA as exc:
        return [f"patterns: a stored id cannot be read ({exc})"]
    location_problem = _unreadable_location(conn)
    for start in range(0, len(ids), _CHUNK):
        try:
            patterns.load_patterns(
                conn, ids[start : start + _CHUNK], with_locations=location_problem is not None
            )
        except DAMAGED_DATA as exc:
            problems.append(
                f"patterns {ids[start]!r} and the next {_CHUNK - 1}: stored data cannot be read ({exc})"
            )
    if location_problem is not None and not problems:  # a row of no pattern (see foreign keys)
        problems.append(f"pattern_locations: stored data cannot be read ({location_problem})")
    for table, load in (
        ("pattern_history", history.read),
        ("pattern_variants", variants.list_variants),
        ("pattern_examples", examples.list_examples),
    ):
        try:
            load(conn)
        except DAMAGED_DATA as exc:
            problems.append(f"{table}: stored data cannot be read ({exc})")
    return problems


def stale_totals(conn: apsw.Connection | apsw.Cursor) -> list[str]:
    """Where the running totals behind `status` (pattern_stats, kept by triggers) disagree
    with the patterns themselves: derived rows that no SQLite check compares."""
    if not conn.execute(
        "SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = 'pattern_stats'"
    ).fetchall():
        return []
    counted = {
        tuple(row[:3]): row[3:]
        for row in conn.execute(
            "SELECT status, category, COALESCE(confidence_level, 'uncertain'), count(*), "
            "sum(location_count), sum(outlier_count), total(confidence_score) "
            "FROM patterns GROUP BY 1, 2, 3"
        )
    }
    kept = {
        tuple(row[:3]): row[3:]
        for row in conn.execute(
            "SELECT status, category, confidence_level, patterns, locations, outliers, "
            "score_sum FROM pattern_stats WHERE patterns != 0"
        )
    }
    problems = []
    for key in sorted(set(counted) | set(kept), key=repr):
        have, want = kept.get(key), counted.get(key)
        if (
            have is None
            or want is None
            or have[:3] != want[:3]
            or abs(have[3] - want[3]) > 1e-6 * max(1, want[0])
        ):
            problems.append(
                f"pattern_stats {'/'.join(map(str, key))}: totals {have} but the patterns "
                f"give {want}; the status summary is wrong until the store is restored"
            )
    return problems
