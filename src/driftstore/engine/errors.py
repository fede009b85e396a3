"""SQLite failures turned into driftstore errors a user can act on."""

from __future__ import annotations

from pathlib import Path

import apsw

from driftstore.errors import (
    DriftStoreError,
    IntegrityError,
    NotADriftStoreError,
    StorageFullError,
    StoreBusyError,
)


def translate(exc: apsw.Error, path: Path | str) -> DriftStoreError:
    """One line naming the database and the way out."""
    if isinstance(exc, apsw.BusyError | apsw.LockedError):
        return StoreBusyError(
            f"{path}: another process kept the database busy past the timeout; retry when it is done"
        )
    if isinstance(exc, apsw.FullError):
        return StorageFullError(
            f"{path}: the disk is full (or a size limit was hit); nothing was committed — "
            "free some space and run the command again"
        )
    if isinstance(exc, apsw.NotADBError):
        return NotADriftStoreError(
            f"{path}: not a SQLite database; move it aside or restore one with "
            "'driftstore backup restore ID'"
        )
    if isinstance(exc, apsw.CorruptError):
        return IntegrityError(
            f"{path}: the database is corrupt; run 'driftstore verify' and restore a backup with "
            "'driftstore backup restore ID'"
        )
    if isinstance(
        exc, apsw.IOError | apsw.CantOpenError | apsw.PermissionsError | apsw.ReadOnlyError
    ):
        return DriftStoreError(
            f"{path}: cannot read or write the database ({exc}); check the file's permissions and the disk"
        )
    return DriftStoreError(f"{path}: database error: {exc}")
