"""PatternStore: the one public entry to a project's pattern store.

Everything a user can do goes through here, for the CLI and Python callers alike. The
store holds the policy (merge rules, history, a backup before destructive work) and reaches
the data only through its engine (`engine.base`), which it never names: SQLite today, any
engine that passes the contract suite tomorrow.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from driftstore.engine import is_server_store, locate
from driftstore.engine.base import ChangeSet, Engine, EngineInfo, SnapshotInfo
from driftstore.errors import (
    AmbiguousIdError,
    InvalidInputError,
    PatternNotFoundError,
    Remedy,
    StoreNotFoundError,
)
from driftstore.facade import health, inputs, writes
from driftstore.facade.inputs import checked
from driftstore.facade.results import (
    BackupInfo,
    CheckReport,
    DecisionReport,
    DiffReport,
    ExampleList,
    ExportReport,
    FileContext,
    FileDiagnostics,
    FileReport,
    HistoryList,
    ImportReport,
    IngestPreview,
    IngestReport,
    MigrateReport,
    OutlierList,
    PatternDetail,
    PatternPage,
    RestoreReport,
    SarifSummary,
    StatusReport,
    VariantView,
    VerifyReport,
)
from driftstore.model.clock import normalise_iso
from driftstore.model.enums import Severity, Status
from driftstore.model.paths import (
    DRIFT_DIR,
    in_store_spelling,
    normalise_path,
    safe_relative_path,
)
from driftstore.model.pattern import Pattern
from driftstore.model.query import PatternFilter, QueryResult, Sort, SortField

if TYPE_CHECKING:
    from driftstore.facade.file_report import SummaryCache
    from driftstore.facade.timeline import StoreAsOf
    from driftstore.formats.scan import ScanEntry
    from driftstore.index import FileIndex
    from driftstore.model.effective import Effective
    from driftstore.model.file_pattern import FilePattern
    from driftstore.model.records import Example, HistoryEntry, Variant

# Heavy modules (archives, shard formats, migration, scan parsing) are imported inside the
# methods that use them: a one-shot command such as `driftstore file` must start in well
# under 150 ms (benchmark B4), and most commands need none of them.


#: environment variables that choose the store when `open` is given none (as libpq's PG*
#: variables do for a connection): a `postgresql://` URL, and the project in it
STORE_ENV = "DRIFTSTORE_STORE"
PROJECT_ENV = "DRIFTSTORE_PROJECT"


def chosen_store(store: str | None, project: str | None) -> tuple[str | None, str | None]:
    """The store and project a caller gave, else the environment's (None: the defaults)."""
    return (
        store if store is not None else (os.environ.get(STORE_ENV) or None),
        project if project is not None else (os.environ.get(PROJECT_ENV) or None),
    )


class PatternStore:
    """A project's store: its data (through an engine) plus the files beside it in
    `<root>/.drift/` (backups, shards)."""

    def __init__(
        self,
        root: str | Path,
        *,
        create: bool = True,
        engine: Engine | None = None,
        store: str | None = None,
        project: str | None = None,
    ) -> None:
        self.root = Path(root).resolve()
        if not self.root.is_dir():
            raise InvalidInputError(
                f"{root}: no such folder; pass an existing project folder as root"
            )
        self.drift_dir = self.root / DRIFT_DIR
        store, project = chosen_store(store, project)
        self.location = locate(self.drift_dir, store, project)
        if engine is None:
            if not create and not self.location.exists():
                raise StoreNotFoundError(
                    f"{self.location.describe()}: no store here",
                    remedy=Remedy.CREATE_STORE,
                    path=str(self.root),
                )
            engine = self.location.open(create=create, on_migration=self._backup_before_migration)
            if create and is_server_store(store):
                # `.drift/` marks the project's root (found from a subfolder, as git finds
                # `.git`) and holds its backups and shards; the data is on the server
                with contextlib.suppress(OSError):
                    self.drift_dir.mkdir(exist_ok=True)
        self.engine = engine
        self._index: FileIndex | None = None
        self._summaries: SummaryCache | None = None
        self._index_lock = threading.Lock()

    def _backup_before_migration(
        self, old_version: int, new_version: int, snapshot_to: Callable[[Path], SnapshotInfo]
    ) -> None:
        """A schema migration rewrites tables: keep the old state first."""
        from driftstore.facade.backups import create_backup

        del new_version
        create_backup(snapshot_to, self.drift_dir, f"schema-v{old_version}")

    # --- lifecycle ---------------------------------------------------------------------
    def close(self) -> None:
        self._close_index()
        self.engine.close()

    def _close_index(self) -> None:
        with self._index_lock:
            if self._index is not None:
                self._index.close()
                self._index = None

    def __enter__(self) -> PatternStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def info(self) -> EngineInfo:
        """Which engine holds the data, where, and at which schema version."""
        return self.engine.info()

    # --- the change signal -------------------------------------------------------------
    @property
    def generation(self) -> int:
        """The store's generation: moves by one with every committed write that changed
        something, from this process or any other (seen within a millisecond)."""
        return self.engine.generation()

    def changes_since(self, generation: int) -> ChangeSet:
        """Ids of the patterns changed after `generation` (`ids` None: treat everything as
        changed, e.g. after a restore)."""
        return self.engine.changes_since(generation)

    # --- single patterns ---------------------------------------------------------------
    @checked
    def add(self, pattern: Pattern | Mapping[str, Any], *, by: str | None = None) -> Pattern:
        """Insert one new pattern (a Pattern or a dict in the scan-entry shape);
        PatternAlreadyExistsError if the id is taken."""
        return writes.add_patterns(self.engine, [inputs.pattern(pattern)], by=by)[0]

    @checked
    def add_many(
        self, items: Iterable[Pattern | Mapping[str, Any]], *, by: str | None = None
    ) -> list[Pattern]:
        """Insert new patterns in one transaction: all of them, or none."""
        return writes.add_patterns(self.engine, inputs.patterns(items), by=by)

    @checked
    def get(self, pattern_id: str) -> Pattern | None:
        with self.engine.read() as r:
            return r.pattern(pattern_id)

    @checked
    def require(self, pattern_id: str) -> Pattern:
        found = self.get(pattern_id)
        if found is None:
            raise PatternNotFoundError(pattern_id)
        return found

    @checked
    def exists(self, pattern_id: str) -> bool:
        with self.engine.read() as r:
            return bool(r.existing_ids([pattern_id]))

    @checked
    def count(self, filter: PatternFilter | Mapping[str, Any] | None = None) -> int:
        return self.query(filter, limit=0).total

    @checked
    def update(self, pattern_id: str, *, by: str | None = None, **changes: Any) -> Pattern:
        """Change fields of one pattern (history: updated, or approved/ignored for status)."""
        return writes.update_pattern(self.engine, pattern_id, changes, by=by)

    @checked
    def delete(self, pattern_id: str, *, by: str | None = None) -> bool:
        """Remove a pattern and everything hanging off it. False if it was not there."""
        return writes.delete_pattern(self.engine, pattern_id, by=by)

    # --- decisions ---------------------------------------------------------------------
    @checked
    def set_status(
        self,
        ids: str | Sequence[str],
        target: Status | str,
        *,
        by: str | None = None,
        reason: str | None = None,
    ) -> DecisionReport:
        """Move every id to `target` in one transaction; one refused move refuses all; ids
        already there are reported as unchanged (no history row). `reason` goes into each
        history row."""
        return writes.set_status(
            self.engine, inputs.ids(ids), inputs.status(target), by=by, reason=reason
        )

    @checked
    def approve(
        self, pattern_id: str | Sequence[str], by: str | None = None, *, reason: str | None = None
    ) -> DecisionReport:
        """Approve one pattern or several (all or nothing)."""
        return self.set_status(pattern_id, Status.APPROVED, by=by, reason=reason)

    @checked
    def ignore(
        self, pattern_id: str | Sequence[str], by: str | None = None, *, reason: str | None = None
    ) -> DecisionReport:
        """Ignore one pattern or several (all or nothing)."""
        return self.set_status(pattern_id, Status.IGNORED, by=by, reason=reason)

    @checked
    def resolve_id(self, ref: str) -> str:
        """The stored id `ref` names: itself, or the one id it is a unique prefix of (as
        git takes a shortened commit id). PatternNotFoundError, or AmbiguousIdError
        naming the candidates."""
        if not isinstance(ref, str) or not ref:
            raise InvalidInputError("give a pattern id")
        with self.engine.read() as r:
            if r.existing_ids([ref]):
                return ref
            found = r.ids_with_prefix(ref, limit=11)
        if len(found) == 1:
            return found[0]
        if not found:
            raise PatternNotFoundError(ref)
        raise AmbiguousIdError(ref, found)

    @checked
    def project_path(self, path: str | Path) -> str:
        """A path as the store spells it: relative to the project root, `/`-separated,
        `..` resolved. Accepts absolute paths under the root (what editors send); refuses
        a path outside it."""
        return project_relative(self.root, path)

    @checked
    def decide_where(
        self,
        filter: PatternFilter | Mapping[str, Any],
        target: Status | str,
        *,
        by: str | None = None,
        dry_run: bool = False,
    ) -> DecisionReport:
        """Approve or ignore every pattern `filter` selects, in one transaction (all or
        nothing, one history row per pattern moved); those already there are reported as
        unchanged. `dry_run` says what would move and writes nothing."""
        wanted = inputs.status(target)
        if wanted == Status.DISCOVERED:
            raise InvalidInputError("a decision is approved or ignored")
        selected = self.query(filter, limit=None).patterns
        unchanged = [s.id for s in selected if s.status == wanted]
        moving = [s.id for s in selected if s.status != wanted]
        if moving and not dry_run:
            self.set_status(moving, wanted, by=by)
        return DecisionReport(status=wanted, ids=moving, unchanged=unchanged, dry_run=dry_run)

    # --- reading many ------------------------------------------------------------------
    @checked
    def query(
        self,
        filter: PatternFilter | Mapping[str, Any] | None = None,
        sort: Sort | SortField | str | None = None,
        offset: int = 0,
        limit: int | None = None,
        *,
        cursor: str | None = None,
        descending: bool | None = None,
    ) -> QueryResult:
        """One page of patterns. `filter` is a PatternFilter or a dict of its fields;
        `sort` a field name ('-confidence' sorts descending, as does descending=True)."""
        order = inputs.sort(sort, descending)
        if offset < 0 or (limit is not None and limit < 0):
            raise InvalidInputError("offset and limit must be 0 or more")
        with self.engine.read() as r:
            return r.query(
                inputs.pattern_filter(filter), order, offset=offset, limit=limit, cursor=cursor
            )

    def by_file(
        self, path: str, *, include_disabled: bool = False, fresh: bool = False
    ) -> list[FilePattern]:
        """Patterns with a location or outlier in `path`, sorted by id, each carrying only
        that file's locations and outliers plus its `effective` settings there (variants
        applied). A pattern a variant disables for this file is marked by
        `effective.enabled == False` and left out unless `include_disabled` (as `file`
        does). Absolute paths under the project root are accepted.

        The hot path: answered from the in-memory index, built on first use and kept
        current with this and other processes' writes; the patterns returned are shared
        with its cache, so treat them as read-only. `fresh=True` answers from the store
        instead, without building the index (what a one-shot process wants).
        """
        file = project_relative(self.root, path)  # checks the type: the hot path skips @checked
        if fresh:
            from driftstore.index import read_file_patterns

            with self.engine.read() as r:
                return read_file_patterns(r, file, include_disabled=include_disabled)
        return self._file_index().lookup(file, include_disabled=include_disabled)

    def diagnostics(
        self,
        path: str,
        statuses: Sequence[Status | str] = (Status.APPROVED,),
        *,
        fresh: bool = False,
    ) -> FileDiagnostics:
        """The outliers an editor marks in `path`: one per outlier of each pattern with one
        of `statuses` that touches it and is enabled there (ignored patterns never), with
        its stable id, its effective severity, and the store generation it is true at.
        From the in-memory index (`fresh`: straight from the store)."""
        from driftstore.facade.outliers import diagnostics_from, file_diagnostics

        file = self.project_path(path)
        wanted = [inputs.status(s) for s in inputs.ids(statuses, "statuses")]
        if fresh:
            return file_diagnostics(self.engine, file, wanted)
        found, generation = self._file_index().lookup_at(file, include_disabled=False)
        return diagnostics_from(file, found, wanted, generation)

    @checked
    def outliers(
        self,
        *,
        statuses: Sequence[Status | str] | str = (Status.APPROVED,),
        categories: Sequence[str] | str | None = None,
        files: Sequence[str] | str | None = None,
        min_severity: Severity | str = Severity.HINT,
        limit: int | None = 100,
    ) -> OutlierList:
        """Stored outliers of the patterns with these statuses (default approved), in
        these categories and files when given, most severe first; `total` counts all."""
        from driftstore.facade.outliers import list_outliers

        if limit is not None and limit < 0:
            raise InvalidInputError("limit must be 0 or more")
        return list_outliers(
            self.engine,
            statuses=[inputs.status(s) for s in inputs.ids(statuses, "statuses")],
            categories=inputs.ids(categories, "categories") if categories is not None else None,
            files=[self.project_path(f) for f in inputs.ids(files, "files")]
            if files is not None
            else None,
            min_severity=_severity(min_severity),
            limit=limit,
        )

    @checked
    def page(
        self,
        filter: PatternFilter | Mapping[str, Any] | None = None,
        sort: Sort | SortField | str | None = None,
        *,
        limit: int = 50,
        cursor: str | None = None,
        descending: bool | None = None,
    ) -> PatternPage:
        """A page of `query` for callers that come back later: `nextCursor` continues the
        same listing and is refused (StaleCursorError) once the store has changed."""
        from driftstore.facade.pages import page

        if limit < 1:
            raise InvalidInputError("limit must be 1 or more")
        return page(
            self.engine,
            inputs.pattern_filter(filter),
            inputs.sort(sort, descending),
            limit,
            cursor,
        )

    @checked
    def context_for_file(
        self,
        path: str,
        *,
        budget_tokens: int = 2000,
        statuses: Sequence[Status | str] = (Status.APPROVED, Status.DISCOVERED),
    ) -> FileContext:
        """What to know before editing `path`: the patterns touching it (approved first)
        with their settings there and a good and a bad example each, within about
        `budget_tokens` tokens (4 characters each)."""
        from driftstore.facade.context import file_context

        if budget_tokens < 1:
            raise InvalidInputError("budget_tokens must be 1 or more")
        return file_context(
            self.engine,
            self.root,
            self.project_path(path),
            budget_tokens=budget_tokens,
            statuses=[inputs.status(s) for s in inputs.ids(statuses, "statuses")],
        )

    def _file_index(self) -> FileIndex:
        with self._index_lock:
            if self._index is None:
                from driftstore.index import FileIndex

                self._index = FileIndex(self.engine)
            return self._index

    @checked
    def status(self) -> StatusReport:
        """Totals by status, category and confidence level; locations and outliers; per
        category counts by status (`categories`); `health`, 0-100 (`facade.health`); and
        the store `generation` the figures were read at."""
        with self.engine.read() as r:
            stats = r.stats()
            generation = r.generation()
        return health.status_report(stats, generation)

    @checked
    def history(
        self,
        id: str | None = None,
        since: str | None = None,
        limit: int | None = None,
    ) -> list[HistoryEntry]:
        if since is not None:
            try:
                since = normalise_iso(since)
            except ValueError:
                raise InvalidInputError(
                    f"since {since!r} is not an ISO-8601 time; use e.g. 2026-05-01T12:00:00Z"
                ) from None
        if limit is not None and limit < 0:
            raise InvalidInputError("limit must be 0 or more")
        with self.engine.read() as r:
            return r.history(id, since=since, limit=limit)

    @checked
    def history_list(
        self, id: str | None = None, since: str | None = None, limit: int = 50
    ) -> HistoryList:
        """`history` capped at `limit` (0: all), saying whether more entries exist."""
        if limit < 0:
            raise InvalidInputError("limit must be 0 or more")
        found = self.history(id, since, None if limit == 0 else limit + 1)
        more = limit > 0 and len(found) > limit
        return HistoryList(entries=found[:limit] if more else found, has_more=more)

    @checked
    def example_list(
        self, pattern_id: str, *, fresh: bool = False, max: int = 3, context: int = 5
    ) -> ExampleList:
        """A pattern's stored examples, or (`fresh`) up to `max` cut from the project now."""
        if fresh:
            found = self.examples_for(pattern_id, max=max, context=context)
        else:
            found = self.examples(pattern_id)
        return ExampleList(pattern_id=pattern_id, fresh=fresh, examples=found)

    @checked
    def require_id(self, pattern_id: str) -> None:
        """PatternNotFoundError unless the id is stored or has history (deleted ones do)."""
        with self.engine.read() as r:
            if r.known_ids([pattern_id]):
                return
        raise PatternNotFoundError(pattern_id)

    @checked
    def describe(self, pattern_id: str) -> PatternDetail:
        """`show`: the v2 entry plus category, variants (each marked `expired` or not),
        examples, history, and related patterns (same category and subcategory)."""
        from driftstore.facade.detail import describe

        return describe(self.engine, pattern_id)

    @checked
    def file_report(
        self, path: str, *, include_disabled: bool = False, indexed: bool = False
    ) -> FileReport:
        """`file`: patterns touching PATH (summary, their locations there, and the effective
        settings for PATH), disabled ones only with include_disabled.

        Answered from the store so a one-shot process does not build the in-memory index;
        `indexed=True` (what a server wants) answers from the index and a summary cache
        both kept current with the store's generation.
        """
        from driftstore.facade.file_report import SummaryCache, build_report, file_report

        file = self.project_path(path)
        if not indexed:
            return file_report(self.engine, file, include_disabled=include_disabled)
        with self._index_lock:
            if self._summaries is None:
                self._summaries = SummaryCache(self.engine)
            cache = self._summaries
        for _ in range(3):  # a write between the two reads: ask again
            before, summaries = cache.current()
            found = self.by_file(file, include_disabled=include_disabled)
            if all(p.id in summaries for p in found) and cache.current()[0] == before:
                return build_report(file, found, summaries)
        return file_report(self.engine, file, include_disabled=include_disabled)

    def file_report_now(self, path: str, *, include_disabled: bool = False) -> FileReport | None:
        """`file_report(indexed=True)` when it can be answered at once, from an index and a
        summary cache that are built, current and free; else None, and the caller asks
        `file_report` where waiting is fine. A server's event loop calls this so that a
        warm answer costs no hand-over to a worker thread (benchmarks/NOTES.md)."""
        from driftstore.facade.file_report import build_report

        file = self.project_path(path)
        index, cache = self._index, self._summaries
        if index is None or cache is None:
            return None
        summaries = cache.current_now()
        if summaries is None:
            return None
        found = index.lookup_now(file, include_disabled=include_disabled)
        if found is None or found[1] != summaries[0]:
            return None
        if not all(p.id in summaries[1] for p in found[0]):
            return None
        return build_report(file, found[0], summaries[1])

    # --- scans -------------------------------------------------------------------------
    @checked
    def ingest(
        self,
        entries: Iterable[Pattern | Mapping[str, Any]] | str | Path | IO[bytes],
        prune: bool = False,
        *,
        on_progress: Callable[[int], None] | None = None,
        dry_run: bool = False,
        force: bool = False,
    ) -> IngestReport | IngestPreview:
        """Merge a scan (patterns, or a path / '-' / stream of scan JSON) into the store;
        `dry_run` only says what would change (`changes`) and writes nothing. A prune
        that would delete more than half of the discovered patterns (what an empty or
        cut-off scan does) is refused unless `force`."""
        from driftstore.facade.ingest import merge_scan, preview_scan

        if dry_run:
            return preview_scan(self.engine, self._scan_entries(entries), prune=prune)
        return merge_scan(
            self.engine,
            self._scan_entries(entries),
            prune=prune,
            on_progress=on_progress,
            before_prune=lambda: self.backup("ingest-prune"),
            force=force,
        )

    # --- time travel -------------------------------------------------------------------
    @checked
    def as_of(self, moment: str) -> StoreAsOf:
        """The store as it was at `moment` (an ISO-8601 time or a backup id), read-only,
        from history: `status`, `query`, `get`, `describe`, `history`, `exists`."""
        from driftstore.facade.timeline import StoreAsOf, resolve_moment

        return StoreAsOf(self.engine, self.drift_dir, resolve_moment(moment, self.drift_dir))

    @checked
    def diff(self, since: str | None = None, until: str | None = None) -> DiffReport:
        """What changed after `since` up to `until` (ISO-8601 times or backup ids; None:
        from the beginning / up to now): patterns added and removed, status moves (who,
        when), field changes with confidence, location and outlier counts, per category."""
        from driftstore.facade.timeline import diff, resolve_moment

        start = None if since is None else resolve_moment(since, self.drift_dir)
        end = None if until is None else resolve_moment(until, self.drift_dir)
        if start is not None and end is not None and end < start:
            raise InvalidInputError(f"--until {until} is before --since {since}; swap them")
        return diff(self.engine, start, end)

    # --- CI: the gate and code scanning -----------------------------------------------
    @checked
    def check(
        self,
        scan: Iterable[Pattern] | str | Path | IO[bytes] | None = None,
        *,
        fail_on: str = "new",
        min_severity: Severity | str = Severity.HINT,
        ingest: bool = False,
    ) -> CheckReport:
        """The CI gate: outliers of approved patterns in `scan` (a path, '-', a stream or
        patterns; None: the store as it is), each new, unchanged or absent against the
        stored state by its stable identity; `failed` per `fail_on` (new | any). Writes
        nothing unless `ingest`, which then merges the scan after the comparison."""
        from driftstore.facade import gate

        if fail_on not in gate.FAIL_ON:
            raise InvalidInputError(f"fail-on {fail_on!r}: choose new or any")
        floor = _severity(min_severity)
        if scan is None:
            if ingest:
                raise InvalidInputError("--ingest needs a scan to ingest; give SCAN or '-'")
            return gate.check(self.engine, None, fail_on=fail_on, min_severity=floor)
        with _replayable(scan, self.drift_dir) as source:
            report = gate.check(
                self.engine,
                self._scan_entries(source),
                fail_on=fail_on,
                min_severity=floor,
            )
            if ingest:
                report.ingest = self.ingest(source)
        return report

    @checked
    def sarif_log(
        self,
        *,
        statuses: Sequence[Status | str] = (Status.APPROVED,),
        min_severity: Severity | str = Severity.HINT,
        categories: Sequence[str] | None = None,
        include_suppressed: bool = False,
        compared: CheckReport | None = None,
    ) -> tuple[bytes, SarifSummary]:
        """A SARIF 2.1.0 log of the outliers of patterns in `statuses` (or of a `check`'s
        outliers, with their baselineState), within code scanning's limits."""
        from driftstore.facade.gate import sarif_log

        try:
            wanted = [Status(s) for s in statuses]
        except ValueError as exc:
            raise InvalidInputError(
                f"status: {exc}; choose discovered, approved or ignored"
            ) from None
        return sarif_log(
            self.engine,
            self.root,
            statuses=wanted,
            min_severity=_severity(min_severity),
            categories=list(categories) if categories else None,
            include_suppressed=include_suppressed,
            compared=compared,
        )

    def _scan_entries(
        self, source: Iterable[Pattern | Mapping[str, Any]] | str | Path | IO[bytes]
    ) -> Iterable[Pattern | ScanEntry]:
        """The scan's entries: a scan file's as `ScanEntry`s, undecoded (a merge, its dry
        run and the gate decode only those they do not already hold), others as patterns."""
        from driftstore.formats.scan import scan_entries
        from driftstore.model.validate import validated

        if isinstance(source, str | Path) or hasattr(source, "read"):
            return scan_entries(source)  # type: ignore[arg-type]
        if isinstance(source, Mapping | bytes | Pattern):
            raise InvalidInputError(
                "a scan is a path, '-', a binary stream, or a list of patterns or entry dicts"
            )
        if not isinstance(source, Iterable):
            raise InvalidInputError(
                f"a scan is a path, '-', a binary stream, or a list of patterns; got "
                f"{type(source).__name__}"
            )
        return (
            validated(inputs.pattern(p, f"scan entry {n + 1}"), where=f"scan entry {n + 1}")
            for n, p in enumerate(source)
        )

    # --- backups -----------------------------------------------------------------------
    @checked
    def backup(self, reason: str = "manual") -> str:
        """Archive a consistent snapshot under .drift/backups/; returns the backup id."""
        from driftstore.facade.backups import create_backup

        return create_backup(self.engine.snapshot_to, self.drift_dir, reason)

    @checked
    def backups(self) -> list[BackupInfo]:
        """Every backup, newest first."""
        from driftstore.facade.backups import list_backups

        return list_backups(self.drift_dir)

    @checked
    def prune_backups(self, keep: int) -> list[str]:
        """Delete all but the `keep` newest backups; returns the deleted ids."""
        from driftstore.facade.backups import prune_backups

        return prune_backups(self.drift_dir, keep)

    @checked
    def restore(self, backup_id: str, *, thorough: bool = False) -> RestoreReport:
        """Make a backup the store's content, after checking it and backing up the current
        state: one commit, which every open connection (here and in other processes) sees
        from its next transaction on. `thorough` runs the database's full integrity check
        on the backup instead of the quick one."""
        from driftstore.facade.backups import restore_backup

        self._close_index()  # everything changed: build afresh on the next ask
        return restore_backup(
            self.engine, self.location, self.drift_dir, backup_id, thorough=thorough
        )

    # --- files: export, import, verify, migrate -----------------------------------------
    @checked
    def export(self, out_dir: str | Path | None = None, layout: str = "v2") -> ExportReport:
        """Write the shards and index files (formats.md) under `out_dir` (default .drift/)."""
        from driftstore.facade.export import export_store

        out = Path(out_dir) if out_dir is not None else self.drift_dir
        return export_store(self.engine, out, layout=layout, root=self.root)

    @checked
    def import_(self, dir: str | Path | None = None, force: bool = False) -> ImportReport:
        """Load v2 shards; every checksum is checked before anything is written."""
        from driftstore.facade import import_shards

        source = Path(dir) if dir is not None else self.drift_dir
        plan = import_shards.read_import(source, root=self.root, force=force)
        backup_id = self.backup("import")
        report = import_shards.apply_import(self.engine, plan)
        report.backup = backup_id
        return report

    @checked
    def verify(self) -> VerifyReport:
        """Database integrity checks plus the checksum of every pattern file present."""
        from driftstore.facade.paths import display
        from driftstore.facade.verify import verify_store

        name = self.location.describe()
        if name.startswith("/"):
            name = display(Path(name), self.root)
        return verify_store(self.engine, self.drift_dir, root=self.root, name=name)

    @checked
    def migrate(
        self, source: str | Path | None = None, *, dry_run: bool = False, backup: bool = True
    ) -> MigrateReport:
        """Import a drift 0.9 `.drift/` tree (default: this project's)."""
        from driftstore.facade.migrate import migrate

        return migrate(
            self.engine,
            Path(source) if source is not None else self.root,
            dry_run=dry_run,
            backup=self.backup if backup else None,
        )

    # --- variants and examples ---------------------------------------------------------
    @checked
    def add_variant(
        self,
        pattern_id: str,
        *,
        scope: str = "global",
        path: str | None = None,
        severity: str | None = None,
        enabled: bool | None = None,
        threshold: float | None = None,
        config: str | dict[str, Any] | None = None,
        expires: str | datetime | None = None,
        by: str | None = None,
        reason: str | None = None,
    ) -> Variant:
        """A scoped override of one pattern (history: updated, 'variant added')."""
        from driftstore.facade import variants

        variant = variants.build_variant(
            self.root,
            pattern_id,
            scope=scope,
            path=path,
            severity=severity,
            enabled=enabled,
            threshold=threshold,
            config=config,
            expires=expires,
            now=datetime.now(UTC),
        )
        return variants.add_variant(self.engine, variant, by=by, reason=reason)

    @checked
    def variants(self, pattern_id: str | None = None) -> list[Variant]:
        """Variants of one pattern, or of all, oldest first (expired ones included)."""
        with self.engine.read() as r:
            if pattern_id is not None and not r.existing_ids([pattern_id]):
                raise PatternNotFoundError(pattern_id)
            return r.variants(pattern_id)

    @checked
    def variant_views(self, pattern_id: str | None = None) -> list[VariantView]:
        """`variant list`: the variants as JSON, each with `expired`."""
        from driftstore.facade.variants import variant_view

        now = datetime.now(UTC)
        return [variant_view(v, now) for v in self.variants(pattern_id)]

    @checked
    def remove_variant(self, variant_id: int, *, by: str | None = None) -> Variant:
        """Delete one variant (history: updated, 'variant removed'); VariantNotFoundError."""
        from driftstore.facade.variants import remove_variant

        return remove_variant(self.engine, variant_id, by=by)

    @checked
    def effective_for(self, pattern_id: str, path: str) -> Effective:
        """The pattern's settings for the file at `path`, its active variants applied."""
        from driftstore.facade.variants import effective_for

        file = safe_relative_path(path, what="file")
        return effective_for(self.engine, pattern_id, file, datetime.now(UTC))

    @checked
    def add_example(
        self,
        pattern_id: str,
        file: str,
        lines: str | tuple[int, int],
        *,
        bad: bool = False,
        by: str | None = None,
    ) -> Example:
        """Store lines A-B of a project file as a good (or, with bad, a bad) example."""
        if not self.exists(pattern_id):
            raise PatternNotFoundError(pattern_id)
        from driftstore.facade import examples

        example = examples.read_example(self.root, pattern_id, file, lines, positive=not bad)
        return examples.add_example(self.engine, example, by=by)

    @checked
    def examples(self, pattern_id: str) -> list[Example]:
        """The stored examples of one pattern, oldest first."""
        with self.engine.read() as r:
            if not r.existing_ids([pattern_id]):
                raise PatternNotFoundError(pattern_id)
            return r.examples(pattern_id)

    @checked
    def remove_example(self, example_id: int, *, by: str | None = None) -> Example:
        from driftstore.facade.examples import remove_example

        return remove_example(self.engine, example_id, by=by)

    @checked
    def examples_for(self, pattern_id: str, max: int = 3, context: int = 5) -> list[Example]:
        """Fresh (unstored) examples cut from the project around the pattern's locations,
        `context` lines either side; missing or unreadable files are skipped."""
        p = self.require(pattern_id)
        from driftstore.facade.examples import fresh_examples

        candidates = [loc for loc in p.locations if loc.is_outlier is not True]
        return fresh_examples(self.root, pattern_id, candidates, limit=max, context=context)


def _severity(value: Severity | str) -> Severity:
    try:
        return Severity(value)
    except ValueError:
        raise InvalidInputError(
            f"severity {value!r} is not valid; choose one of {', '.join(s.value for s in Severity)}"
        ) from None


@contextmanager
def _replayable(scan: Any, drift_dir: Path) -> Iterator[Any]:
    """A scan that can be read twice (compared, then ingested): stdin or a stream is
    copied to a private temp file under .drift/ first; paths and patterns are as given."""
    if not (scan == "-" or hasattr(scan, "read")):
        if isinstance(scan, str | Path):
            yield scan
        else:
            yield list(scan)
        return
    import shutil
    import sys
    import tempfile

    stream = sys.stdin.buffer if scan == "-" else scan
    drift_dir.mkdir(exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=drift_dir, prefix=".scan-", suffix=".tmp") as copy:
        shutil.copyfileobj(stream, copy)
        copy.flush()
        yield Path(copy.name)


def project_relative(root: Path, path: str | Path) -> str:
    """`path` relative to `root` in the store's spelling (see PatternStore.project_path)."""
    if type(path) is str and in_store_spelling(path):
        return path
    import os
    import posixpath

    if not isinstance(path, str | os.PathLike):
        raise InvalidInputError(f"a file path must be a string, not {type(path).__name__}")
    text = os.fspath(path)
    if not isinstance(text, str) or not text.strip():
        raise InvalidInputError("give a file path")
    if "\x00" in text:
        raise InvalidInputError(f"{text!r}: a path cannot hold a NUL character")
    if os.path.isabs(text):
        for candidate in (os.path.normpath(text), os.path.realpath(text)):
            try:
                relative = Path(candidate).relative_to(root)
            except ValueError:
                continue
            return relative.as_posix() or "."
        raise InvalidInputError(
            f"{text}: outside the project ({root}); give a path inside it", path=text
        )
    spelled = normalise_path(text)
    clean = posixpath.normpath(spelled)
    if clean == ".." or clean.startswith("../") or clean.startswith("/"):
        raise InvalidInputError(
            f"{text}: outside the project ({root}); give a path inside it", path=text
        )
    return clean


def open(
    root: str | Path = ".",
    *,
    create: bool = True,
    store: str | None = None,
    project: str | None = None,
) -> PatternStore:
    """Open (and by default create) the store of the project at `root`: its SQLite file,
    or with `store="postgresql://..."` (or DRIFTSTORE_STORE) the project `project` (or
    DRIFTSTORE_PROJECT; default: the root folder's name) of a PostgreSQL database."""
    return PatternStore(root, create=create, store=store, project=project)
