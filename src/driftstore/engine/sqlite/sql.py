"""Small typed helpers over apsw for single-value reads."""

from __future__ import annotations

from typing import Any

import apsw


def one(
    conn: apsw.Connection | apsw.Cursor, sql: str, params: tuple[Any, ...] = ()
) -> tuple[Any, ...]:
    """The first row of a query that always returns one (an aggregate, a pragma)."""
    row = conn.execute(sql, params).fetchone()
    if row is None:
        raise LookupError(f"query returned no row: {sql}")
    return tuple(row)


def scalar(conn: apsw.Connection | apsw.Cursor, sql: str, params: tuple[Any, ...] = ()) -> Any:
    return one(conn, sql, params)[0]
