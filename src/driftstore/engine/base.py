"""The engine interface: everything the facade asks of a database, typed on model types.

An engine is one store in one database: a SQLite file (`engine/sqlite/`) or one project of a
shared PostgreSQL database (`engine/postgres/`). The facade holds the policy (merge rules,
what history says, a backup before destructive work) and reaches the data only through
these classes, so adding a database is adding a folder under `engine/` that implements them
and passes the contract suite (`tests/engine/contract/`).

- `Engine.read()` is one consistent snapshot (`Reader`); `Engine.write()` one transaction
  (`Writer`), all or nothing, whose changes and history rows commit together.
- Writes are batch-shaped (a batch of patterns with their locations, a batch of history rows,
  ids to delete): a server database pays one round trip per batch, not per row.
- Every committed write that changed something moves the store's *generation* by one, in the
  same transaction, and records which patterns it touched; `generation()` and
  `changes_since()` are how caches (the by-file index) and the faces (LSP, MCP, HTTP) learn
  that the store changed, from this process or any other.
- Backups are engine-neutral: a *snapshot file* is a SQLite database in driftstore's schema
  holding one store's committed state (`snapshot_to`), and `restore_from` makes a store hold
  exactly what a snapshot file holds, as one commit.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any, NamedTuple, TypeVar

import msgspec

from driftstore.engine.digests import LocationSummary
from driftstore.engine.packing import PatternRows, RawCompact
from driftstore.model.enums import HistoryAction, Status
from driftstore.model.pattern import Location, Pattern
from driftstore.model.query import PatternFilter, QueryResult, Sort
from driftstore.model.records import Example, HistoryEntry, Variant

T = TypeVar("T")


# --- values that cross the interface ------------------------------------------------------
class EngineInfo(msgspec.Struct, kw_only=True, rename="camel"):
    """What `--version` and `status` say about where the data lives."""

    #: "sqlite" or "postgresql"
    kind: str
    #: the database file, or the server URL with any password removed
    location: str
    #: the database software's own version ("3.54.1", "15.18")
    server_version: str
    #: the schema version this store is at
    schema_version: int
    #: the project key inside a shared database (None for a SQLite file: one store per file)
    project: str | None = None


class StatsRow(NamedTuple):
    """Running totals of one (status, category, confidence level) group: what `status` reads."""

    status: str
    category: str
    level: str
    patterns: int
    locations: int
    outliers: int
    score_sum: float


class ScanState(NamedTuple):
    """What a scan merge needs to know of each stored pattern."""

    status: str
    content_hash: str | None
    last_seen: str | None
    #: the echo of the scan entry it was last stored from, with the content hash that
    #: entry decoded to (`formats.echo`); None when not stored from a scan file
    echo: str | None = None


class PatternState(NamedTuple):
    """What import and migrate compare to decide whether a pattern changed."""

    status: str
    content_hash: str | None
    approved_at: str | None
    approved_by: str | None
    first_seen: str | None
    last_seen: str | None
    layout: str | None


class RelatedPattern(msgspec.Struct, kw_only=True, rename="camel"):
    """A pattern of the same category and subcategory, as `show` lists it."""

    id: str
    name: str
    status: Status
    confidence: float
    location_count: int


class PatternWrite(NamedTuple):
    """One pattern to store: inserted when its id is new, else its row replaced.

    `created_at=None` keeps the stored creation time (a new pattern gets `updated_at`).
    `locations=False` keeps the stored location rows (a change of name or status only);
    `layout` is drift 0.9's record of how the entry looked (None: none kept);
    `echo` is the stored echo of the scan entry it came from (`ScanState.echo`).
    """

    pattern: Pattern
    content_hash: str | None
    updated_at: str
    created_at: str | None = None
    layout: str | None = None
    locations: bool = True
    echo: str | None = None
    #: the locations hash of the history snapshot (`model.digest.fingerprints`), kept
    #: with the rows written (`Reader.location_summaries`)
    locations_hash: str | None = None


class StatusChange(NamedTuple):
    """A status move of one pattern; an approval also stamps who and when."""

    pattern_id: str
    status: Status
    at: str
    approved_by: str | None = None


class HistoryRecord(NamedTuple):
    """One history row as the facade writes it (the engine adds id and digest)."""

    pattern_id: str
    action: HistoryAction
    old: dict[str, Any] | None
    new: dict[str, Any] | None
    at: str
    by: str | None = None
    reason: str | None = None


class HistoryRow(NamedTuple):
    """A history row as stored, its digest checked but its JSON not decoded: what replaying
    many rows (time travel) reads, decoding only the few it needs."""

    id: int
    pattern_id: str
    action: str
    old: str | None
    new: str | None
    at: str
    by: str | None
    reason: str | None


class ChangeSet(NamedTuple):
    """What changed after a generation: the ids of patterns whose row, locations, variants,
    examples or status changed, or None when the engine cannot tell which (a restore, or a
    generation older than the change log keeps): then treat everything as changed."""

    generation: int
    ids: frozenset[str] | None


class SnapshotInfo(NamedTuple):
    bytes: int
    schema_version: int


#: What `Reader.pattern_rows` passes to its `make`, per location row in stored order (the
#: names of `formats.shards.fast.ExportLocation`'s fields): None is an absent key; a number
#: with an integral value (confidence, deviation score) comes as an int, as JavaScript
#: writes it; `outlier_reason` is set for rows of the locations list only, `reason` for
#: rows of the outliers list; `flag` (None when 0) holds bits: 1 the row belongs to the
#: outliers list, 2 it has a value only these full rows carry (end_line, end_column,
#: snippet), 4 it needs the general path (unknown keys, an odd number).
EXPORT_FULL_COLUMNS = (
    "file",
    "line",
    "column",
    "end_line",
    "end_column",
    "is_outlier",
    "confidence",
    "outlier_reason",
    "reason",
    "deviation_score",
    "snippet",
    "original_file",
    "flag",
)
#: What `Reader.category_rows` passes to its `make`: the same without the rarely set values.
EXPORT_LEAN_COLUMNS = tuple(
    name for name in EXPORT_FULL_COLUMNS if name not in ("end_line", "end_column", "snippet")
)


# --- reading --------------------------------------------------------------------------------
class Reader(ABC):
    """One consistent snapshot of the store. Reads of one pattern (and history, variants,
    examples) check each row against its stored digest and fail rather than return damaged
    data, as an IntegrityError out of the unit of work (inside it the engine may raise
    `engine.damage.DAMAGED_DATA`); listings and totals do not check (verify covers them)."""

    # the change signal, as this snapshot sees it
    @abstractmethod
    def generation(self) -> int: ...

    @abstractmethod
    def changes_since(self, generation: int) -> ChangeSet: ...

    # patterns
    @abstractmethod
    def pattern(self, pattern_id: str, *, with_locations: bool = True) -> Pattern | None: ...

    @abstractmethod
    def patterns(
        self, ids: Sequence[str] | None = None, *, with_locations: bool = True
    ) -> list[Pattern]:
        """Patterns by id in the order given (missing ids skipped), or all of them by id."""

    @abstractmethod
    def location_summaries(self, ids: Sequence[str]) -> dict[str, LocationSummary]:
        """Of these patterns, those whose rows were written with a locations hash and not
        since: what a snapshot of them needs, without reading their rows."""

    @abstractmethod
    def existing_ids(self, ids: Sequence[str]) -> set[str]: ...

    @abstractmethod
    def known_ids(self, ids: Sequence[str]) -> set[str]:
        """Ids the store holds or has history for (it has seen them)."""

    @abstractmethod
    def ids_with_prefix(self, prefix: str, *, limit: int) -> list[str]:
        """Stored ids starting with `prefix`, sorted, at most `limit`."""

    @abstractmethod
    def count(self) -> int: ...

    @abstractmethod
    def scan_states(self) -> dict[str, ScanState]: ...

    @abstractmethod
    def pattern_states(self) -> dict[str, PatternState]: ...

    @abstractmethod
    def ids_by_category(self) -> dict[str, list[str]]:
        """category -> its ids, sorted; categories sorted."""

    @abstractmethod
    def pattern_files(self, pattern_id: str) -> list[str]:
        """The distinct files a pattern has a location or outlier in."""

    # listings and totals
    @abstractmethod
    def query(
        self,
        filter: PatternFilter,
        sort: Sort,
        *,
        offset: int = 0,
        limit: int | None = None,
        cursor: str | None = None,
    ) -> QueryResult: ...

    @abstractmethod
    def stats(self) -> list[StatsRow]:
        """Running totals per (status, category, level) group with patterns in it."""

    @abstractmethod
    def fresh_stats(self) -> list[StatsRow]:
        """The same totals recounted from the patterns (what verify compares)."""

    @abstractmethod
    def related(
        self, pattern_id: str, category: str, subcategory: str, *, limit: int
    ) -> tuple[list[RelatedPattern], int]:
        """Other patterns of the category and subcategory, most confident first, and how
        many there are in all."""

    # history, variants, examples
    @abstractmethod
    def history(
        self,
        pattern_id: str | None = None,
        *,
        since: str | None = None,
        until: str | None = None,
        limit: int | None = None,
        before_id: int | None = None,
        oldest_first: bool = False,
    ) -> list[HistoryEntry]:
        """History rows (newest first unless `oldest_first`), `since` <= at < `until`,
        only rows with id < `before_id` when given."""

    @abstractmethod
    def history_rows(
        self, pattern_id: str | None = None, *, until: str | None = None
    ) -> list[HistoryRow]:
        """History rows oldest first, at < `until`, with their JSON undecoded."""

    @abstractmethod
    def variants(self, pattern_id: str | None = None) -> list[Variant]: ...

    @abstractmethod
    def variant(self, variant_id: int) -> Variant | None: ...

    @abstractmethod
    def variants_of(self, pattern_ids: Sequence[str]) -> dict[str, list[Variant]]:
        """pattern id -> its variants by id, for those of the ids that have any (an id
        without variants is not a key: the v2 export writes no empty list for it)."""

    @abstractmethod
    def examples(self, pattern_id: str | None = None) -> list[Example]: ...

    @abstractmethod
    def example(self, example_id: int) -> Example | None: ...

    @abstractmethod
    def outliers_of(self, pattern_ids: Sequence[str]) -> dict[str, list[tuple[int, Location]]]:
        """pattern id -> its outliers as (list kind, location), in stored order: the
        `outliers` list (kind 1) and the locations flagged isOutlier (kind 0); patterns
        without outliers are left out. What the CI gate and SARIF read, without every
        location of every pattern."""

    # one file
    @abstractmethod
    def file_locations(self, file: str) -> list[tuple[str, int, Location]]:
        """(pattern id, list kind 0 = locations / 1 = outliers, location) of every row in
        `file` (a normalised path), in stored order."""

    # export and import bookkeeping
    @abstractmethod
    def export_states(self, layout: str) -> dict[tuple[str, str], tuple[str, str]]:
        """(category, status) -> (checksum, lastUpdated) of the last export in a layout."""

    @abstractmethod
    def meta(self, prefix: str) -> dict[str, str]:
        """store_meta values whose key starts with `prefix`, keyed by the rest. The engine's
        own bookkeeping (its generation, its change log) is never among them."""

    @abstractmethod
    def layouts(self) -> dict[str, str]:
        """pattern id -> its drift 0.9 layout record, for patterns that have one."""

    @abstractmethod
    def category_patterns(self, category: str) -> list[Pattern]:
        """Every pattern of a category with its locations, by id (the v1 export)."""

    @abstractmethod
    def category_rows(
        self, category: str, make: Callable[..., T]
    ) -> Iterator[tuple[Pattern, list[T]]]:
        """Each pattern of a category by id (without locations) with its location rows made
        by `make(*EXPORT_LEAN_COLUMNS values)` in stored order (the v2 export's hot path)."""

    @abstractmethod
    def pattern_rows(self, pattern_id: str, make: Callable[..., T]) -> list[T]:
        """One pattern's location rows made by `make(*EXPORT_FULL_COLUMNS values)`."""

    # checks
    @abstractmethod
    def require_intact(self) -> None:
        """IntegrityError unless every row's digest matches (export runs this first)."""

    @abstractmethod
    def row_problems(self) -> list[str]:
        """Rows that do not read back, digests that do not match, running totals that
        disagree with the patterns: each problem one line (empty when all is well)."""

    # the by-file index's bulk reads (engine.packing describes the packed form)
    @abstractmethod
    def location_runs(self) -> list[tuple[str, int, int]]:
        """(pattern id, first row id, row count) of every run of consecutive location row
        ids of one pattern, by row id."""

    @abstractmethod
    def compact_chunks(self) -> Iterator[RawCompact]:
        """Every location row in row-id order, packed, in chunks."""

    @abstractmethod
    def file_rowids(self) -> Iterator[tuple[str, str]]:
        """(file, JSON array of its row ids, ascending) for every file."""

    @abstractmethod
    def indexed_rows_after(self, rowid: int) -> tuple[list[str], PatternRows]:
        """Every location row with a row id above `rowid`, in row-id order: each one's
        pattern id, and the rows (what writes since the index last read have added)."""

    @abstractmethod
    def missing_rowids(self, rowids: Sequence[int]) -> set[int]:
        """Those of these location row ids that no longer exist."""


# --- writing --------------------------------------------------------------------------------
class Writer(Reader):
    """One write transaction. Reads inside it see its own writes. Leaving the `with` block
    normally commits (moving the generation if anything changed); an exception rolls
    everything back and comes out unchanged.

    "Changed" means a row was written or removed: deleting, moving or touching an id the
    store does not hold, removing a variant, example, export state or meta value that is
    not there, or an empty batch changes nothing (no generation, not in `changes_since`).
    Variants, examples and history rows get ids that increase in commit order; listings
    of them are by id."""

    #: the moment this transaction began, taken once its write lock was held: every
    #: timestamp the facade writes in it uses this, so history is in commit order
    now: str

    @abstractmethod
    def bulk_load(self) -> None:
        """Say that this transaction goes on to insert many new patterns into an empty
        store: the engine may defer index upkeep (and buffer rows) until the commit."""

    @abstractmethod
    def put_patterns(self, batch: Sequence[PatternWrite]) -> None:
        """Insert or replace each, in order: an id named twice (in one batch, or in two
        batches of one transaction, bulk load or not) ends as its last write."""

    @abstractmethod
    def delete_patterns(self, pattern_ids: Sequence[str]) -> None:
        """Remove patterns with their locations, variants and examples (history stays)."""

    @abstractmethod
    def set_statuses(self, changes: Sequence[StatusChange]) -> None: ...

    @abstractmethod
    def touch_last_seen(self, stamps: Sequence[tuple[str, str]]) -> None:
        """(pattern id, last_seen) of patterns a scan found unchanged."""

    @abstractmethod
    def remember_echoes(self, echoes: Sequence[tuple[str, str]]) -> None:
        """(pattern id, stored echo) of patterns a scan found unchanged that had none
        (`ScanState.echo`); not a change of the pattern: the generation does not move."""

    @abstractmethod
    def record_history(self, rows: Sequence[HistoryRecord]) -> None: ...

    @abstractmethod
    def add_variant(self, variant: Variant) -> Variant:
        """Store it (created now unless it says otherwise); returns it with its id."""

    @abstractmethod
    def remove_variant(self, variant_id: int) -> Variant | None: ...

    @abstractmethod
    def add_example(self, example: Example) -> Example: ...

    @abstractmethod
    def remove_example(self, example_id: int) -> Example | None: ...

    @abstractmethod
    def replace_children(
        self, pattern_id: str, variants: Sequence[Variant], examples: Sequence[Example]
    ) -> None:
        """Make these the pattern's variants and examples (an import)."""

    @abstractmethod
    def put_export_state(
        self, category: str, layout: str, status: str, checksum: str, last_updated: str
    ) -> None: ...

    @abstractmethod
    def drop_export_state(self, category: str, layout: str, status: str) -> None: ...

    @abstractmethod
    def put_meta(self, key: str, value: str | None) -> None:
        """Set (or with None remove) one store_meta value; ValueError for a key of the
        engine's own bookkeeping."""


# --- the store ------------------------------------------------------------------------------
class Engine(ABC):
    """One open store. Thread-safe: readers run side by side, writes take turns (across
    processes too)."""

    @abstractmethod
    def info(self) -> EngineInfo: ...

    @abstractmethod
    def read(self) -> AbstractContextManager[Reader]: ...

    @abstractmethod
    def write(self) -> AbstractContextManager[Writer]: ...

    @abstractmethod
    def generation(self) -> int:
        """The store's generation. Cheap enough to ask on every call of a hot path: a
        commit of this process is seen at once, another process's within
        `CHECK_INTERVAL_S`."""

    def changes_since(self, generation: int) -> ChangeSet:
        with self.read() as r:
            return r.changes_since(generation)

    @abstractmethod
    def snapshot_to(
        self, target: Path, *, on_step: Callable[[int, int], None] | None = None
    ) -> SnapshotInfo:
        """Write this store's committed state to `target` (a new file) as a snapshot file,
        while readers and writers keep working."""

    @abstractmethod
    def restore_from(
        self,
        snapshot: Path,
        *,
        label: str,
        thorough: bool,
        save_current: Callable[[], str],
        discard: Callable[[str], None],
    ) -> str:
        """Make the store hold exactly what `snapshot` holds, as one commit that every
        connection (any process) sees from its next transaction on; the generation moves
        on and `changes_since` of any earlier generation says "everything".

        `save_current()` archives the current state and returns its backup id; the engine
        calls it (and, should a commit land after it began, calls it again once nothing
        else can commit, `discard`ing the stale one), and returns the id of the backup that
        holds the state the restore replaced. Nothing is changed unless the snapshot passes
        `StoreLocation.check_snapshot`; any failure leaves the store as it was.
        """

    @abstractmethod
    def check_integrity(self) -> list[str]:
        """The database's own deep checks (SQLite's integrity_check and foreign keys); one
        line per problem. Safe to run in a thread of its own beside other reads."""

    @abstractmethod
    def close(self) -> None: ...


class StoreLocation(ABC):
    """Where a store lives, before it is opened: a SQLite file under a project, or a
    project in a PostgreSQL database. Made by `engine.locate`."""

    @abstractmethod
    def describe(self) -> str:
        """The store's place for messages (no password)."""

    @abstractmethod
    def exists(self) -> bool:
        """Whether there is a store here to open without creating one."""

    @abstractmethod
    def open(self, *, create: bool, on_migration: MigrationHook | None) -> Engine:
        """Open (creating when allowed) and upgrade the schema; `on_migration` runs before
        an upgrade of an existing store (the facade backs it up there)."""

    @abstractmethod
    def check_snapshot(
        self, snapshot: Path, *, thorough: bool = False, label: str | None = None
    ) -> SnapshotInfo:
        """IntegrityError (or NotADriftStoreError / SchemaTooNewError) unless `snapshot` is
        an intact snapshot file this code can restore; `label` names it in messages."""

    @abstractmethod
    def replace_unopenable(self, snapshot: Path, aside: Path) -> str | None:
        """Put a checked snapshot file in place of a store that cannot be opened at all
        (damaged beyond reading): what it replaces is moved into the folder `aside`, whose
        path is returned (None when nothing was there)."""


#: `StoreLocation.open`'s migration hook: (old version, new version, a function that writes
#: a snapshot file of the store as it is before the upgrade)
MigrationHook = Callable[[int, int, Callable[[Path], SnapshotInfo]], None]
