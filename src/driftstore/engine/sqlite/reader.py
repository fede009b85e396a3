"""`Reader` over one SQLite connection (or the writer's cursor) inside one transaction."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any, TypeVar

import apsw

from driftstore.engine.base import (
    ChangeSet,
    HistoryRow,
    PatternState,
    Reader,
    RelatedPattern,
    ScanState,
    StatsRow,
)
from driftstore.engine.digests import MISMATCH, LocationSummary
from driftstore.engine.packing import PatternRows, RawCompact
from driftstore.engine.sqlite import (
    bookkeeping,
    changes,
    examples,
    history,
    index_rows,
    integrity,
    patterns,
    queries,
    related,
    variants,
)
from driftstore.model.pattern import Location, Pattern
from driftstore.model.query import PatternFilter, QueryResult, Sort
from driftstore.model.records import Example, HistoryEntry, Variant

T = TypeVar("T")

#: what the SQL helpers run statements on: a reader connection, or the writer's cursor
Conn = apsw.Connection | apsw.Cursor


class SqliteReader(Reader):
    def __init__(self, conn: Conn) -> None:
        self.conn = conn
        self._spans: dict[str, tuple[int, int]] | None = None

    def _c(self) -> Any:
        """The connection for a read (the writer first flushes buffered rows)."""
        return self.conn

    # the change signal
    def generation(self) -> int:
        return changes.current(self._c())

    def changes_since(self, generation: int) -> ChangeSet:
        return changes.since(self._c(), generation)

    # patterns
    def pattern(self, pattern_id: str, *, with_locations: bool = True) -> Pattern | None:
        return patterns.load_pattern(self._c(), pattern_id, with_locations=with_locations)

    def patterns(
        self, ids: Sequence[str] | None = None, *, with_locations: bool = True
    ) -> list[Pattern]:
        return patterns.load_patterns(self._c(), ids, with_locations=with_locations)

    def existing_ids(self, ids: Sequence[str]) -> set[str]:
        return patterns.existing_ids(self._c(), ids)

    def location_summaries(self, ids: Sequence[str]) -> dict[str, LocationSummary]:
        return patterns.location_summaries(self._c(), ids)

    def known_ids(self, ids: Sequence[str]) -> set[str]:
        return bookkeeping.known_ids(self._c(), ids)

    def ids_with_prefix(self, prefix: str, *, limit: int) -> list[str]:
        return patterns.ids_with_prefix(self._c(), prefix, limit)

    def count(self) -> int:
        return patterns.count_patterns(self._c())

    def scan_states(self) -> dict[str, ScanState]:
        return {pid: ScanState(*state) for pid, state in patterns.scan_states(self._c()).items()}

    def pattern_states(self) -> dict[str, PatternState]:
        return {
            pid: PatternState(*state)
            for pid, state in bookkeeping.pattern_states(self._c()).items()
        }

    def ids_by_category(self) -> dict[str, list[str]]:
        return bookkeeping.ids_by_category(self._c())

    def pattern_files(self, pattern_id: str) -> list[str]:
        return patterns.pattern_files(self._c(), pattern_id)

    # listings and totals
    def query(
        self,
        filter: PatternFilter,
        sort: Sort,
        *,
        offset: int = 0,
        limit: int | None = None,
        cursor: str | None = None,
    ) -> QueryResult:
        return queries.run_query(self._c(), filter, sort, offset=offset, limit=limit, cursor=cursor)

    def stats(self) -> list[StatsRow]:
        return [StatsRow(*row) for row in queries.stats_rows(self._c())]

    def fresh_stats(self) -> list[StatsRow]:
        return [StatsRow(*row) for row in queries.fresh_stats_rows(self._c())]

    def related(
        self, pattern_id: str, category: str, subcategory: str, *, limit: int
    ) -> tuple[list[RelatedPattern], int]:
        return related.related_patterns(self._c(), pattern_id, category, subcategory, limit=limit)

    # history, variants, examples
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
        return history.read(
            self._c(),
            pattern_id,
            since=since,
            until=until,
            limit=limit,
            before_id=before_id,
            oldest_first=oldest_first,
        )

    def history_rows(
        self, pattern_id: str | None = None, *, until: str | None = None
    ) -> list[HistoryRow]:
        return history.read_rows(self._c(), pattern_id, until=until)

    def variants(self, pattern_id: str | None = None) -> list[Variant]:
        return variants.list_variants(self._c(), pattern_id)

    def variant(self, variant_id: int) -> Variant | None:
        return variants.get_variant(self._c(), variant_id)

    def variants_of(self, pattern_ids: Sequence[str]) -> dict[str, list[Variant]]:
        return variants.variants_for(self._c(), list(pattern_ids))

    def examples(self, pattern_id: str | None = None) -> list[Example]:
        return examples.list_examples(self._c(), pattern_id)

    def example(self, example_id: int) -> Example | None:
        return examples.get_example(self._c(), example_id)

    def outliers_of(self, pattern_ids: Sequence[str]) -> dict[str, list[tuple[int, Location]]]:
        return patterns.outliers_of(self._c(), pattern_ids)

    # one file
    def file_locations(self, file: str) -> list[tuple[str, int, Location]]:
        return patterns.file_locations(self._c(), file)

    # export and import bookkeeping
    def export_states(self, layout: str) -> dict[tuple[str, str], tuple[str, str]]:
        return bookkeeping.read_states(self._c(), layout)

    def meta(self, prefix: str) -> dict[str, str]:
        return bookkeeping.read_meta(self._c(), prefix)

    def layouts(self) -> dict[str, str]:
        return bookkeeping.read_layouts(self._c())

    def category_patterns(self, category: str) -> list[Pattern]:
        return bookkeeping.load_category(self._c(), category)

    def category_rows(
        self, category: str, make: Callable[..., T]
    ) -> Iterator[tuple[Pattern, list[T]]]:
        conn = self._c()
        if self._spans is None:  # one pass over the pattern_id index serves every category
            self._spans = bookkeeping.location_spans(conn)
        return bookkeeping.export_category(conn, category, make, self._spans)

    def pattern_rows(self, pattern_id: str, make: Callable[..., T]) -> list[T]:
        return bookkeeping.export_locations(self._c(), pattern_id, make)

    # checks
    def require_intact(self) -> None:
        integrity.require_intact(self._c())

    def row_problems(self) -> list[str]:
        conn = self._c()
        digest_problems = integrity.digest_problems(conn)
        # a read that failed on a digest names less than the digest check does
        unreadable = [text for text in bookkeeping.unreadable_rows(conn) if MISMATCH not in text]
        return [*unreadable, *digest_problems, *bookkeeping.stale_totals(conn)]

    # the by-file index's bulk reads
    def location_runs(self) -> list[tuple[str, int, int]]:
        return index_rows.location_runs(self._c())

    def compact_chunks(self) -> Iterator[RawCompact]:
        return index_rows.compact_chunks(self._c())

    def file_rowids(self) -> Iterator[tuple[str, str]]:
        return index_rows.file_rowids(self._c())

    def indexed_rows_after(self, rowid: int) -> tuple[list[str], PatternRows]:
        return index_rows.rows_after(self._c(), rowid)

    def missing_rowids(self, rowids: Sequence[int]) -> set[int]:
        return index_rows.missing_rowids(self._c(), rowids)
