"""Rows in and out of a snapshot file (a SQLite database in driftstore's schema, what every
backup archive holds), for an engine that keeps its data elsewhere: PostgreSQL writes its
project's rows into one for a backup or a copy, and loads one back."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import apsw


class SnapshotFiller:
    """Inserts into a new snapshot file inside one transaction."""

    def __init__(self, conn: apsw.Connection) -> None:
        self._conn = conn

    def keep_meta(self, keys: Sequence[str]) -> None:
        """Drop the meta rows a new store writes, except `keys`."""
        marks = ", ".join("?" * len(keys))
        self._conn.execute(f"DELETE FROM store_meta WHERE key NOT IN ({marks})", tuple(keys))

    def insert(self, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
        names, marks = ", ".join(columns), ", ".join("?" * len(columns))
        self._conn.executemany(f"INSERT INTO {table} ({names}) VALUES ({marks})", rows)


@contextmanager
def new_snapshot(target: Path) -> Iterator[SnapshotFiller]:
    """A new snapshot file at `target` (the current schema), filled in one transaction that
    commits when the block ends normally."""
    from driftstore.engine.sqlite.connection import Database

    Database(target).close()
    conn = apsw.Connection(str(target))
    try:
        conn.execute("PRAGMA journal_mode = OFF")
        conn.execute("PRAGMA synchronous = OFF")
        conn.execute("BEGIN")
        yield SnapshotFiller(conn)
        conn.execute("COMMIT")
        conn.execute("PRAGMA journal_mode = DELETE")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    finally:
        conn.close()


@contextmanager
def snapshot_reader(snapshot: Path) -> Iterator[SnapshotRows]:
    """A snapshot file opened read-only, its rows read in one transaction."""
    conn = apsw.Connection(str(snapshot), flags=apsw.SQLITE_OPEN_READONLY)
    try:
        conn.execute("BEGIN")
        yield SnapshotRows(conn)
        conn.execute("COMMIT")
    finally:
        conn.close()


class SnapshotRows:
    def __init__(self, conn: apsw.Connection) -> None:
        self._conn = conn

    def rows(self, table: str, columns: Sequence[str]) -> Iterator[tuple[Any, ...]]:
        """The table's rows, those columns, in key order."""
        for row in self._conn.execute(f"SELECT {', '.join(columns)} FROM {table} ORDER BY 1"):
            yield tuple(row)
