"""The one exception tree. Every failure a caller can act on has its own class.

Messages name the thing that is wrong and what to do about it, because the CLI prints
them as they are, on one line.
"""

from __future__ import annotations


class DriftStoreError(Exception):
    """Root of every error driftstore raises on purpose."""

    #: exit code the CLI uses for this error (1 = operation failed, 2 = bad input/usage)
    exit_code: int = 1


class InvalidInputError(DriftStoreError):
    """A scan, shard, archive or argument that cannot be accepted."""

    exit_code = 2


class PatternNotFoundError(DriftStoreError):
    """An id that is not in the store."""

    exit_code = 2

    def __init__(self, pattern_id: str) -> None:
        super().__init__(
            f"pattern {pattern_id!r} not found; run 'driftstore list' to see the stored ids"
        )
        self.pattern_id = pattern_id


class PatternAlreadyExistsError(DriftStoreError):
    """add() of an id that is already stored."""

    exit_code = 2

    def __init__(self, pattern_id: str) -> None:
        super().__init__(
            f"pattern {pattern_id!r} already exists; use update() or ingest to change it"
        )
        self.pattern_id = pattern_id


class InvalidStatusTransitionError(DriftStoreError):
    """approve/ignore asked for a move the status machine does not allow."""

    exit_code = 2

    def __init__(self, pattern_id: str, current: str, target: str) -> None:
        super().__init__(
            f"pattern {pattern_id!r} is already {current}; cannot move it to {target}"
            if current == target
            else f"pattern {pattern_id!r} is {current}; moving it to {target} is not allowed"
        )
        self.pattern_id = pattern_id
        self.current = current
        self.target = target


class IntegrityError(DriftStoreError):
    """A checksum or a database integrity check failed."""


class ChecksumMismatchError(IntegrityError, InvalidInputError):
    """An input shard's content does not match its checksum (refused: bad input, exit 2)."""


class NotADriftStoreError(DriftStoreError):
    """The database file exists but is not SQLite, or not a driftstore database."""


class SchemaTooNewError(DriftStoreError):
    """The database was written by a newer driftstore than this one."""


class StoreBusyError(DriftStoreError):
    """Another writer held the database longer than the busy timeout allows."""


class StorageFullError(DriftStoreError):
    """The disk (or a size limit) ran out during a write; nothing was committed."""


class VariantNotFoundError(DriftStoreError):
    """A variant id that is not in the store."""

    exit_code = 2


class BackupNotFoundError(DriftStoreError):
    """A backup id that is not under .drift/backups/."""

    exit_code = 2


class UnsafeArchiveError(IntegrityError):
    """A backup archive with members that could escape its folder or were not expected
    (absolute or `..` paths, links, devices, extra or oversized members); nothing was written."""
