"""One `EngineKit` per engine the contract suite runs against: the only engine-specific code
in the suite (a new engine adds one entry to `KITS`).

A kit knows how to place a fresh store in a folder, and the few things the contract needs
that the interface rightly cannot do: change a stored value behind the engine's back, count
the raw rows of a table, read a pattern row's creation and update stamps.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import apsw

from driftstore.engine.base import Engine, StoreLocation
from driftstore.engine.sqlite.engine import SqliteEngine
from driftstore.engine.sqlite.location import SqliteLocation
from tests import pg_server

#: the pattern columns `raw_stamp` is asked about
PATTERN_STAMPS = ("created_at", "updated_at")
#: the tables `raw_count` is asked about, by their logical names
TABLES = (
    "patterns",
    "pattern_locations",
    "pattern_variants",
    "pattern_examples",
    "pattern_history",
)


@dataclass(frozen=True)
class EngineKit:
    """What the contract suite needs to know of one engine."""

    #: the test id (`test_x[sqlite]`)
    name: str
    #: the store of a folder, not yet created: the same folder gives the same store, in
    #: this process and in another one (the generation tests open it from a subprocess)
    locate: Callable[[Path], StoreLocation]
    #: change one stored value of the pattern's row behind the engine's back (raw SQL,
    #: committed), so its digest no longer matches
    damage_value: Callable[[Engine, str], None]
    #: the number of rows in one of TABLES, counted behind the engine's back
    raw_count: Callable[[Engine, str], int]
    #: one of PATTERN_STAMPS of a stored pattern row, read behind the engine's back (the
    #: seed schema's created_at/updated_at, which no Reader method returns)
    raw_stamp: Callable[[Engine, str, str], str | None]
    #: a password `locate` puts in the store's address, which no message may show (None:
    #: the engine has no secrets, as a SQLite file)
    secret: str | None = None
    #: entered once per test session before the first store is made (a server to start,
    #: a scratch database to create); the default needs nothing
    serve: Callable[[], AbstractContextManager[None]] = nullcontext


# --- SQLite ------------------------------------------------------------------------------
def _sqlite_file(engine: Engine) -> Path:
    assert isinstance(engine, SqliteEngine), "the SQLite kit got another engine"
    return engine.path


def _sqlite_damage(engine: Engine, pattern_id: str) -> None:
    conn = apsw.Connection(str(_sqlite_file(engine)))
    try:
        conn.set_busy_timeout(5_000)
        conn.execute("UPDATE patterns SET name = name || ' (edited)' WHERE id = ?", (pattern_id,))
        assert conn.changes() == 1, f"no pattern {pattern_id!r} to damage"
    finally:
        conn.close()


def _sqlite_count(engine: Engine, table: str) -> int:
    assert table in TABLES, table
    conn = apsw.Connection(str(_sqlite_file(engine)), flags=apsw.SQLITE_OPEN_READONLY)
    try:
        return int(conn.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0])
    finally:
        conn.close()


def _sqlite_stamp(engine: Engine, pattern_id: str, column: str) -> str | None:
    assert column in PATTERN_STAMPS, column
    conn = apsw.Connection(str(_sqlite_file(engine)), flags=apsw.SQLITE_OPEN_READONLY)
    try:
        rows = conn.execute(f"SELECT {column} FROM patterns WHERE id = ?", (pattern_id,)).fetchall()
    finally:
        conn.close()
    assert len(rows) == 1, f"no pattern {pattern_id!r}"
    return None if rows[0][0] is None else str(rows[0][0])


SQLITE = EngineKit(
    name="sqlite",
    locate=lambda folder: SqliteLocation(folder / ".drift"),
    damage_value=_sqlite_damage,
    raw_count=_sqlite_count,
    raw_stamp=_sqlite_stamp,
)

# --- PostgreSQL ----------------------------------------------------------------------------
#: what `locate` puts in each URL as a password: the test server trusts local connections,
#: so it is never sent, but every message must still leave it out
PG_SECRET = "pg-s3cret-Word"


def _pg_url() -> str:
    """The test server's URL with the secret as its password (set by `_pg_serve`)."""
    url = os.environ[pg_server.ENV_URL]
    scheme, rest = url.split("://", 1)
    user, _, host = rest.partition("@")
    if not _:
        user, host = "postgres", rest
    return f"{scheme}://{user.split(':')[0]}:{PG_SECRET}@{host}"


def _pg_project(folder: Path) -> str:
    import xxhash

    return "t-" + xxhash.xxh3_64_hexdigest(str(folder.resolve()).encode())


@contextmanager
def _pg_serve() -> Iterator[None]:
    with pg_server.server() as url:
        before = os.environ.get(pg_server.ENV_URL)
        os.environ[pg_server.ENV_URL] = url  # worker subprocesses find it there too
        try:
            yield
        finally:
            if before is None:
                os.environ.pop(pg_server.ENV_URL, None)


def _pg_locate(folder: Path) -> StoreLocation:
    from driftstore.engine.postgres.location import PostgresLocation

    return PostgresLocation(_pg_url(), _pg_project(folder))


def _pg_raw(engine: Engine) -> tuple[Any, str]:
    from driftstore.engine.postgres.engine import PostgresEngine

    assert isinstance(engine, PostgresEngine), "the PostgreSQL kit got another engine"
    import psycopg

    return psycopg.connect(engine.url, autocommit=True), engine.project


def _pg_damage(engine: Engine, pattern_id: str) -> None:
    conn, project = _pg_raw(engine)
    with conn:
        done = conn.execute(
            "UPDATE patterns SET name = name || ' (edited)' WHERE project = %s AND id = %s",
            (project, pattern_id),
        )
        assert done.rowcount == 1, f"no pattern {pattern_id!r} to damage"


def _pg_count(engine: Engine, table: str) -> int:
    assert table in TABLES, table
    conn, project = _pg_raw(engine)
    with conn:
        row = conn.execute(f"SELECT count(*) FROM {table} WHERE project = %s", (project,))
        return int(row.fetchone()[0])


def _pg_stamp(engine: Engine, pattern_id: str, column: str) -> str | None:
    assert column in PATTERN_STAMPS, column
    conn, project = _pg_raw(engine)
    with conn:
        rows = conn.execute(
            f"SELECT {column} FROM patterns WHERE project = %s AND id = %s", (project, pattern_id)
        ).fetchall()
    assert len(rows) == 1, f"no pattern {pattern_id!r}"
    return None if rows[0][0] is None else str(rows[0][0])


POSTGRESQL = EngineKit(
    name="postgresql",
    locate=_pg_locate,
    damage_value=_pg_damage,
    raw_count=_pg_count,
    raw_stamp=_pg_stamp,
    secret=PG_SECRET,
    serve=_pg_serve,
)

#: every engine the contract runs against
KITS: tuple[EngineKit, ...] = (SQLITE, POSTGRESQL)


def kit_named(name: str) -> EngineKit:
    for kit in KITS:
        if kit.name == name:
            return kit
    raise LookupError(f"no engine kit named {name!r}")
