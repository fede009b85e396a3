"""Consistent snapshots of a live database, and checks of a snapshot file.

A snapshot is taken with SQLite's online backup API from a read-only connection that
holds one read transaction for the whole copy: in WAL mode that pins a single committed
state, so every step copies pages of the same snapshot while other connections keep
reading and writing. A raw file copy of a live WAL database would miss (or tear) the
frames still in the -wal file, so it is never used.

The snapshot file is switched back to rollback-journal mode before it is closed, so it is
one self-contained file that any SQLite client can open read-only without -wal/-shm.
"""

from __future__ import annotations

import errno
from collections.abc import Callable
from pathlib import Path

import apsw

from driftstore.engine.base import SnapshotInfo
from driftstore.engine.sqlite.errors import translate
from driftstore.engine.sqlite.migrations import SCHEMA_VERSION
from driftstore.engine.sqlite.schema import APPLICATION_ID, SEED_TABLES
from driftstore.engine.sqlite.sql import scalar
from driftstore.errors import (
    DriftStoreError,
    IntegrityError,
    NotADriftStoreError,
    SchemaTooNewError,
    StorageFullError,
)

#: pages copied per backup step (4 KiB pages: 64 MiB); progress is reported between steps
PAGES_PER_STEP = 16_384


#: OS errors that mean "no room to write": a full disk, a quota, a file-size limit
_NO_ROOM = {errno.ENOSPC, errno.EFBIG, errno.EDQUOT}


def _snapshot_error(exc: apsw.Error, source: Path, target: Path, os_errno: int) -> DriftStoreError:
    if isinstance(exc, apsw.FullError) or (isinstance(exc, apsw.IOError) and os_errno in _NO_ROOM):
        return StorageFullError(
            f"{target.parent}: no room to write a backup (the disk is full or a size limit "
            "was hit); nothing was changed — free some space or prune old backups, then run "
            "it again"
        )
    return translate(exc, source)


def take_snapshot(
    source: Path,
    target: Path,
    *,
    busy_timeout_ms: int,
    on_step: Callable[[int, int], None] | None = None,
) -> SnapshotInfo:
    """Copy the committed state of `source` into the new file `target`.

    `on_step(pages_done, pages_total)` runs between steps, with the read snapshot held.
    """
    try:
        src = apsw.Connection(str(source), flags=apsw.SQLITE_OPEN_READONLY)
    except apsw.Error as exc:
        raise translate(exc, source) from None
    try:
        dst = apsw.Connection(
            str(target), flags=apsw.SQLITE_OPEN_READWRITE | apsw.SQLITE_OPEN_CREATE
        )
    except apsw.Error as exc:
        src.close()
        raise translate(exc, target) from None
    try:
        src.set_busy_timeout(busy_timeout_ms)
        src.execute("BEGIN")
        # the first read starts the read transaction: every step below sees this state
        src.execute("SELECT count(*) FROM sqlite_schema").fetchall()
        # a half-written temp file is thrown away, so it needs no journal or syncs
        dst.execute("PRAGMA journal_mode = OFF")
        dst.execute("PRAGMA synchronous = OFF")
        with dst.backup("main", src, "main") as step:
            while not step.done:
                step.step(PAGES_PER_STEP)
                if on_step is not None:
                    on_step(step.page_count - step.remaining, step.page_count)
        dst.execute("PRAGMA journal_mode = DELETE")
        version = int(scalar(dst, "PRAGMA user_version"))
        src.execute("COMMIT")
    except apsw.Error as exc:
        raise _snapshot_error(exc, source, target, dst.system_errno) from None
    finally:
        dst.close()
        src.close()
    return SnapshotInfo(bytes=target.stat().st_size, schema_version=version)


def check_snapshot(path: Path, *, thorough: bool = False, label: str | None = None) -> SnapshotInfo:
    """Refuse a snapshot that is damaged, not a driftstore database, or too new to open.

    `PRAGMA quick_check` verifies every b-tree page, record and constraint in linear time;
    `thorough` adds the index-against-table cross check of `integrity_check`, which costs
    about seven times as much. `label` names the file in messages (the archive it came from).
    """
    pragma = "integrity_check" if thorough else "quick_check"
    name = label or str(path)
    try:
        conn = apsw.Connection(str(path), flags=apsw.SQLITE_OPEN_READONLY)
    except apsw.Error as exc:
        raise translate(exc, path) from None
    try:
        problems = [row[0] for row in conn.execute(f"PRAGMA {pragma}(20)")]
        if problems != ["ok"]:
            raise IntegrityError(
                f"{name}: the database in the backup fails SQLite's {pragma}: {problems[0]}; "
                "choose another backup"
            )
        app_id = int(scalar(conn, "PRAGMA application_id"))
        version = int(scalar(conn, "PRAGMA user_version"))
        tables = {
            row[0] for row in conn.execute("SELECT name FROM sqlite_schema WHERE type = 'table'")
        }
    except (apsw.NotADBError, apsw.CorruptError):
        raise IntegrityError(
            f"{name}: the database in the backup is damaged; choose another backup"
        ) from None
    except apsw.Error as exc:
        raise translate(exc, path) from None
    finally:
        conn.close()
    if app_id != APPLICATION_ID and not set(SEED_TABLES) <= tables:
        raise NotADriftStoreError(
            f"{name}: the backup holds a SQLite database that is not a driftstore one; "
            "choose another backup"
        )
    if version > SCHEMA_VERSION:
        raise SchemaTooNewError(
            f"{name}: the backup was written by a newer driftstore (schema {version}, this one "
            f"knows {SCHEMA_VERSION}); upgrade driftstore to restore it"
        )
    return SnapshotInfo(bytes=path.stat().st_size, schema_version=version)


def read_header(path: Path) -> tuple[int, int] | None:
    """(page size, user_version) from a SQLite file's header, or None if it has none."""
    with path.open("rb") as handle:
        head = handle.read(100)
    if len(head) < 100 or not head.startswith(b"SQLite format 3\x00"):
        return None
    size = int.from_bytes(head[16:18], "big")
    return (65536 if size == 1 else size), int.from_bytes(head[60:64], "big")


def match_page_size(snapshot: Path, page_size: int) -> None:
    """Rewrite a snapshot (rollback-journal mode, as `take_snapshot` leaves it) to
    `page_size`: SQLite's backup API cannot copy into a WAL database of another page size."""
    conn = apsw.Connection(str(snapshot), flags=apsw.SQLITE_OPEN_READWRITE)
    try:
        if int(scalar(conn, "PRAGMA page_size")) != page_size:
            conn.execute("PRAGMA journal_mode = DELETE")
            conn.execute(f"PRAGMA page_size = {int(page_size)}")
            conn.execute("VACUUM")
    except apsw.Error as exc:
        raise translate(exc, snapshot) from None
    finally:
        conn.close()


def copy_into(
    dest: apsw.Connection,
    snapshot: Path,
    *,
    path: Path,
    on_locked: Callable[[], None],
    before_commit: Callable[[], None],
) -> None:
    """Make the live database `dest` (a WAL database other connections and processes may
    hold open) hold exactly what `snapshot` holds, as one ordinary commit.

    SQLite's backup API writes every page through `dest`'s WAL inside one write
    transaction: readers keep their snapshot until they finish, and every connection
    anywhere sees the new content from its next transaction on (no file is swapped, so
    none goes on writing to a file nobody reads). `dest` must have no transaction open.
    The pages are left in the WAL: the caller has them checkpointed.
    `on_locked` runs once the write lock is held, before the first page is copied: no
    other connection can commit from then until the copy is committed. `before_commit`
    runs when every page but the last is copied (written to the WAL, uncommitted); the
    last step commits. Any failure, either callback's included, rolls the copy back; the
    database is then as it was.
    """
    try:
        src = apsw.Connection(str(snapshot), flags=apsw.SQLITE_OPEN_READONLY)
    except apsw.Error as exc:
        raise translate(exc, snapshot) from None
    try:
        with dest.backup("main", src, "main") as backup:
            backup.step(0)  # opens the write transaction on dest and keeps it
            on_locked()
            if backup.remaining > 1:
                backup.step(backup.remaining - 1)
            before_commit()
            backup.step(-1)
    except apsw.Error as exc:
        raise translate(exc, path, system_errno=dest.system_errno) from None
    finally:
        src.close()
