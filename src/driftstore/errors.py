"""The one exception tree. Every failure a caller can act on has its own class.

A message names the thing that is wrong and what to do about it in words any caller
understands; it carries structured fields too (`remedy`, `path`, `pattern_id`) so a face
can add its own way out (the CLI names its commands: `cli/hints.py`) and a program can act
without parsing text.
"""

from __future__ import annotations


class Remedy:
    """What a user can do about an error (`DriftStoreError.remedy`): faces map these to
    their own words (the CLI to the command that does it)."""

    RESTORE_BACKUP = "restore-backup"  # the store is damaged: check it, restore a backup
    LIST_PATTERNS = "list-patterns"  # an unknown pattern id: see the stored ones
    LIST_BACKUPS = "list-backups"
    LIST_VARIANTS = "list-variants"
    LIST_EXAMPLES = "list-examples"
    CREATE_STORE = "create-store"  # no store here yet
    EXPORT_SHARDS = "export-shards"  # no shards to import: write them first
    FORCE_IMPORT = "force-import"  # a shard fails its checksum: re-export or force
    FORCE_PRUNE = "force-prune"  # a prune that would delete most discovered patterns
    FREE_SPACE = "free-space"
    RETRY = "retry"  # another process held the store: try again
    UPGRADE = "upgrade"  # written by a newer driftstore


class DriftStoreError(Exception):
    """Root of every error driftstore raises on purpose."""

    def __init__(
        self,
        message: str,
        *,
        remedy: str | None = None,
        path: str | None = None,
        pattern_id: str | None = None,
    ) -> None:
        super().__init__(message)
        self.remedy = remedy
        self.path = path
        self.pattern_id = pattern_id


class InvalidInputError(DriftStoreError):
    """A scan, shard, archive or argument that cannot be accepted."""


class PatternNotFoundError(DriftStoreError):
    """An id that is not in the store."""

    def __init__(self, pattern_id: str) -> None:
        super().__init__(
            f"pattern {pattern_id!r} not found",
            remedy=Remedy.LIST_PATTERNS,
            pattern_id=pattern_id,
        )


class AmbiguousIdError(InvalidInputError):
    """A shortened id (a prefix) that more than one pattern or backup starts with."""

    def __init__(self, prefix: str, candidates: list[str], what: str = "pattern") -> None:
        shown = ", ".join(candidates[:5]) + (" …" if len(candidates) > 5 else "")
        super().__init__(
            f"{what} id {prefix!r} is ambiguous: it starts {shown}; give more of it",
            pattern_id=prefix if what == "pattern" else None,
        )
        self.candidates = candidates


class PatternAlreadyExistsError(DriftStoreError):
    """add() of an id that is already stored."""

    def __init__(self, pattern_id: str) -> None:
        super().__init__(
            f"pattern {pattern_id!r} already exists; use update() or ingest to change it",
            pattern_id=pattern_id,
        )


class InvalidStatusTransitionError(DriftStoreError):
    """A move the status machine does not allow."""

    def __init__(self, pattern_id: str, current: str, target: str) -> None:
        super().__init__(
            f"pattern {pattern_id!r} is {current}; moving it to {target} is not allowed",
            pattern_id=pattern_id,
        )
        self.current = current
        self.target = target


class IntegrityError(DriftStoreError):
    """A checksum or a database integrity check failed."""


class ChecksumMismatchError(IntegrityError, InvalidInputError):
    """An input shard's content does not match its checksum (refused: bad input)."""


class NotADriftStoreError(DriftStoreError):
    """The database file exists but is not SQLite, or not a driftstore database."""


class StoreNotFoundError(DriftStoreError):
    """No store where one was looked for (and none may be created by this call)."""


class SchemaTooNewError(DriftStoreError):
    """The database was written by a newer driftstore than this one."""


class StoreBusyError(DriftStoreError):
    """Another writer held the database longer than the busy timeout allows."""


class StorageFullError(DriftStoreError):
    """The disk (or a size limit) ran out during a write; nothing was committed."""


class ReadOnlyStoreError(DriftStoreError):
    """A write to a store this process may only read (its files or folder are read-only)."""


class StaleCursorError(InvalidInputError):
    """A paging cursor that does not continue a listing of the store as it is now (the store
    changed, the filters differ, or it was never handed out): start the listing again."""


class VariantNotFoundError(DriftStoreError):
    """A variant id that is not in the store."""


class ExampleNotFoundError(DriftStoreError):
    """An example id that is not in the store."""


class BackupNotFoundError(DriftStoreError):
    """A backup id that is not under .drift/backups/."""


class UnsafeArchiveError(IntegrityError):
    """A backup archive with members that could escape its folder or were not expected
    (absolute or `..` paths, links, devices, extra or oversized members); nothing was written."""
