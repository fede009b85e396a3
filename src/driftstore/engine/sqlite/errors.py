"""SQLite failures turned into driftstore errors a user can act on."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import apsw

from driftstore.errors import (
    DriftStoreError,
    IntegrityError,
    NotADriftStoreError,
    Remedy,
    StorageFullError,
    StoreBusyError,
)

#: OS errors that mean "no room to write": a full disk, a quota, a file-size limit
_NO_ROOM = {errno.ENOSPC, errno.EFBIG, errno.EDQUOT}
#: SQL errors that mean a table, column or index of the schema is gone
_SCHEMA_GONE = ("no such column", "no such table", "no such index", "malformed database schema")


def translate(
    exc: apsw.Error, path: Path | str, *, system_errno: int | None = None
) -> DriftStoreError:
    """One line naming the database and the way out.

    `system_errno` is the OS error behind the last SQLite I/O failure (a connection's
    `system_errno`): SQLite reports a write refused for a file-size limit or a quota as a
    generic I/O error, and only the OS error tells that the cause is a lack of room.
    """
    if isinstance(exc, apsw.IOError) and system_errno in _NO_ROOM:
        return StorageFullError(
            f"{path}: no room to write ({os.strerror(system_errno or 0)}: the disk is full or "
            "a size limit was hit); nothing was committed — free some space and try again",
            remedy=Remedy.FREE_SPACE,
            path=str(path),
        )
    if isinstance(exc, apsw.BusyError | apsw.LockedError):
        return StoreBusyError(
            f"{path}: another process kept the database busy past the timeout; retry when it "
            "is done",
            remedy=Remedy.RETRY,
            path=str(path),
        )
    if isinstance(exc, apsw.FullError):
        return StorageFullError(
            f"{path}: the disk is full (or a size limit was hit); nothing was committed — "
            "free some space and try again",
            remedy=Remedy.FREE_SPACE,
            path=str(path),
        )
    if isinstance(exc, apsw.NotADBError):
        return NotADriftStoreError(
            f"{path}: not a SQLite database; move it aside or restore a backup",
            remedy=Remedy.RESTORE_BACKUP,
            path=str(path),
        )
    if isinstance(exc, apsw.CorruptError):
        return IntegrityError(
            f"{path}: the database is corrupt; check it and restore a backup",
            remedy=Remedy.RESTORE_BACKUP,
            path=str(path),
        )
    if isinstance(exc, apsw.SQLError) and any(m in str(exc) for m in _SCHEMA_GONE):
        # driftstore's own statements name only tables and columns its schema has: one
        # that is missing was lost from the file (a damaged sqlite_schema, or a hand edit)
        return IntegrityError(
            f"{path}: the database's schema is damaged ({exc}); check it and restore a backup",
            remedy=Remedy.RESTORE_BACKUP,
            path=str(path),
        )
    if isinstance(
        exc, apsw.IOError | apsw.CantOpenError | apsw.PermissionsError | apsw.ReadOnlyError
    ):
        return DriftStoreError(
            f"{path}: cannot read or write the database ({exc}); check the file's permissions and the disk"
        )
    return DriftStoreError(f"{path}: database error: {exc}")
