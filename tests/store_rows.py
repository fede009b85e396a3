"""The raw rows of one store's table, on either engine (PostgreSQL: the store's project
only, without the project column), for tests that compare a store before and after."""

from __future__ import annotations

from typing import Any

from driftstore import PatternStore
from driftstore.engine.sqlite.engine import SqliteEngine


def table_rows(store: PatternStore, table: str) -> list[tuple[Any, ...]]:
    engine = store.engine
    if isinstance(engine, SqliteEngine):
        with engine.db.reader() as conn:
            return [tuple(row) for row in conn.execute(f"SELECT * FROM {table} ORDER BY 1")]
    from driftstore.engine.postgres.engine import PostgresEngine

    assert isinstance(engine, PostgresEngine)
    with engine.pool.connection() as conn:
        found = conn.execute(
            f"SELECT * FROM {table} WHERE project = %s ORDER BY 2", (engine.project,)
        ).fetchall()
    return [tuple(row[1:]) for row in found]
