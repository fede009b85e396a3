"""Backups of a project's store under `.drift/backups/`: create, list, prune, restore.

A backup is one archive (formats/backups.py) of a snapshot taken with SQLite's backup API
(engine/snapshot.py), written to a private temp folder, synced, and published under its
id with a link that never overwrites. Every step before the publish works on private
files, so a failure (a full disk included) leaves the store and the other backups as
they were.

A restore checks the archive and the snapshot in it before it touches anything, saves
the current state as a backup of its own, then swaps the database file with one rename.
"""

from __future__ import annotations

import errno
import os
import shutil
import stat
import tempfile
import time
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import msgspec

from driftstore.engine.connection import DEFAULT_BUSY_TIMEOUT_MS, Database
from driftstore.engine.snapshot import check_snapshot, fold_wal, take_snapshot
from driftstore.errors import (
    BackupNotFoundError,
    DriftStoreError,
    IntegrityError,
    InvalidInputError,
    NotADriftStoreError,
    SchemaTooNewError,
    StorageFullError,
)
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
_WORK_PREFIX = ".tmp-"
#: a work folder older than this belongs to a run that died; prune removes it
_STALE_WORK_SECONDS = 6 * 3600
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


def _work_dir(folder: Path) -> Path:
    """A private (0700) temp folder inside .drift/backups/, on the store's file system."""
    folder.mkdir(exist_ok=True)
    return Path(tempfile.mkdtemp(prefix=_WORK_PREFIX, dir=folder))


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
    slug = reason_slug(reason)
    if not db_path.is_file():
        raise DriftStoreError(f"{db_path}: no database to back up; run 'driftstore init' first")
    folder = backups_dir(drift_dir)
    moment = datetime.now(UTC)
    try:
        work = _work_dir(folder)
    except OSError as exc:
        raise _os_error(exc, folder) from None
    try:
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
        backup_id = _publish(staged, folder, moment, slug)
        _fsync_dir(folder)
    except OSError as exc:
        raise _os_error(exc, folder) from None
    finally:
        shutil.rmtree(work, ignore_errors=True)
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

    Also removes work folders left by runs that died (older than a few hours).
    """
    if keep < 0:
        raise InvalidInputError(f"--keep {keep}: give 0 or more backups to keep")
    folder = backups_dir(drift_dir)
    doomed = list_backups(drift_dir)[keep:]
    try:
        for info in doomed:
            (folder / archive_name(info.id)).unlink(missing_ok=True)
        if folder.is_dir():
            _remove_stale_work(folder)
            _fsync_dir(folder)
    except OSError as exc:
        raise _os_error(exc, folder) from None
    return [info.id for info in reversed(doomed)]


def _remove_stale_work(folder: Path) -> None:
    cutoff = time.time() - _STALE_WORK_SECONDS
    with os.scandir(folder) as entries:
        for entry in entries:
            if (
                entry.name.startswith(_WORK_PREFIX)
                and entry.is_dir(follow_symlinks=False)
                and entry.stat(follow_symlinks=False).st_mtime < cutoff
            ):
                shutil.rmtree(entry.path, ignore_errors=True)


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

    `db` is the open database to replace; it is closed on success (the caller reopens).
    With `db=None` the current file could not be opened: it is moved aside into
    .drift/backups/ instead of being backed up. A failure before the final rename leaves
    the database as it was; a failure while checking the archive also removes the
    safety backup it had started.
    """
    archive = _archive_path(drift_dir, backup_id)
    folder = backups_dir(drift_dir)
    try:
        work = _work_dir(folder)
    except OSError as exc:
        raise _os_error(exc, folder) from None
    try:
        if db is None:
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
        fold_wal(db.writer, db_path)
        # holding the write lock: no other process commits between the safety backup and
        # the swap, so nothing committed is lost by the restore
        with db.transaction(), ThreadPoolExecutor(max_workers=1) as pool:
            safety = pool.submit(
                create_backup, db_path, drift_dir, "restore", busy_timeout_ms=db.busy_timeout_ms
            )
            try:
                snapshot = _verified_snapshot(archive, work, thorough)
            except BaseException:
                _discard(safety, folder)
                raise
            report = RestoreReport(restored=backup_id, backup=safety.result())
        db.close()
        _install(snapshot, db_path)
        return report
    except OSError as exc:
        raise _os_error(exc, folder) from None
    finally:
        shutil.rmtree(work, ignore_errors=True)


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


def _verified_snapshot(archive: Path, work: Path, thorough: bool) -> Path:
    free = shutil.disk_usage(work).free
    read_archive(archive, work, room_bytes=free - _FREE_MARGIN)
    snapshot = work / SNAPSHOT
    check_snapshot(snapshot, thorough=thorough, label=str(archive))
    return snapshot


def _discard(safety: Future[str], folder: Path) -> None:
    """The restore is not happening: its safety backup would only be clutter."""
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
