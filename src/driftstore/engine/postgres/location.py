"""Where a PostgreSQL store lives: a project in a database (URL + project name)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg
from psycopg_pool import ConnectionPool

from driftstore.engine.base import MigrationHook, SnapshotInfo, StoreLocation
from driftstore.engine.postgres.address import check_project, redact
from driftstore.engine.postgres.engine import PostgresEngine, translate
from driftstore.engine.postgres.schema import MIGRATIONS, SCHEMA_LOCK, SCHEMA_VERSION
from driftstore.errors import DriftStoreError, Remedy, SchemaTooNewError, StoreNotFoundError
from driftstore.model.clock import now_iso

_VERSION_TABLE = """
CREATE TABLE IF NOT EXISTS driftstore_schema (
  version INTEGER PRIMARY KEY,
  description TEXT NOT NULL,
  applied_at TEXT NOT NULL
)
"""
POOL_SIZE = 8


def _schema_version(conn: psycopg.Connection[Any]) -> int:
    found = conn.execute("SELECT to_regclass('driftstore_schema')").fetchone()
    if found is None or found[0] is None:
        return 0
    row = conn.execute("SELECT max(version) FROM driftstore_schema").fetchone()
    return 0 if row is None or row[0] is None else int(row[0])


class PostgresLocation(StoreLocation):
    def __init__(self, url: str, project: str) -> None:
        self.url = url
        self.project = check_project(project)

    def describe(self) -> str:
        return f"{redact(self.url)} (project {self.project})"

    def _connect(self) -> psycopg.Connection[Any]:
        try:
            return psycopg.connect(self.url, connect_timeout=10)
        except psycopg.Error as exc:
            raise translate(exc, self.url, self.project) from None

    def exists(self) -> bool:
        with self._connect() as conn:
            if _schema_version(conn) == 0:
                return False
            row = conn.execute(
                "SELECT 1 FROM driftstore_projects WHERE project = %s", (self.project,)
            ).fetchone()
            return row is not None

    def open(self, *, create: bool, on_migration: MigrationHook | None) -> PostgresEngine:
        try:
            with self._connect() as conn:
                server = str(conn.info.parameter_status("server_version") or "").split()[0]
                self._upgrade(conn, on_migration)
                with conn.transaction():
                    row = conn.execute(
                        "SELECT 1 FROM driftstore_projects WHERE project = %s", (self.project,)
                    ).fetchone()
                    if row is None:
                        if not create:
                            raise StoreNotFoundError(
                                f"{self.describe()}: no such project yet",
                                remedy=Remedy.CREATE_STORE,
                            )
                        conn.execute(
                            "INSERT INTO driftstore_projects (project, created_at) VALUES (%s, %s) "
                            "ON CONFLICT (project) DO NOTHING",
                            (self.project, now_iso()),
                        )
            pool = ConnectionPool(
                self.url,
                min_size=1,
                max_size=POOL_SIZE,
                open=True,
                timeout=30,
                kwargs={"connect_timeout": 10},
                name=f"driftstore-{self.project}",
            )
        except psycopg.Error as exc:
            raise translate(exc, self.url, self.project) from None
        return PostgresEngine(self.url, self.project, pool, server)

    def _upgrade(self, conn: psycopg.Connection[Any], on_migration: MigrationHook | None) -> None:
        """Create or upgrade the database's schema, one migration per transaction, under an
        advisory lock (two processes creating the first project take turns)."""
        version = _schema_version(conn)
        if version > SCHEMA_VERSION:
            raise SchemaTooNewError(
                f"{redact(self.url)}: the database is at driftstore schema {version}, newer than "
                f"this driftstore's {SCHEMA_VERSION}; upgrade driftstore to open it",
                remedy=Remedy.UPGRADE,
            )
        if version == SCHEMA_VERSION:
            return
        conn.execute("SELECT pg_advisory_lock(%s)", (SCHEMA_LOCK,))
        try:
            with conn.transaction():
                conn.execute(_VERSION_TABLE)
            version = _schema_version(conn)
            if 0 < version < SCHEMA_VERSION and on_migration is not None:
                on_migration(version, SCHEMA_VERSION, self._snapshot_hook())
            for migration in MIGRATIONS:
                if migration.version <= version:
                    continue
                with conn.transaction(), conn.cursor() as cur:
                    migration.apply(cur)
                    cur.execute(
                        "INSERT INTO driftstore_schema (version, description, applied_at) "
                        "VALUES (%s, %s, %s)",
                        (migration.version, migration.description, now_iso()),
                    )
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", (SCHEMA_LOCK,))

    def _snapshot_hook(self) -> Callable[[Path], SnapshotInfo]:
        def take(target: Path) -> SnapshotInfo:
            from driftstore.engine.postgres.transfer import write_snapshot

            with psycopg.connect(self.url) as conn:
                conn.read_only = True
                conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
                with conn.transaction():
                    return write_snapshot(conn, self.project, target)

        return take

    def check_snapshot(
        self, snapshot: Path, *, thorough: bool = False, label: str | None = None
    ) -> SnapshotInfo:
        from driftstore.engine.sqlite.snapshot import check_snapshot

        return check_snapshot(snapshot, thorough=thorough, label=label)

    def replace_unopenable(self, snapshot: Path, aside: Path) -> str | None:
        raise DriftStoreError(
            f"{self.describe()}: a PostgreSQL project is restored in place; run "
            "'driftstore backup restore' with the server up"
        )


def list_projects(url: str) -> list[tuple[str, int, int, int, int]]:
    """(project, patterns, locations, outliers, history rows) of every project in the
    database."""
    try:
        with psycopg.connect(url, connect_timeout=10) as conn:
            if _schema_version(conn) == 0:
                return []
            return [
                (r[0], int(r[1]), int(r[2]), int(r[3]), int(r[4]))
                for r in conn.execute(
                    "SELECT p.project, "
                    "(SELECT count(*) FROM patterns t WHERE t.project = p.project), "
                    "(SELECT count(*) FROM pattern_locations t "
                    " WHERE t.project = p.project AND t.list_kind = 0), "
                    "(SELECT count(*) FROM pattern_locations t "
                    " WHERE t.project = p.project AND t.list_kind = 1), "
                    "(SELECT count(*) FROM pattern_history t WHERE t.project = p.project) "
                    'FROM driftstore_projects p ORDER BY p.project COLLATE "C"'
                )
            ]
    except psycopg.Error as exc:
        raise translate(exc, url, "*") from None
