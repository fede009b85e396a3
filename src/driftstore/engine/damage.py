"""Damaged stored data, as any engine reports it: a value driftstore never writes, text that
is not UTF-8, JSON that does not parse, a digest that does not match."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Any, TypeVar

import msgspec

from driftstore.errors import IntegrityError, Remedy

E = TypeVar("E", bound=Enum)


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
        f"{path}: {lead} ({reason}); the database is damaged — check it and restore a backup",
        remedy=Remedy.RESTORE_BACKUP,
        path=str(path),
    )
