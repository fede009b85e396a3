"""The SQLite connections: one writer, a pool of read-only readers, the pragmas they share.

Rules (design.md): WAL, foreign keys on, synchronous=NORMAL, a busy timeout and
BEGIN IMMEDIATE for writes. The writer is guarded by a lock so threads of one process take
turns; other processes wait on SQLite's own lock through the busy timeout. Readers run in
WAL snapshots, so they never see half of a write.
"""

from __future__ import annotations

import os
import queue
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any
from urllib.parse import quote

import apsw

from driftstore.engine.damage import DAMAGED_DATA, damaged
from driftstore.engine.sqlite.errors import translate
from driftstore.engine.sqlite.migrations import MIGRATIONS, SCHEMA_VERSION
from driftstore.engine.sqlite.schema import APPLICATION_ID, SEED_TABLES
from driftstore.engine.sqlite.sql import scalar
from driftstore.errors import (
    DriftStoreError,
    IntegrityError,
    NotADriftStoreError,
    ReadOnlyStoreError,
    Remedy,
    SchemaTooNewError,
)

SQLITE_HEADER = b"SQLite format 3\x00"
DEFAULT_BUSY_TIMEOUT_MS = 10_000
READER_POOL_SIZE = 4
#: WAL pages after a commit that start a checkpoint (SQLite's own threshold). It runs in a
#: thread and connection of its own, so the commit that crossed it does not wait for it
#: (benchmarks/NOTES.md)
CHECKPOINT_PAGES = 1000

#: commits made, and read snapshots begun, through any Database of this process, by resolved
#: file path. Caches in this process (the by-file index) compare it on every ask, a dict
#: lookup where asking SQLite (`PRAGMA data_version`) costs microseconds: a commit here
#: must be seen at once, and so must anything a read here may already have seen (a thread
#: that read a pattern must not then get an older answer from the cache)
_local_marks: dict[str, int] = {}


def _check_file(path: Path) -> bool:
    """Refuse a file that is not SQLite before SQLite touches it. Returns True if new."""
    if not path.exists() or path.stat().st_size == 0:
        return True
    size = path.stat().st_size
    with path.open("rb") as handle:
        header = handle.read(100)
    if header[: len(SQLITE_HEADER)] != SQLITE_HEADER:
        raise NotADriftStoreError(
            f"{path}: not a SQLite database (it was left untouched); move it aside, or restore a "
            "backup",
            remedy=Remedy.RESTORE_BACKUP,
            path=str(path),
        )
    # SQLite writes whole pages only, and reads a missing tail of a page as zeros without
    # a word: a size that is not a whole number of pages is a truncated file
    page_size = int.from_bytes(header[16:18], "big") if len(header) == 100 else 0
    page_size = 65536 if page_size == 1 else page_size
    if not page_size or size % page_size:
        raise IntegrityError(
            f"{path}: the database file is truncated ({size} bytes is not a whole number of "
            f"{page_size or 'its'}-byte pages; it was left untouched); restore a backup",
            remedy=Remedy.RESTORE_BACKUP,
            path=str(path),
        )
    return False


def _writable(path: Path) -> bool:
    """Whether this process may write the database file, its folder, and any -wal/-shm
    file beside it (a WAL database needs all of them, even to read)."""
    sidecars = [path.with_name(path.name + s) for s in ("-wal", "-shm")]
    return (
        os.access(path, os.W_OK)
        and os.access(path.parent, os.W_OK)
        and all(os.access(p, os.W_OK) for p in sidecars if p.exists())
    )


def _configure(conn: apsw.Connection, busy_timeout_ms: int) -> None:
    conn.set_busy_timeout(busy_timeout_ms)
    conn.execute("PRAGMA foreign_keys = ON")
    conn.execute("PRAGMA synchronous = NORMAL")
    # temp_store stays FILE (the default) on the writer and the cache at 32 MiB: the sort
    # of an index build after a bulk load then spills to temp files in the OS cache rather
    # than the process heap (half the peak RSS of an M ingest, same speed: benchmarks/NOTES.md)
    conn.execute("PRAGMA cache_size = -32768")


class Database:
    """A driftstore SQLite file, opened for one process."""

    def __init__(
        self,
        path: Path,
        *,
        busy_timeout_ms: int = DEFAULT_BUSY_TIMEOUT_MS,
        before_migration: Callable[[int, int], None] | None = None,
    ) -> None:
        self.path = path
        self.busy_timeout_ms = busy_timeout_ms
        self._commit_key = str(path.resolve())
        self._write_lock = threading.RLock()
        self._depth = 0
        self._readers: queue.LifoQueue[apsw.Connection] = queue.LifoQueue()
        self._all_readers: list[apsw.Connection] = []
        self._readers_lock = threading.Lock()
        self._background: list[threading.Thread] = []
        self._closed = False
        is_new = _check_file(path)
        #: a store whose file or folder this process may not write (a checked-out cache,
        #: another user's files): opened immutable, so reading needs no -wal/-shm files
        self.read_only = not is_new and not _writable(path)
        try:
            if self.read_only:
                self.writer = self._open_immutable()
            else:
                self.writer = apsw.Connection(
                    str(path), flags=apsw.SQLITE_OPEN_READWRITE | apsw.SQLITE_OPEN_CREATE
                )
        except apsw.Error as exc:
            raise translate(exc, path) from None
        try:
            _configure(self.writer, busy_timeout_ms)
            self._identify(is_new)
            if self.read_only:
                self._check_version_read_only()
                return
            if scalar(self.writer, "PRAGMA journal_mode") != "wal":
                self.writer.execute("PRAGMA journal_mode = WAL")
            # replaces SQLite's checkpoint inside the commit (`_after_commit`)
            self.writer.set_wal_hook(self._after_commit)
            self._migrate(before_migration)
        except DriftStoreError:
            self.writer.close()
            raise
        except apsw.Error as exc:
            error = self._translate(exc)
            self.writer.close()
            raise error from None

    # --- opening -----------------------------------------------------------------------
    def _identify(self, is_new: bool) -> None:
        app_id = scalar(self.writer, "PRAGMA application_id")
        if app_id == APPLICATION_ID:
            return
        tables = {
            row[0]
            for row in self.writer.execute("SELECT name FROM sqlite_master WHERE type='table'")
        }
        if not tables:
            return  # an empty database becomes a driftstore database
        if set(SEED_TABLES) <= tables:
            return  # the seed schema written by another tool: adopt it
        raise NotADriftStoreError(
            f"{self.path}: a SQLite database, but not a driftstore one (it was left untouched); "
            "point --root at a project folder, or move the file aside"
        )

    def _open_immutable(self) -> apsw.Connection:
        uri = f"file:{quote(str(self.path))}?immutable=1"
        return apsw.Connection(uri, flags=apsw.SQLITE_OPEN_READONLY | apsw.SQLITE_OPEN_URI)

    def _check_version_read_only(self) -> None:
        version = scalar(self.writer, "PRAGMA user_version")
        if version != SCHEMA_VERSION:
            raise ReadOnlyStoreError(
                f"{self.path}: the store is read-only here and its schema ({version}) needs "
                f"an upgrade to {SCHEMA_VERSION} before this driftstore can read it; open it "
                "once where it can be written",
                path=str(self.path),
            )

    def _refuse_write(self) -> None:
        raise ReadOnlyStoreError(
            f"{self.path}: the store is read-only here (its file or folder cannot be "
            "written); reading works, changes need write access",
            path=str(self.path),
        )

    def _migrate(self, before_migration: Callable[[int, int], None] | None) -> None:
        version = scalar(self.writer, "PRAGMA user_version")
        if version > SCHEMA_VERSION:
            raise SchemaTooNewError(
                f"{self.path}: written by a newer driftstore (schema {version}, this one knows "
                f"{SCHEMA_VERSION}); upgrade driftstore to open it",
                remedy=Remedy.UPGRADE,
                path=str(self.path),
            )
        if version == SCHEMA_VERSION:
            return
        if version > 0 and before_migration is not None:
            before_migration(version, SCHEMA_VERSION)
        for migration in MIGRATIONS:
            if migration.version <= version:
                continue
            with self.transaction() as cur:
                # another process may have created or upgraded the store while this one
                # waited for the write lock: decide again, holding it
                now = int(scalar(cur, "PRAGMA user_version"))
                if now >= migration.version:
                    continue
                migration.apply(cur)
                cur.execute(
                    "INSERT INTO schema_migrations(version, description) VALUES (?, ?)",
                    (migration.version, migration.description),
                )
                cur.execute(f"PRAGMA application_id = {APPLICATION_ID}")
                cur.execute(f"PRAGMA user_version = {int(migration.version)}")

    # --- writing -----------------------------------------------------------------------
    @contextmanager
    def transaction(self) -> Iterator[apsw.Cursor]:
        """BEGIN IMMEDIATE ... COMMIT; a nested call becomes a savepoint of the outer one."""
        self._check_open()
        if self.read_only:
            self._refuse_write()
        with self._write_lock:
            cursor = self.writer.cursor()
            if self._depth:
                self._depth += 1
                try:
                    with self.writer:  # apsw: a savepoint
                        yield cursor
                finally:
                    self._depth -= 1
                return
            try:
                cursor.execute("BEGIN IMMEDIATE")
            except apsw.Error as exc:
                raise self._translate(exc) from None
            self._depth = 1
            try:
                yield cursor
            except apsw.Error as exc:
                # a write inside the body can fail too (a full disk when the page cache
                # spills, a corrupt page): the caller gets a driftstore error, not apsw's
                self._depth = 0
                error = self._translate(exc)
                self._rollback()
                raise error from None
            except DAMAGED_DATA as exc:
                self._depth = 0
                self._rollback()
                raise damaged(exc, self.path) from None
            except BaseException:
                self._depth = 0
                self._rollback()
                raise
            self._depth = 0
            try:
                cursor.execute("COMMIT")
            except apsw.Error as exc:
                error = self._translate(exc)
                self._rollback()
                raise error from None
            finally:
                self.note_commit()

    @contextmanager
    def exclusive(self) -> Iterator[apsw.Connection]:
        """The writer with no transaction open, for work that takes SQLite's write lock
        itself (a restore through the backup API); this process's writes wait meanwhile.
        Counted as a commit afterwards, so this process's caches look again."""
        self._check_open()
        if self.read_only:
            self._refuse_write()
        with self._write_lock:
            if self._depth:
                raise DriftStoreError(f"{self.path}: cannot restore inside a transaction")
            try:
                yield self.writer
            finally:
                self.note_commit()

    def _after_commit(self, _conn: apsw.Connection, _name: str, pages: int) -> int:
        """SQLite's WAL hook on the writer, called after each commit with the WAL's size:
        past CHECKPOINT_PAGES, fold it in the background (one checkpoint at a time)."""
        if pages >= CHECKPOINT_PAGES and not self._closed:
            self._background = [t for t in self._background if t.is_alive()]
            if not self._background:
                self.fold_wal_soon()
        return int(apsw.SQLITE_OK)

    def fold_wal_soon(self) -> None:
        """Copy the WAL into the database file from a thread and connection of their own,
        blocking no reader or writer (after a commit that grew the WAL past
        CHECKPOINT_PAGES, and after a restore, which leaves a whole database in the WAL);
        `close` waits for it. What it cannot copy now (a reader still on old frames) the
        next one does."""

        def run() -> None:
            with suppress(apsw.Error):
                conn = apsw.Connection(str(self.path), flags=apsw.SQLITE_OPEN_READWRITE)
                try:
                    conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
                finally:
                    conn.close()

        thread = threading.Thread(target=run, name="driftstore-checkpoint", daemon=True)
        thread.start()
        self._background.append(thread)

    def _translate(self, exc: apsw.Error) -> DriftStoreError:
        """Read the OS error before anything else runs on the writer and replaces it."""
        return translate(exc, self.path, system_errno=self.writer.system_errno)

    def _rollback(self) -> None:
        if not self.writer.get_autocommit():
            with suppress(apsw.Error):
                self.writer.execute("ROLLBACK")

    # --- reading -----------------------------------------------------------------------
    def connect_reader(self) -> apsw.Connection:
        """A read-only connection of its own (not pooled); the caller closes it."""
        try:
            if self.read_only:
                conn = self._open_immutable()
            else:
                conn = apsw.Connection(str(self.path), flags=apsw.SQLITE_OPEN_READONLY)
            conn.set_busy_timeout(self.busy_timeout_ms)
            conn.execute("PRAGMA temp_store = MEMORY")
        except apsw.Error as exc:
            raise translate(exc, self.path) from None
        return conn

    def _new_reader(self) -> apsw.Connection:
        conn = self.connect_reader()
        with self._readers_lock:
            self._all_readers.append(conn)
        return conn

    @contextmanager
    def reader(self) -> Iterator[apsw.Connection]:
        """A read-only connection inside one read transaction (a consistent snapshot)."""
        self._check_open()
        try:
            conn = self._readers.get_nowait()
        except queue.Empty:
            conn = self._new_reader()
        try:
            conn.execute("BEGIN")
            self.note_commit()  # what this snapshot sees, caches must see too
            try:
                yield conn
            finally:
                if not conn.get_autocommit():
                    conn.execute("COMMIT")
        except apsw.Error as exc:
            raise translate(exc, self.path) from None
        except DAMAGED_DATA as exc:
            raise damaged(exc, self.path) from None
        finally:
            if self._readers.qsize() < READER_POOL_SIZE and not self._closed:
                self._readers.put(conn)
            else:
                self._discard(conn)

    def _discard(self, conn: apsw.Connection) -> None:
        with self._readers_lock:
            if conn in self._all_readers:
                self._all_readers.remove(conn)
        conn.close()

    def query(
        self, sql: str, params: tuple[Any, ...] | dict[str, Any] = ()
    ) -> list[tuple[Any, ...]]:
        with self.reader() as conn:
            return list(conn.execute(sql, params))

    def note_commit(self) -> None:
        """Count a commit (or a change made outside `transaction`, such as a restore)."""
        _local_marks[self._commit_key] = _local_marks.get(self._commit_key, 0) + 1

    def local_marks(self) -> int:
        """Commits and read snapshots of this file in this process so far (`_local_marks`)."""
        return _local_marks.get(self._commit_key, 0)

    def data_version(self) -> int:
        """Changes when another connection (any process) has committed since the last call."""
        return int(self.writer.data_version())

    # --- closing -----------------------------------------------------------------------
    def _check_open(self) -> None:
        if self._closed:
            raise DriftStoreError(f"{self.path}: the store is closed; open it again")

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        for thread in self._background:
            thread.join()
        with self._readers_lock:
            readers, self._all_readers = self._all_readers, []
        for conn in readers:
            conn.close()
        with self._write_lock:
            self.writer.close()
