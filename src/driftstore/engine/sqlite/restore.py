"""Restoring a snapshot file into the live SQLite database, as one commit.

Three things overlap, then one commit: the caller's safety backup of the current state (a
thread) runs from the start; the snapshot's SQLite check (a thread) runs while its pages
are copied in under SQLite's write lock; the copy commits only once the check has passed
and the safety backup exists, and is rolled back otherwise. If anything was committed
after the safety backup began, a new one is taken under the lock: nothing committed is
ever lost. The snapshot's generation is set past the live one before its pages go in, so
the store's generation never goes back and every cache sees "everything changed".
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import apsw

from driftstore.engine.base import SnapshotInfo
from driftstore.engine.sqlite import changes
from driftstore.engine.sqlite.connection import Database
from driftstore.engine.sqlite.errors import translate
from driftstore.engine.sqlite.migrations import SCHEMA_VERSION
from driftstore.engine.sqlite.snapshot import (
    check_snapshot,
    copy_into,
    match_page_size,
    read_header,
)
from driftstore.engine.sqlite.sql import scalar
from driftstore.errors import IntegrityError


def restore_live(
    db: Database,
    snapshot: Path,
    *,
    label: str,
    thorough: bool,
    save_current: Callable[[], str],
    discard: Callable[[str], None],
) -> str:
    probe = _probe(db)
    safety_id: str | None = None
    try:
        with db.exclusive() as writer, ThreadPoolExecutor(max_workers=2) as pool:
            seen = changes.current(probe)
            safety = pool.submit(save_current)
            try:
                checked = _checked_copyable(
                    pool,
                    snapshot,
                    label,
                    thorough,
                    int(scalar(writer, "PRAGMA page_size")),
                    generation=seen + 1,
                )

                def on_locked() -> None:
                    nonlocal safety_id
                    live = changes.current(probe)
                    if live != seen:  # a commit landed after the safety backup began
                        _discard(safety, discard)
                        safety_id = save_current()
                        checked.result()  # the check reads the snapshot: let it finish
                        _mark(snapshot, live + 1, label)

                def ready() -> None:
                    nonlocal safety_id
                    checked.result()
                    if safety_id is None:
                        safety_id = safety.result()

                copy_into(writer, snapshot, path=db.path, on_locked=on_locked, before_commit=ready)
            except BaseException:
                _discard(safety, discard)
                if safety_id is not None:
                    discard(safety_id)
                raise
    finally:
        probe.close()
    db.fold_wal_soon()
    assert safety_id is not None
    return safety_id


def _checked_copyable(
    pool: ThreadPoolExecutor,
    snapshot: Path,
    label: str,
    thorough: bool,
    page_size: int,
    *,
    generation: int,
) -> Future[SnapshotInfo]:
    """The SQLite check of the snapshot, running (or done) while its pages are copied,
    once the snapshot carries `generation` (`_mark`).

    A snapshot that must be changed before it can be copied (another page size, an older
    schema: migrated here, in the private copy, so the store never passes through an old
    schema) or whose header is not a current SQLite one is checked first, then prepared.
    """
    header = read_header(snapshot)
    if header == (page_size, SCHEMA_VERSION):
        _mark(snapshot, generation, label)
        return pool.submit(check_snapshot, snapshot, thorough=thorough, label=label)
    info = check_snapshot(snapshot, thorough=thorough, label=label)
    match_page_size(snapshot, page_size)
    if info.schema_version < SCHEMA_VERSION:
        Database(snapshot).close()
    _mark(snapshot, generation, label)
    done: Future[SnapshotInfo] = Future()
    done.set_result(info)
    return done


def _mark(snapshot: Path, generation: int, label: str | None = None) -> None:
    """Give the snapshot the generation the restore commits as, and an empty change log
    that says "everything changed" before it."""
    try:
        conn = apsw.Connection(str(snapshot), flags=apsw.SQLITE_OPEN_READWRITE)
    except apsw.Error as exc:
        raise translate(exc, snapshot) from None
    try:
        conn.set_busy_timeout(60_000)
        with conn:
            cur = conn.cursor()
            for key in (changes.GENERATION_KEY, changes.RESET_KEY):
                cur.execute(
                    "INSERT INTO store_meta (key, value) VALUES (?, ?) "
                    "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                    (key, str(generation)),
                )
            cur.execute("DELETE FROM pattern_changes")
    except (apsw.CorruptError, apsw.NotADBError, apsw.SQLError):
        raise IntegrityError(
            f"{label or snapshot}: the database in the backup is damaged; choose another backup"
        ) from None
    except apsw.Error as exc:
        raise translate(exc, snapshot) from None
    finally:
        conn.close()


def _probe(db: Database) -> apsw.Connection:
    """A read-only connection of its own, outside any transaction: it sees every commit."""
    conn = apsw.Connection(str(db.path), flags=apsw.SQLITE_OPEN_READONLY)
    conn.set_busy_timeout(db.busy_timeout_ms)
    return conn


def _discard(safety: Future[str], discard: Callable[[str], None]) -> None:
    """The restore is not happening (or needs a newer safety backup): this one would only
    be clutter. Waits for it."""
    try:
        backup_id = safety.result()
    except Exception:
        return
    discard(backup_id)
