"""Backups of a project's store under `.drift/backups/`: create, list, prune, restore.

A backup is one archive (formats/backups.py) of a snapshot file the engine writes (a
consistent copy of the store's committed state), staged in a private temp folder, synced,
and published under its id with a link that never overwrites. Every step before the publish works on private
files, so a failure (a full disk included) leaves the store and the other backups as
they were.

A restore checks the archive and the snapshot in it before it touches anything, saves
the current state as a backup of its own, then has the engine make the store hold the
snapshot, as one commit: every connection of every process sees the restored state from
its next transaction on. Only a store that cannot be opened at all is replaced whole by the
store's location (its files moved aside first).

Work happens in private `.tmp-*` folders (`backup_work`); the ones a killed run left are
removed by the next backup, restore or prune.
"""

from __future__ import annotations

import errno
import os
import shutil
import stat
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from driftstore.engine.base import Engine, SnapshotInfo, StoreLocation
from driftstore.errors import (
    AmbiguousIdError,
    BackupNotFoundError,
    DriftStoreError,
    InvalidInputError,
    Remedy,
    StorageFullError,
)
from driftstore.facade.backup_work import remove_stale, work_folder
from driftstore.facade.results import BackupInfo, RestoreReport
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
_FULL_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG}


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
            f"backup {backup_id!r} not found in {backups_dir(drift_dir)}",
            remedy=Remedy.LIST_BACKUPS,
            path=str(backups_dir(drift_dir)),
        )
    return path


# --- create ----------------------------------------------------------------------------
#: writes a snapshot file of a store's committed state (`Engine.snapshot_to`)
Snapshotter = Callable[[Path], SnapshotInfo]


def create_backup(snapshot_to: Snapshotter, drift_dir: Path, reason: str) -> str:
    """Archive a consistent snapshot of the store; returns the new backup id.

    `reason` is free text (kept in the manifest); the id carries it as a slug.

    Readers and writers of the store keep working meanwhile: the engine takes the
    snapshot in one read transaction of its own.
    """
    reason_slug(reason)  # a bad reason is refused before any work
    folder = backups_dir(drift_dir)
    moment = datetime.now(UTC)
    try:
        with work_folder(folder) as work:
            return _archive_snapshot(snapshot_to, folder, work, moment, reason)
    except OSError as exc:
        raise _os_error(exc, folder) from None


def _archive_snapshot(
    snapshot_to: Snapshotter, folder: Path, work: Path, moment: datetime, reason: str
) -> str:
    """Snapshot, manifest, archive, publish: all in `work` until the final link."""
    snap = work / SNAPSHOT
    info = snapshot_to(snap)
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


def resolve_backup(drift_dir: Path, ref: str) -> str:
    """The backup id `ref` names: `latest`, a whole id, or a unique prefix of one."""
    found = list_backups(drift_dir)
    if ref == "latest":
        if not found:
            raise BackupNotFoundError(
                f"no backups in {backups_dir(drift_dir)}", remedy=Remedy.LIST_BACKUPS
            )
        return found[0].id
    ids = [b.id for b in found]
    if ref in ids:
        return ref
    matches = [i for i in ids if i.startswith(ref)] if ref else []
    if len(matches) == 1:
        return matches[0]
    if matches:
        raise AmbiguousIdError(ref, matches, what="backup")
    _archive_path(drift_dir, ref)  # the one-line "not found"
    return ref


# --- restore ---------------------------------------------------------------------------
def restore_backup(
    engine: Engine | None,
    location: StoreLocation,
    drift_dir: Path,
    backup_id: str,
    *,
    thorough: bool = False,
) -> RestoreReport:
    """Make backup `backup_id` the store's content.

    `engine` is the open store: the engine copies the snapshot into it as one commit (it
    stays open, and so do other connections to it, here or in other processes), after a
    safety backup of the current state. With `engine=None` the store could not be opened:
    the location replaces it whole, moving what was there aside into .drift/backups/. A
    failure leaves the store as it was; a failure while checking the archive also removes
    the safety backup it had started.
    """
    backup_id = resolve_backup(drift_dir, backup_id)
    archive = _archive_path(drift_dir, backup_id)
    folder = backups_dir(drift_dir)
    try:
        with work_folder(folder) as work:
            if engine is not None:
                live = engine
                snapshot = _extracted(archive, work, sync=False)  # a source only
                safety = live.restore_from(
                    snapshot,
                    label=str(archive),
                    thorough=thorough,
                    save_current=lambda: create_backup(live.snapshot_to, drift_dir, "restore"),
                    discard=lambda stale: (folder / archive_name(stale)).unlink(missing_ok=True),
                )
                return RestoreReport(restored=backup_id, backup=safety)
            snapshot = _extracted(archive, work, sync=True)
            location.check_snapshot(snapshot, thorough=thorough, label=str(archive))
            aside = folder / make_backup_id(datetime.now(UTC), "unreadable")
            moved = location.replace_unopenable(snapshot, aside)
            return RestoreReport(restored=backup_id, moved_aside=moved)
    except OSError as exc:
        raise _os_error(exc, folder) from None


def backup_info(drift_dir: Path, backup_id: str) -> BackupInfo:
    path = _archive_path(drift_dir, backup_id)
    moment, reason = parse_backup_id(backup_id)
    return BackupInfo(
        id=backup_id, created_at=format_iso(moment), reason=reason, bytes=path.stat().st_size
    )


def _extracted(archive: Path, work: Path, *, sync: bool) -> Path:
    """The archive's snapshot, checksummed against its manifest, as `work/drift.db`
    (synced when it will become the store's file itself)."""
    free = shutil.disk_usage(work).free
    read_archive(archive, work, room_bytes=free - _FREE_MARGIN, sync=sync)
    return work / SNAPSHOT
