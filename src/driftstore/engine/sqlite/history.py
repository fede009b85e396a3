"""The pattern_history table: one row per change, written inside the change's transaction."""

from __future__ import annotations

from typing import Any

import apsw
import msgspec

from driftstore.engine import digests
from driftstore.engine.base import HistoryRow
from driftstore.engine.records import history_entry_of
from driftstore.model.enums import HistoryAction
from driftstore.model.records import HistoryEntry

#: rows from `history_row`, which carry their digest (`engine.integrity`) last
INSERT_HISTORY = (
    "INSERT INTO pattern_history (pattern_id, action, old_value, new_value, created_at, "
    "changed_by, reason, row_digest) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
)


def _json(value: dict[str, Any] | None) -> str | None:
    return None if value is None else msgspec.json.encode(value).decode()


def history_row(
    pattern_id: str,
    action: HistoryAction,
    old: dict[str, Any] | None,
    new: dict[str, Any] | None,
    *,
    at: str,
    by: str | None = None,
    reason: str | None = None,
) -> tuple[Any, ...]:
    row = (pattern_id, action.value, _json(old), _json(new), at, by, reason)
    return (*row, digests.row_digest("pattern_history", row))


def record(
    cur: apsw.Cursor,
    pattern_id: str,
    action: HistoryAction,
    old: dict[str, Any] | None,
    new: dict[str, Any] | None,
    *,
    at: str,
    by: str | None = None,
    reason: str | None = None,
) -> None:
    cur.execute(
        INSERT_HISTORY, history_row(pattern_id, action, old, new, at=at, by=by, reason=reason)
    )


def read(
    conn: apsw.Connection | apsw.Cursor,
    pattern_id: str | None = None,
    *,
    since: str | None = None,
    until: str | None = None,
    limit: int | None = None,
    before_id: int | None = None,
    oldest_first: bool = False,
) -> list[HistoryEntry]:
    """Newest first (or oldest first); each row checked against its digest."""
    clauses: list[str] = []
    params: list[Any] = []
    if pattern_id is not None:
        clauses.append("pattern_id = ?")
        params.append(pattern_id)
    if since is not None:
        clauses.append("created_at >= ?")
        params.append(since)
    if until is not None:
        clauses.append("created_at < ?")
        params.append(until)
    if before_id is not None:
        clauses.append("id < ?")
        params.append(before_id)
    where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
    order = "ASC" if oldest_first else "DESC"
    sql = (
        "SELECT id, pattern_id, action, old_value, new_value, created_at, changed_by, reason, "
        f"row_digest FROM pattern_history {where} ORDER BY id {order}"
    )
    if limit is not None:
        sql += " LIMIT ?"
        params.append(limit)
    return [history_entry_of(row) for row in conn.execute(sql, tuple(params))]


def read_rows(
    conn: apsw.Connection | apsw.Cursor,
    pattern_id: str | None = None,
    *,
    until: str | None = None,
) -> list[HistoryRow]:
    """Oldest first, digests checked, JSON left as text (time travel decodes what it needs)."""
    clauses: list[str] = []
    params: list[Any] = []
    if pattern_id is not None:
        clauses.append("pattern_id = ?")
        params.append(pattern_id)
    if until is not None:
        clauses.append("created_at < ?")
        params.append(until)
    where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
    check = digests.check_row
    rows: list[HistoryRow] = []
    for row in conn.execute(
        "SELECT id, pattern_id, action, old_value, new_value, created_at, changed_by, reason, "
        f"row_digest FROM pattern_history {where} ORDER BY id",
        tuple(params),
    ):
        check("pattern_history", row[0], row[1:8], row[8])
        rows.append(HistoryRow(*row[:8]))
    return rows
