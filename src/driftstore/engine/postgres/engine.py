"""`PostgresEngine`: one project of a PostgreSQL database behind the engine interface.

- A connection pool (psycopg_pool) serves reads and writes; a read is one REPEATABLE READ,
  READ ONLY transaction (one snapshot: a reader never sees half a scan), a write one
  transaction that first takes its project's row lock (writers of a project take turns,
  waiting at most `lock_timeout`, then one clear line).
- The generation comes from LISTEN/NOTIFY: a listener thread hears every commit of the
  project (from any process or machine) and `generation()` answers from memory; without
  a live listener it asks the database.
- Backups: `snapshot_to` writes the project's rows into a SQLite snapshot file (the same
  archive format a SQLite store writes) from one snapshot; `restore_from` replaces the
  project's rows by a snapshot's in one transaction (`engine.postgres.transfer`).
"""

from __future__ import annotations

import os
import threading
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg
from psycopg_pool import ConnectionPool

from driftstore.engine.base import Engine, EngineInfo, Reader, SnapshotInfo, Writer
from driftstore.engine.postgres.address import redact, scrub
from driftstore.engine.postgres.reader import PgReader
from driftstore.engine.postgres.schema import SCHEMA_VERSION
from driftstore.engine.postgres.writer import PgWriter, channel
from driftstore.errors import DriftStoreError, IntegrityError, InvalidInputError, StoreBusyError
from driftstore.model.clock import now_iso

#: how long a write waits for another write of the same project before giving up (seconds;
#: DRIFTSTORE_LOCK_WAIT overrides it, e.g. longer for CI runners queueing behind a scan)
LOCK_TIMEOUT_S = 60
LOCK_WAIT_ENV = "DRIFTSTORE_LOCK_WAIT"


def lock_wait() -> float:
    given = os.environ.get(LOCK_WAIT_ENV, "")
    try:
        value = float(given) if given else LOCK_TIMEOUT_S
    except ValueError:
        raise InvalidInputError(
            f"{LOCK_WAIT_ENV}={given[:20]!r} is not a number of seconds; set it to e.g. 60"
        ) from None
    if not 0 < value <= 86400:
        raise InvalidInputError(f"{LOCK_WAIT_ENV} must be between 0 and 86400 seconds")
    return value


def translate(exc: psycopg.Error, url: str, project: str) -> DriftStoreError:
    """A driver error as one line without secrets."""
    text = scrub(" ".join(str(exc).split()), url)
    if isinstance(exc, psycopg.errors.LockNotAvailable):
        return StoreBusyError(
            f"project {project!r}: another write held it for {lock_wait():g} s (a long scan?); "
            f"try again when it is done, or wait longer with {LOCK_WAIT_ENV}=SECONDS"
        )
    if isinstance(
        exc, psycopg.errors.UntranslatableCharacter | psycopg.errors.CharacterNotInRepertoire
    ):
        return InvalidInputError(f"PostgreSQL cannot store this text: {text}")
    if isinstance(exc, psycopg.DataError) and "NUL" in text:
        return InvalidInputError(
            f"project {project!r}: the input holds a NUL character (\\u0000), which PostgreSQL "
            "cannot store in text; remove it (nothing was stored)"
        )
    if isinstance(exc, psycopg.OperationalError):
        return DriftStoreError(f"{redact(url)}: {text}; check that the server is up and reachable")
    if isinstance(exc, psycopg.errors.DataCorrupted | psycopg.errors.IndexCorrupted):
        return IntegrityError(f"{redact(url)}: {text}")
    return DriftStoreError(f"{redact(url)} (project {project!r}): {text}")


#: the open engines of this process by (URL, project): a commit by one tells the others at
#: once, so two stores of one process agree without waiting for the notification
_PEERS: dict[tuple[str, str], weakref.WeakSet[PostgresEngine]] = {}
_PEERS_LOCK = threading.Lock()


class PostgresEngine(Engine):
    def __init__(self, url: str, project: str, pool: ConnectionPool, server_version: str) -> None:
        self.url = url
        self.project = project
        self.pool = pool
        self.server_version = server_version
        self._local = threading.local()
        self._generation: int | None = None
        self._lock = threading.Lock()
        self._listener: threading.Thread | None = None
        self._listening = threading.Event()
        self._stop = threading.Event()
        self._listen_conn: psycopg.Connection[Any] | None = None
        with _PEERS_LOCK:
            _PEERS.setdefault((url, project), weakref.WeakSet()).add(self)
        self._start_listener()

    def info(self) -> EngineInfo:
        return EngineInfo(
            kind="postgresql",
            location=redact(self.url),
            server_version=self.server_version,
            schema_version=SCHEMA_VERSION,
            project=self.project,
        )

    # --- units of work ---------------------------------------------------------------------
    @contextmanager
    def read(self) -> Iterator[Reader]:
        try:
            with self.pool.connection() as conn:
                conn.read_only = True
                conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
                try:
                    with conn.transaction():
                        yield PgReader(conn, self.project)
                finally:
                    conn.read_only = False
                    conn.isolation_level = None
        except psycopg.Error as exc:
            raise translate(exc, self.url, self.project) from None

    @contextmanager
    def write(self) -> Iterator[Writer]:
        active: PgWriter | None = getattr(self._local, "writer", None)
        if active is not None:
            yield active
            return
        generation = None
        try:
            with self.pool.connection() as conn, conn.transaction():
                wait_ms = int(lock_wait() * 1000)
                conn.execute(f"SET LOCAL lock_timeout = {wait_ms}")
                found = conn.execute(
                    "SELECT generation FROM driftstore_projects WHERE project = %s FOR UPDATE",
                    (self.project,),
                ).fetchone()
                if found is None:
                    raise DriftStoreError(
                        f"project {self.project!r} is no longer in {redact(self.url)}"
                    )
                writer = PgWriter(conn, self.project, now_iso())
                self._local.writer = writer
                try:
                    yield writer
                    generation = writer.finish()
                finally:
                    self._local.writer = None
        except psycopg.Error as exc:
            raise translate(exc, self.url, self.project) from None
        if generation is not None:
            with _PEERS_LOCK:
                peers = list(_PEERS.get((self.url, self.project), ()))
            for engine in peers:
                engine._heard(generation)

    def _heard(self, generation: int) -> None:
        with self._lock:
            self._generation = max(self._generation or 0, generation)

    # --- the change signal ----------------------------------------------------------------
    def _start_listener(self) -> None:
        def run() -> None:
            while not self._stop.is_set():
                try:
                    with psycopg.connect(self.url, autocommit=True) as conn:
                        self._listen_conn = conn
                        conn.execute(f"LISTEN {channel(self.project)}")
                        with self._lock:  # anything committed before LISTEN: read it now
                            self._generation = self._ask()
                        self._listening.set()
                        for note in conn.notifies():
                            if self._stop.is_set():
                                break
                            with self._lock:
                                self._generation = max(self._generation or 0, int(note.payload))
                except (psycopg.Error, ValueError):
                    pass
                finally:
                    self._listening.clear()
                    self._listen_conn = None
                if not self._stop.wait(0.5):
                    continue

        self._listener = threading.Thread(target=run, name="driftstore-pg-listen", daemon=True)
        self._listener.start()
        self._listening.wait(timeout=5)

    def _ask(self) -> int:
        with self.pool.connection() as conn:
            row = conn.execute(
                "SELECT generation FROM driftstore_projects WHERE project = %s", (self.project,)
            ).fetchone()
        return 0 if row is None else int(row[0])

    def generation(self) -> int:
        if self._listening.is_set() and self._generation is not None:
            return self._generation
        try:
            value = self._ask()
        except psycopg.Error as exc:
            raise translate(exc, self.url, self.project) from None
        with self._lock:
            self._generation = (
                max(self._generation or 0, value) if self._listening.is_set() else value
            )
        return value

    # --- snapshots --------------------------------------------------------------------------
    def snapshot_to(
        self, target: Path, *, on_step: Callable[[int, int], None] | None = None
    ) -> SnapshotInfo:
        from driftstore.engine.postgres.transfer import write_snapshot

        try:
            with self.pool.connection() as conn:
                conn.read_only = True
                conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
                try:
                    with conn.transaction():
                        return write_snapshot(conn, self.project, target, on_step=on_step)
                finally:
                    conn.read_only = False
                    conn.isolation_level = None
        except psycopg.Error as exc:
            raise translate(exc, self.url, self.project) from None

    def restore_from(
        self,
        snapshot: Path,
        *,
        label: str,
        thorough: bool,
        save_current: Callable[[], str],
        discard: Callable[[str], None],
    ) -> str:
        from driftstore.engine.postgres.transfer import load_snapshot
        from driftstore.engine.sqlite.snapshot import check_snapshot

        check_snapshot(snapshot, thorough=thorough, label=label)
        before = self._ask()
        saved = save_current()
        with self.write() as w:
            assert isinstance(w, PgWriter)
            if w.generation() != before:  # a write landed after the archive began
                discard(saved)
                saved = save_current()  # this project's lock is held: nothing else commits
            try:
                load_snapshot(w.conn, self.project, snapshot)
            except psycopg.Error as exc:
                raise translate(exc, self.url, self.project) from None
            w.dirty = True
            w.reset_log = True
        return saved

    # --- checks and the end -------------------------------------------------------------------
    def check_integrity(self) -> list[str]:
        """PostgreSQL keeps page checksums and enforces the foreign keys; what is left to
        ask is whether every project row still has its pattern."""
        problems: list[str] = []
        with self.read() as r:
            assert isinstance(r, PgReader)
            for table in ("pattern_locations", "pattern_variants", "pattern_examples"):
                row = r._one(
                    f"SELECT count(*) FROM {table} c WHERE c.project = %s AND NOT EXISTS "
                    "(SELECT 1 FROM patterns p WHERE p.project = c.project AND p.id = c.pattern_id)",
                    (self.project,),
                )
                if row[0]:
                    problems.append(f"{table}: {row[0]} rows point at a missing pattern")
        return problems

    def close(self) -> None:
        with _PEERS_LOCK:
            _PEERS.get((self.url, self.project), weakref.WeakSet()).discard(self)
        self._stop.set()
        conn = self._listen_conn
        if conn is not None:
            try:
                with psycopg.connect(self.url, autocommit=True) as poke:
                    poke.execute("SELECT pg_notify(%s, %s)", (channel(self.project), "0"))
            except psycopg.Error:
                pass
        if self._listener is not None:
            self._listener.join(timeout=5)
        self.pool.close()
