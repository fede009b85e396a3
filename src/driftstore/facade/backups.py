"""Backups of a project's store under `.drift/backups/`: create, list, prune, restore.

A backup is one archive (formats/backups.py) of a snapshot taken with SQLite's backup API
(engine/snapshot.py), written to a private temp folder, synced, and published under its
id with a link that never overwrites. Every step before the publish works on private
files, so a failure (a full disk included) leaves the store and the other backups as
they were.

A restore checks the archive and the snapshot in it before it touches anything, saves
the current state as a backup of its own, then copies the snapshot into the live database
through SQLite's backup API, as one commit under the write lock: every connection of every
process sees the restored state from its next transaction on, and none keeps writing to a
replaced file. Only a database that cannot be opened at all is swapped by rename (after
being moved aside).

Work happens in private `.tmp-*` folders (`backup_work`); the ones a killed run left are
removed by the next backup, restore or prune.
"""

from __future__ import annotations

import errno
import os
import shutil
import stat
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import apsw
import msgspec

from driftstore.engine.connection import DEFAULT_BUSY_TIMEOUT_MS, Database
from driftstore.engine.schema import SCHEMA_VERSION
from driftstore.engine.snapshot import (
    SnapshotInfo,
    check_snapshot,
    copy_into,
    match_page_size,
    read_header,
    take_snapshot,
)
from driftstore.engine.sql import scalar
from driftstore.errors import (
    BackupNotFoundError,
    DriftStoreError,
    IntegrityError,
    InvalidInputError,
    NotADriftStoreError,
    SchemaTooNewError,
    StorageFullError,
)
from driftstore.facade.backup_work import remove_stale, work_folder
from driftstore.formats.backups import (
    FORMAT,
    FORMAT_VERSION,
    SNAPSHOT,
    SUFFIX,
    Manifest,
    archive_name,
    checksum_file,
    created_iso,
    id_of_archive,
    make_backup_id,
    parse_backup_id,
    read_archive,
    reason_slug,
    write_archive,
)
from driftstore.model.clock import format_iso

BACKUPS_DIR = "backups"
#: room kept free beside an extracted snapshot (SQLite and the safety backup need some)
_FREE_MARGIN = 16 * 1024 * 1024
_SIDECARS = ("-wal", "-shm", "-journal")
_FULL_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG}


class BackupInfo(msgspec.Struct, rename="camel", kw_only=True):
    id: str
    created_at: str
    reason: str
    bytes: int


class RestoreReport(msgspec.Struct, rename="camel", kw_only=True):
    #: the backup that is now the store
    restored: str
    #: the backup of the state it replaced (None when that state could not be read)
    backup: str | None = None
    #: where the unreadable files it replaced were moved instead
    moved_aside: str | None = None


# --- helpers ---------------------------------------------------------------------------
def backups_dir(drift_dir: Path) -> Path:
    return drift_dir / BACKUPS_DIR


def _driftstore_version() -> str:
    try:
        return version("driftstore")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree
        return "unknown"


def _os_error(exc: OSError, where: Path) -> DriftStoreError:
    if exc.errno in _FULL_ERRNOS:
        return StorageFullError(
            f"{where}: the disk is full (or a size limit was hit) while writing a backup; "
            "nothing was changed — free some space or prune old backups, then run it again"
        )
    name = exc.filename or where
    return DriftStoreError(
        f"{name}: {exc.strerror or exc}; nothing was changed — check the folder's "
        "permissions and free space"
    )


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _archive_path(drift_dir: Path, backup_id: str) -> Path:
    path = backups_dir(drift_dir) / archive_name(backup_id)
    try:
        mode = path.lstat().st_mode
    except FileNotFoundError:
        mode = 0
    if not stat.S_ISREG(mode):
        raise BackupNotFoundError(
            f"backup {backup_id!r} not found in {backups_dir(drift_dir)}; run "
            "'driftstore backup list' to see the backups"
        )
    return path


# --- create ----------------------------------------------------------------------------
def create_backup(
    db_path: Path,
    drift_dir: Path,
    reason: str,
    *,
    busy_timeout_ms: int = DEFAULT_BUSY_TIMEOUT_MS,
) -> str:
    """Archive a consistent snapshot of `db_path`; returns the new backup id.

    `reason` is free text (kept in the manifest); the id carries it as a slug.

    Readers and writers of the store keep working meanwhile: the snapshot is one read
    transaction on a connection of its own.
    """
    reason_slug(reason)  # a bad reason is refused before any work
    if not db_path.is_file():
        raise DriftStoreError(f"{db_path}: no database to back up; run 'driftstore init' first")
    folder = backups_dir(drift_dir)
    moment = datetime.now(UTC)
    try:
        with work_folder(folder) as work:
            return _archive_snapshot(db_path, folder, work, moment, reason, busy_timeout_ms)
    except OSError as exc:
        raise _os_error(exc, folder) from None


def _archive_snapshot(
    db_path: Path, folder: Path, work: Path, moment: datetime, reason: str, busy_timeout_ms: int
) -> str:
    """Snapshot, manifest, archive, publish: all in `work` until the final link."""
    snap = work / SNAPSHOT
    info = take_snapshot(db_path, snap, busy_timeout_ms=busy_timeout_ms)
    manifest = Manifest(
        format=FORMAT,
        format_version=FORMAT_VERSION,
        created_at=format_iso(moment),
        reason=reason,
        driftstore_version=_driftstore_version(),
        schema_version=info.schema_version,
        members=[checksum_file(snap)],
    )
    staged = work / ("archive" + SUFFIX)
    with staged.open("xb") as out:
        write_archive(out, manifest, snap)
        out.flush()
        os.fsync(out.fileno())
    backup_id = _publish(staged, folder, moment, reason_slug(reason))
    _fsync_dir(folder)
    return backup_id


def _publish(staged: Path, folder: Path, moment: datetime, reason: str) -> str:
    """Give the archive its id; a taken id moves one millisecond on (ids stay unique)."""
    for _ in range(10_000):
        backup_id = make_backup_id(moment, reason)
        target = folder / (backup_id + SUFFIX)
        try:
            os.link(staged, target)  # fails instead of overwriting, even across processes
            return backup_id
        except FileExistsError:
            pass
        except OSError as exc:
            if exc.errno not in {errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EMLINK}:
                raise
            if not target.exists():  # a file system without hard links
                os.replace(staged, target)
                return backup_id
        moment += timedelta(milliseconds=1)
    raise DriftStoreError(f"{folder}: no free backup id; prune old backups")


# --- list and prune --------------------------------------------------------------------
def list_backups(drift_dir: Path) -> list[BackupInfo]:
    """Every backup archive, newest first. Reads names and sizes only, so it works even
    when the database itself cannot be opened."""
    folder = backups_dir(drift_dir)
    if not folder.is_dir():
        return []
    found = []
    with os.scandir(folder) as entries:
        for entry in entries:
            backup_id = id_of_archive(entry.name)
            if backup_id is None or not entry.is_file(follow_symlinks=False):
                continue
            _, reason = parse_backup_id(backup_id)
            found.append(
                BackupInfo(
                    id=backup_id,
                    created_at=created_iso(backup_id),
                    reason=reason,
                    bytes=entry.stat(follow_symlinks=False).st_size,
                )
            )
    found.sort(key=lambda b: b.id, reverse=True)
    return found


def prune_backups(drift_dir: Path, keep: int) -> list[str]:
    """Delete all but the `keep` newest backups; returns the deleted ids, oldest first.

    Also removes work folders left by runs that were killed (`backup_work`).
    """
    if keep < 0:
        raise InvalidInputError(f"--keep {keep}: give 0 or more backups to keep")
    folder = backups_dir(drift_dir)
    doomed = list_backups(drift_dir)[keep:]
    try:
        for info in doomed:
            (folder / archive_name(info.id)).unlink(missing_ok=True)
        if folder.is_dir():
            remove_stale(folder)
            _fsync_dir(folder)
    except OSError as exc:
        raise _os_error(exc, folder) from None
    return [info.id for info in reversed(doomed)]


# --- restore ---------------------------------------------------------------------------
def restore_backup(
    drift_dir: Path,
    db_path: Path,
    backup_id: str,
    *,
    db: Database | None,
    thorough: bool = False,
) -> RestoreReport:
    """Make backup `backup_id` the store's database.

    `db` is the open database: the backup's content is copied into it (it stays open, and
    so do other connections to it, here or in other processes). With `db=None` the current
    file could not be opened: it is moved aside into .drift/backups/ and the snapshot
    takes its place. A failure leaves the database as it was; a failure while checking
    the archive also removes the safety backup it had started.
    """
    archive = _archive_path(drift_dir, backup_id)
    folder = backups_dir(drift_dir)
    try:
        with work_folder(folder) as work:
            if db is not None:
                return _restore_live(db, drift_dir, archive, backup_id, work, thorough)
            snapshot = _verified_snapshot(archive, work, thorough)
            aside = _move_aside(db_path, folder)
            try:
                _install(snapshot, db_path)
            except BaseException:
                _move_back(aside, db_path)
                raise
            return RestoreReport(
                restored=backup_id, moved_aside=None if aside is None else str(aside)
            )
    except OSError as exc:
        raise _os_error(exc, folder) from None


def _restore_live(
    db: Database, drift_dir: Path, archive: Path, backup_id: str, work: Path, thorough: bool
) -> RestoreReport:
    """Three things overlap, then one commit: the safety backup (a thread) runs from the
    start; the extracted snapshot's SQLite check (a thread) runs while its pages are copied
    in under SQLite's write lock; the copy commits only once the check has passed and the
    safety backup is published, and is rolled back otherwise. If anything was committed
    after the safety backup began, a new one is taken under the lock: nothing committed
    is ever lost.
    """
    folder = backups_dir(drift_dir)
    probe = _probe(db)
    safety_id: str | None = None
    try:
        with db.exclusive() as writer, ThreadPoolExecutor(max_workers=2) as pool:
            seen = _commits(probe)
            safety = pool.submit(
                create_backup, db.path, drift_dir, "restore", busy_timeout_ms=db.busy_timeout_ms
            )

            def renew_if_stale() -> None:
                nonlocal safety_id
                if _commits(probe) != seen:  # a commit landed after the safety backup began
                    _discard(safety, folder)
                    safety_id = create_backup(
                        db.path, drift_dir, "restore", busy_timeout_ms=db.busy_timeout_ms
                    )

            try:
                snapshot = _extracted(archive, work, sync=False)  # a source only
                checked = _checked_copyable(
                    pool, snapshot, archive, thorough, int(scalar(writer, "PRAGMA page_size"))
                )

                def ready() -> None:
                    nonlocal safety_id
                    checked.result()
                    if safety_id is None:
                        safety_id = safety.result()

                copy_into(
                    writer,
                    snapshot,
                    path=db.path,
                    on_locked=renew_if_stale,
                    before_commit=ready,
                )
            except BaseException:
                _discard(safety, folder)
                if safety_id is not None:
                    (folder / archive_name(safety_id)).unlink(missing_ok=True)
                raise
    finally:
        probe.close()
    db.fold_wal_soon()
    assert safety_id is not None
    return RestoreReport(restored=backup_id, backup=safety_id)


def _checked_copyable(
    pool: ThreadPoolExecutor, snapshot: Path, archive: Path, thorough: bool, page_size: int
) -> Future[SnapshotInfo]:
    """The SQLite check of the snapshot, running (or done) while its pages are copied.

    A snapshot that must be changed before it can be copied (another page size, an older
    schema: migrated here, in the private copy, so the store never passes through an old
    schema) or whose header is not a current SQLite one is checked first, then prepared.
    """
    label = str(archive)
    header = read_header(snapshot)
    if header == (page_size, SCHEMA_VERSION):
        return pool.submit(check_snapshot, snapshot, thorough=thorough, label=label)
    info = check_snapshot(snapshot, thorough=thorough, label=label)
    match_page_size(snapshot, page_size)
    if info.schema_version < SCHEMA_VERSION:
        Database(snapshot).close()
    done: Future[SnapshotInfo] = Future()
    done.set_result(info)
    return done


def _probe(db: Database) -> apsw.Connection:
    """A read-only connection of its own: `PRAGMA data_version` on it moves with every
    commit made by any other connection, the restoring writer's own included."""
    conn = apsw.Connection(str(db.path), flags=apsw.SQLITE_OPEN_READONLY)
    conn.set_busy_timeout(db.busy_timeout_ms)
    return conn


def _commits(probe: apsw.Connection) -> int:
    return int(scalar(probe, "PRAGMA data_version"))


# --- by project folder (the CLI: these work without opening the database) -------------
def _project_paths(root: Path) -> tuple[Path, Path]:
    """(.drift folder, database path) of a project folder."""
    # imported here: the store module imports this one
    from driftstore.facade.store import DB_NAME, DRIFT_DIR

    folder = Path(root).resolve()
    if not folder.is_dir():
        raise InvalidInputError(f"{root}: no such folder; pass an existing project folder as root")
    return folder / DRIFT_DIR, folder / DRIFT_DIR / DB_NAME


def project_backups(root: Path) -> list[BackupInfo]:
    return list_backups(_project_paths(root)[0])


def prune_project(root: Path, keep: int) -> list[str]:
    return prune_backups(_project_paths(root)[0], keep)


def backup_info(drift_dir: Path, backup_id: str) -> BackupInfo:
    path = _archive_path(drift_dir, backup_id)
    moment, reason = parse_backup_id(backup_id)
    return BackupInfo(
        id=backup_id, created_at=format_iso(moment), reason=reason, bytes=path.stat().st_size
    )


def restore_project(root: Path, backup_id: str, *, thorough: bool = False) -> RestoreReport:
    """Restore the store at `root`, also when its database is missing or cannot be opened
    (the case a restore exists for): unreadable files are then moved aside, not lost."""
    from driftstore.facade.store import PatternStore

    drift_dir, db_path = _project_paths(root)
    _archive_path(drift_dir, backup_id)  # an unknown id fails before anything is opened
    if db_path.exists():
        try:
            store = PatternStore(root, create=False)
        except (NotADriftStoreError, IntegrityError, SchemaTooNewError):
            pass
        else:
            with store:
                return store.restore(backup_id, thorough=thorough)
    return restore_backup(drift_dir, db_path, backup_id, db=None, thorough=thorough)


def _extracted(archive: Path, work: Path, *, sync: bool) -> Path:
    """The archive's snapshot, checksummed against its manifest, as `work/drift.db`
    (synced when it will become the database file itself)."""
    free = shutil.disk_usage(work).free
    read_archive(archive, work, room_bytes=free - _FREE_MARGIN, sync=sync)
    return work / SNAPSHOT


def _verified_snapshot(archive: Path, work: Path, thorough: bool) -> Path:
    snapshot = _extracted(archive, work, sync=True)
    check_snapshot(snapshot, thorough=thorough, label=str(archive))
    return snapshot


def _discard(safety: Future[str], folder: Path) -> None:
    """The restore is not happening (or needs a newer one): this safety backup would only
    be clutter. Waits for it."""
    try:
        backup_id = safety.result()
    except Exception:
        return
    (folder / archive_name(backup_id)).unlink(missing_ok=True)


def _move_aside(db_path: Path, folder: Path) -> Path | None:
    """Keep unreadable database files (and their -wal/-journal) in a folder of their own."""
    present = [p for p in (db_path, *_sidecar_paths(db_path)) if p.exists()]
    if not present:
        return None
    aside = folder / make_backup_id(datetime.now(UTC), "unreadable")
    aside.mkdir()
    for path in present:
        os.replace(path, aside / path.name)
    _fsync_dir(db_path.parent)
    return aside


def _move_back(aside: Path | None, db_path: Path) -> None:
    if aside is None:
        return
    for path in aside.iterdir():
        os.replace(path, db_path.parent / path.name)
    aside.rmdir()


def _sidecar_paths(db_path: Path) -> list[Path]:
    return [db_path.with_name(db_path.name + suffix) for suffix in _SIDECARS]


def _install(snapshot: Path, db_path: Path) -> None:
    """Swap the verified snapshot in with one rename; stale -wal/-shm files of the old
    database go first, since SQLite would replay an old WAL into the new file."""
    try:
        os.chmod(snapshot, stat.S_IMODE(db_path.stat().st_mode))
    except FileNotFoundError:
        os.chmod(snapshot, 0o644)
    for sidecar in _sidecar_paths(db_path):
        sidecar.unlink(missing_ok=True)
    os.replace(snapshot, db_path)
    _fsync_dir(db_path.parent)
