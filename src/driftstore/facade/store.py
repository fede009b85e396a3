"""PatternStore: the one public entry to a project's pattern store.

Everything a user can do goes through here, for the CLI and Python callers alike. The
store owns the database, takes a backup before destructive work, and keeps history in
the same transaction as every change.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from driftstore.engine import examples as example_sql
from driftstore.engine import history as history_sql
from driftstore.engine import patterns as pattern_sql
from driftstore.engine import queries
from driftstore.engine import variants as variant_sql
from driftstore.engine.connection import Database
from driftstore.errors import DriftStoreError, InvalidInputError, PatternNotFoundError
from driftstore.facade import byfile_index, summaries, writes
from driftstore.model.clock import normalise_iso
from driftstore.model.enums import Status
from driftstore.model.paths import safe_relative_path
from driftstore.model.query import PatternFilter, QueryResult, Sort, SortField

if TYPE_CHECKING:
    from driftstore.facade.backups import BackupInfo, RestoreReport
    from driftstore.facade.exchange import ExportReport
    from driftstore.facade.ingest import IngestReport
    from driftstore.facade.migrate import MigrateReport
    from driftstore.facade.shard_import import ImportReport
    from driftstore.facade.verify import VerifyReport
    from driftstore.model.effective import Effective, FilePattern
    from driftstore.model.pattern import Pattern
    from driftstore.model.records import Example, HistoryEntry, Variant

# Heavy modules (archives, shard formats, migration, scan parsing) are imported inside the
# methods that use them: a one-shot command such as `driftstore file` must start in well
# under 150 ms (benchmark B4), and most commands need none of them.

DRIFT_DIR = ".drift"
DB_NAME = "drift.db"


class PatternStore:
    """A project's store: `<root>/.drift/drift.db` plus the files beside it."""

    def __init__(self, root: str | Path, *, create: bool = True) -> None:
        self.root = Path(root).resolve()
        if not self.root.is_dir():
            raise InvalidInputError(
                f"{root}: no such folder; pass an existing project folder as root"
            )
        self.drift_dir = self.root / DRIFT_DIR
        self.db_path = self.drift_dir / DB_NAME
        if not self.db_path.exists() and not create:
            raise DriftStoreError(f"{self.db_path}: no store here; run 'driftstore init' first")
        try:
            self.drift_dir.mkdir(exist_ok=True)
        except OSError as exc:
            raise DriftStoreError(f"{self.drift_dir}: cannot create it ({exc.strerror})") from None
        self.db = self._open_database()
        self._index: byfile_index.FileIndex | None = None
        self._index_lock = threading.Lock()

    def _open_database(self) -> Database:
        from driftstore.facade.emptied import refuse_emptied

        refuse_emptied(self.db_path, self.drift_dir)
        return Database(self.db_path, before_migration=self._backup_before_migration)

    def _backup_before_migration(self, old_version: int, new_version: int) -> None:
        """A schema migration rewrites tables: keep the old state first."""
        from driftstore.facade import backups as backup_ops

        backup_ops.create_backup(self.db_path, self.drift_dir, f"schema-v{old_version}")

    # --- lifecycle ---------------------------------------------------------------------
    def close(self) -> None:
        self._close_index()
        self.db.close()

    def _close_index(self) -> None:
        with self._index_lock:
            if self._index is not None:
                self._index.close()
                self._index = None

    def __enter__(self) -> PatternStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- single patterns ---------------------------------------------------------------
    def add(self, pattern: Pattern, *, by: str | None = None) -> Pattern:
        """Insert one new pattern; PatternAlreadyExistsError if the id is taken."""
        return self.add_many([pattern], by=by)[0]

    def add_many(self, items: Iterable[Pattern], *, by: str | None = None) -> list[Pattern]:
        """Insert new patterns in one transaction: all of them, or none."""
        added = writes.add_patterns(self.db, items, by=by)
        self._changed([p.id for p in added])
        return added

    def get(self, pattern_id: str) -> Pattern | None:
        with self.db.reader() as conn:
            return pattern_sql.load_pattern(conn, pattern_id)

    def require(self, pattern_id: str) -> Pattern:
        found = self.get(pattern_id)
        if found is None:
            raise PatternNotFoundError(pattern_id)
        return found

    def exists(self, pattern_id: str) -> bool:
        with self.db.reader() as conn:
            return pattern_sql.exists(conn, pattern_id)

    def count(self, filter: PatternFilter | None = None) -> int:
        return self.query(filter, limit=0).total

    def update(self, pattern_id: str, *, by: str | None = None, **changes: Any) -> Pattern:
        """Change fields of one pattern (history: updated, or approved/ignored for status)."""
        new = writes.update_pattern(self.db, pattern_id, changes, by=by)
        self._changed([pattern_id])
        return new

    def delete(self, pattern_id: str, *, by: str | None = None) -> bool:
        """Remove a pattern and everything hanging off it. False if it was not there."""
        removed = writes.delete_pattern(self.db, pattern_id, by=by)
        if removed:
            self._changed([pattern_id])
        return removed

    # --- decisions ---------------------------------------------------------------------
    def set_status(self, ids: Sequence[str], target: Status, *, by: str | None = None) -> list[str]:
        """Move every id to `target` in one transaction; one refused move refuses all."""
        done = writes.set_status(self.db, ids, target, by=by)
        self._changed(done)
        return done

    def approve(self, pattern_id: str | Sequence[str], by: str | None = None) -> list[str]:
        ids = [pattern_id] if isinstance(pattern_id, str) else list(pattern_id)
        return self.set_status(ids, Status.APPROVED, by=by)

    def ignore(self, pattern_id: str | Sequence[str], by: str | None = None) -> list[str]:
        ids = [pattern_id] if isinstance(pattern_id, str) else list(pattern_id)
        return self.set_status(ids, Status.IGNORED, by=by)

    # --- reading many ------------------------------------------------------------------
    def query(
        self,
        filter: PatternFilter | None = None,
        sort: Sort | SortField | str | None = None,
        offset: int = 0,
        limit: int | None = None,
        *,
        cursor: str | None = None,
    ) -> QueryResult:
        if sort is None:
            sort = Sort()
        elif not isinstance(sort, Sort):
            sort = Sort(field=_sort_field(sort))
        with self.db.reader() as conn:
            return queries.run_query(
                conn, filter or PatternFilter(), sort, offset=offset, limit=limit, cursor=cursor
            )

    def by_file(
        self, path: str, *, include_disabled: bool = True, fresh: bool = False
    ) -> list[FilePattern]:
        """Patterns with a location or outlier in `path`, sorted by id, each carrying only
        that file's locations and outliers plus its `effective` settings there (variants
        applied). A pattern a variant disables for this file is marked by
        `effective.enabled == False`; `include_disabled=False` leaves such patterns out.

        The hot path: answered from the in-memory index, built on first use and kept
        current with this and other processes' writes; the patterns returned are shared
        with its cache, so treat them as read-only. `fresh=True` answers from SQL instead,
        without building the index (what a one-shot process wants).
        """
        if fresh:
            with self.db.reader() as conn:
                return byfile_index.from_sql(conn, path, include_disabled=include_disabled)
        return self._file_index().lookup(path, include_disabled=include_disabled)

    def _file_index(self) -> byfile_index.FileIndex:
        self.db._check_open()
        with self._index_lock:
            index = self._index
            if index is None or index.db is not self.db:  # a restore opens a new database
                if index is not None:
                    index.close()
                index = self._index = byfile_index.FileIndex(self.db)
            return index

    def status(self) -> dict[str, Any]:
        """Totals by status, category and confidence level; locations and outliers; per
        category counts by status (`categories`); and `health`, 0-100:

            40 × approved ÷ live patterns + 40 × mean confidence of live patterns
            + 20 × (1 − outliers ÷ (locations + outliers) of live patterns)

        rounded, where live means not ignored; an empty store scores 100. The three inputs
        are in `healthFactors`.
        """
        with self.db.reader() as conn:
            counts = queries.status_counts(conn)
            counts.update(summaries.status_extras(conn))
        return counts

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
        with self.db.reader() as conn:
            return history_sql.read(conn, id, since=since, limit=limit)

    def require_id(self, pattern_id: str) -> None:
        """PatternNotFoundError unless the id is stored or has history (deleted ones do)."""
        with self.db.reader() as conn:
            if pattern_sql.exists(conn, pattern_id) or history_sql.read(conn, pattern_id, limit=1):
                return
        raise PatternNotFoundError(pattern_id)

    def describe(self, pattern_id: str) -> dict[str, Any]:
        """`show`: the v2 entry plus category, variants (each marked `expired` or not),
        examples, history, and related patterns (same category and subcategory)."""
        from driftstore.facade.detail import describe

        return describe(self.db, pattern_id)

    def file_report(self, path: str, *, include_disabled: bool = False) -> dict[str, Any]:
        """`file`: patterns touching PATH (summary, their locations there, and the effective
        settings for PATH), disabled ones only with include_disabled.

        Answered from SQL so a one-shot process does not build the whole in-memory index.
        """
        with self.db.reader() as conn:
            return byfile_index.file_report(conn, path, include_disabled=include_disabled)

    # --- scans -------------------------------------------------------------------------
    def ingest(
        self,
        entries: Iterable[Pattern] | str | Path | IO[bytes],
        prune: bool = False,
        *,
        on_progress: Callable[[int], None] | None = None,
    ) -> IngestReport:
        """Merge a scan (patterns, or a path / '-' / stream of scan JSON) into the store."""
        from driftstore.facade.ingest import merge_scan
        from driftstore.formats.scan import read_scan
        from driftstore.model.validate import validated

        if isinstance(entries, str | Path) or hasattr(entries, "read"):
            source = read_scan(entries)  # type: ignore[arg-type]
        else:
            source = (validated(p, where=f"pattern {p.id!r}") for p in entries)
        report = merge_scan(
            self.db,
            source,
            prune=prune,
            on_progress=on_progress,
            before_prune=lambda: self.backup("ingest-prune"),
        )
        self._changed(report.changed_ids)
        return report

    # --- backups -----------------------------------------------------------------------
    def backup(self, reason: str = "manual") -> str:
        """Archive a consistent snapshot under .drift/backups/; returns the backup id."""
        from driftstore.facade import backups as backup_ops

        return backup_ops.create_backup(
            self.db_path, self.drift_dir, reason, busy_timeout_ms=self.db.busy_timeout_ms
        )

    def backups(self) -> list[BackupInfo]:
        """Every backup, newest first."""
        from driftstore.facade import backups as backup_ops

        return backup_ops.list_backups(self.drift_dir)

    def prune_backups(self, keep: int) -> list[str]:
        """Delete all but the `keep` newest backups; returns the deleted ids."""
        from driftstore.facade import backups as backup_ops

        return backup_ops.prune_backups(self.drift_dir, keep)

    def restore(self, backup_id: str, *, thorough: bool = False) -> RestoreReport:
        """Make a backup the store's content, after checking it and backing up the current
        state: one commit into the live database, which every open connection (here and in
        other processes) sees from its next transaction on. `thorough` runs SQLite's full
        integrity_check instead of quick_check."""
        from driftstore.facade import backups as backup_ops

        self._close_index()  # everything changed: build afresh on the next ask
        return backup_ops.restore_backup(
            self.drift_dir, self.db_path, backup_id, db=self.db, thorough=thorough
        )

    # --- files: export, import, verify, migrate -----------------------------------------
    def export(self, out_dir: str | Path | None = None, layout: str = "v2") -> ExportReport:
        """Write the shards and index files (formats.md) under `out_dir` (default .drift/)."""
        from driftstore.facade import exchange

        out = Path(out_dir) if out_dir is not None else self.drift_dir
        return exchange.export_store(self.db, out, layout=layout, root=self.root)

    def import_(self, dir: str | Path | None = None, force: bool = False) -> ImportReport:
        """Load v2 shards; every checksum is checked before anything is written."""
        from driftstore.facade import shard_import

        source = Path(dir) if dir is not None else self.drift_dir
        plan = shard_import.read_import(source, root=self.root, force=force)
        backup_id = self.backup("import")
        report = shard_import.apply_import(self.db, plan)
        report.backup = backup_id
        self._changed(report.changed_ids)
        return report

    def verify(self) -> VerifyReport:
        """Database integrity checks plus the checksum of every pattern file present."""
        from driftstore.facade.verify import verify_store

        return verify_store(self.db, self.drift_dir, root=self.root)

    def migrate(
        self, source: str | Path | None = None, *, dry_run: bool = False, backup: bool = True
    ) -> MigrateReport:
        """Import a drift 0.9 `.drift/` tree (default: this project's)."""
        from driftstore.facade.migrate import migrate

        report = migrate(
            self.db,
            Path(source) if source is not None else self.root,
            dry_run=dry_run,
            backup=self.backup if backup else None,
        )
        self._changed(report.changed_ids)
        return report

    # --- variants and examples ---------------------------------------------------------
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
    ) -> Variant:
        """A scoped override of one pattern (history: updated, 'variant added')."""
        from driftstore.facade import variants as variant_ops

        variant = variant_ops.build_variant(
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
        stored = variant_ops.add_variant(self.db, variant, by=by)
        self._changed([pattern_id])
        return stored

    def variants(self, pattern_id: str | None = None) -> list[Variant]:
        """Variants of one pattern, or of all, oldest first (expired ones included)."""
        with self.db.reader() as conn:
            if pattern_id is not None and not pattern_sql.exists(conn, pattern_id):
                raise PatternNotFoundError(pattern_id)
            return variant_sql.list_variants(conn, pattern_id)

    def variant_views(self, pattern_id: str | None = None) -> list[dict[str, Any]]:
        """`variant list`: the variants as JSON, each with `expired`."""
        from driftstore.facade.variants import variant_view

        now = datetime.now(UTC)
        return [variant_view(v, now) for v in self.variants(pattern_id)]

    def remove_variant(self, variant_id: int, *, by: str | None = None) -> Variant:
        """Delete one variant (history: updated, 'variant removed'); VariantNotFoundError."""
        from driftstore.facade.variants import remove_variant

        removed = remove_variant(self.db, variant_id, by=by)
        self._changed([removed.pattern_id])
        return removed

    def effective_for(self, pattern_id: str, path: str) -> Effective:
        """The pattern's settings for the file at `path`, its active variants applied."""
        from driftstore.facade.variants import effective_for

        file = safe_relative_path(path, what="file")
        return effective_for(self.db, pattern_id, file, datetime.now(UTC))

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
        with self.db.reader() as conn:
            if not pattern_sql.exists(conn, pattern_id):
                raise PatternNotFoundError(pattern_id)
        from driftstore.facade import examples as example_ops

        example = example_ops.read_example(self.root, pattern_id, file, lines, positive=not bad)
        stored = example_ops.add_example(self.db, example, by=by)
        self._changed([pattern_id])
        return stored

    def examples(self, pattern_id: str) -> list[Example]:
        """The stored examples of one pattern, oldest first."""
        with self.db.reader() as conn:
            if not pattern_sql.exists(conn, pattern_id):
                raise PatternNotFoundError(pattern_id)
            return example_sql.list_examples(conn, pattern_id)

    def remove_example(self, example_id: int, *, by: str | None = None) -> Example:
        from driftstore.facade.examples import remove_example

        removed = remove_example(self.db, example_id, by=by)
        self._changed([removed.pattern_id])
        return removed

    def examples_for(self, pattern_id: str, max: int = 3, context: int = 5) -> list[Example]:
        """Fresh (unstored) examples cut from the project around the pattern's locations,
        `context` lines either side; missing or unreadable files are skipped."""
        p = self.require(pattern_id)
        from driftstore.facade.examples import fresh_examples

        candidates = [loc for loc in p.locations if loc.is_outlier is not True]
        return fresh_examples(self.root, pattern_id, candidates, limit=max, context=context)

    # --- hooks for caches --------------------------------------------------------------
    def _changed(self, ids: Iterable[str]) -> None:
        """Called after this process committed changes to these patterns."""
        index = self._index
        if index is not None:
            index.note_changed(ids)


def _sort_field(value: SortField | str) -> SortField:
    try:
        return SortField(value)
    except ValueError:
        raise InvalidInputError(
            f"cannot sort by {value!r}; choose one of {', '.join(f.value for f in SortField)}"
        ) from None


def open(root: str | Path = ".", *, create: bool = True) -> PatternStore:
    """Open (and by default create) the store of the project at `root`."""
    return PatternStore(root, create=create)
