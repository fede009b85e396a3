"""SQL that export, import, migrate and verify need beyond pattern CRUD.

- `export_state`: per (category, layout, status) the checksum and `lastUpdated` of the last
  export, so a file's timestamp moves only when its content did.
- `store_meta` rows `legacy-file:{status}/{category}`: top-level keys of a drift 0.9 file
  beyond the usual five, kept for a faithful v1 re-export.
- `patterns.layout`: the per-pattern record of how a legacy entry looked.
- SQLite's own integrity checks.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import apsw

from driftstore.engine import examples, history, patterns, variants
from driftstore.engine.errors import DAMAGED_DATA
from driftstore.engine.rows import LOCATION_SELECT, PATTERN_SELECT, row_to_location, row_to_pattern
from driftstore.model.pattern import Location, Pattern

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


def delete_state(cur: apsw.Cursor, category: str, layout: str, status: str) -> None:
    cur.execute(
        "DELETE FROM export_state WHERE category = ? AND layout = ? AND status = ?",
        (category, layout, status),
    )


def read_meta(conn: apsw.Connection | apsw.Cursor, prefix: str) -> dict[str, str]:
    """store_meta rows whose key starts with `prefix`, keyed by the rest of the key."""
    return {
        row[0][len(prefix) :]: row[1]
        for row in conn.execute(
            "SELECT key, value FROM store_meta WHERE substr(key, 1, ?) = ?",
            (len(prefix), prefix),
        )
    }


def write_meta(cur: apsw.Cursor, key: str, value: str | None) -> None:
    if value is None:
        cur.execute("DELETE FROM store_meta WHERE key = ?", (key,))
    else:
        cur.execute(
            "INSERT INTO store_meta (key, value) VALUES (?, ?) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (key, value),
        )


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


def integrity_problems(conn: apsw.Connection | apsw.Cursor) -> list[str]:
    """What `PRAGMA integrity_check` and `foreign_key_check` find (empty when healthy)."""
    problems = [
        str(row[0]) for row in conn.execute("PRAGMA integrity_check") if str(row[0]) != "ok"
    ]
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


def unreadable_rows(conn: apsw.Connection | apsw.Cursor) -> list[str]:
    """Rows SQLite's checks pass but driftstore cannot read back: text that is not UTF-8,
    stored JSON that does not parse, a status or severity driftstore never writes. Every
    row goes through the same decoding a read does (patterns in chunks), so verify fails
    wherever a read would."""
    problems: list[str] = []
    try:
        ids = [row[0] for row in conn.execute("SELECT id FROM patterns ORDER BY id")]
    except DAMAGED_DATA as exc:
        return [f"patterns: a stored id cannot be read ({exc})"]
    for start in range(0, len(ids), _CHUNK):
        try:
            patterns.load_patterns(conn, ids[start : start + _CHUNK])
        except DAMAGED_DATA as exc:
            problems.append(
                f"patterns {ids[start]!r} and the next {_CHUNK - 1}: stored data cannot be read ({exc})"
            )
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
