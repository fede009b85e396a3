"""SQLite failures turned into driftstore errors a user can act on."""

from __future__ import annotations

import errno
import os
from enum import Enum
from pathlib import Path
from typing import Any, TypeVar

import apsw
import msgspec

from driftstore.errors import (
    DriftStoreError,
    IntegrityError,
    NotADriftStoreError,
    StorageFullError,
    StoreBusyError,
)

E = TypeVar("E", bound=Enum)

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
            "a size limit was hit); nothing was committed — free some space and run the "
            "command again"
        )
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
    if isinstance(exc, apsw.SQLError) and any(m in str(exc) for m in _SCHEMA_GONE):
        # driftstore's own statements name only tables and columns its schema has: one
        # that is missing was lost from the file (a damaged sqlite_schema, or a hand edit)
        return IntegrityError(
            f"{path}: the database's schema is damaged ({exc}); run 'driftstore verify' and "
            "restore a backup with 'driftstore backup restore ID'"
        )
    if isinstance(
        exc, apsw.IOError | apsw.CantOpenError | apsw.PermissionsError | apsw.ReadOnlyError
    ):
        return DriftStoreError(
            f"{path}: cannot read or write the database ({exc}); check the file's permissions and the disk"
        )
    return DriftStoreError(f"{path}: database error: {exc}")


class StoredValueError(ValueError):
    """A stored value that driftstore never writes (an unknown status, severity, ...)."""


def stored(kind: type[E], value: Any) -> E:
    """`kind(value)` for a value read from the database: a value outside the enum means
    the file was damaged or edited by hand, which `damaged` reports as such."""
    try:
        return kind(value)
    except ValueError:
        raise StoredValueError(f"{value!r} is not a valid {kind.__name__}") from None


#: what reading a damaged row raises: text that is not UTF-8, JSON that does not parse,
#: an enum value driftstore never writes
DAMAGED_DATA = (UnicodeDecodeError, msgspec.DecodeError, msgspec.ValidationError, StoredValueError)


def damaged(exc: Exception, path: Path | str) -> IntegrityError:
    """A row that cannot be read: never serve a guess, send the user to verify/restore."""
    reason = str(exc).splitlines()[0][:160]
    lead = getattr(exc, "lead", "stored data cannot be read")
    return IntegrityError(
        f"{path}: {lead} ({reason}); the database is damaged — run "
        "'driftstore verify' and restore a backup with 'driftstore backup restore ID'"
    )
