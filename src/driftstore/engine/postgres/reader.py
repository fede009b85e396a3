"""`Reader` over one PostgreSQL transaction (REPEATABLE READ, so one consistent snapshot):
every statement names the project, so no read can see another project's rows."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from itertools import starmap
from typing import Any, TypeVar

import msgspec
import psycopg

from driftstore.engine import digests
from driftstore.engine.base import (
    EXPORT_FULL_COLUMNS,
    EXPORT_LEAN_COLUMNS,
    ChangeSet,
    HistoryRow,
    PatternState,
    Reader,
    RelatedPattern,
    ScanState,
    StatsRow,
)
from driftstore.engine.cursors import decode_cursor, encode_cursor
from driftstore.engine.damage import DAMAGED_DATA, stored
from driftstore.engine.digests import MISMATCH, LocationSummary
from driftstore.engine.packing import (
    BACKSLASH_SHIFT,
    COLUMN_SHIFT,
    KIND_SHIFT,
    LINE_SHIFT,
    NO_CONFIDENCE,
    OUTLIER_SHIFT,
    SIDE_COLUMNS,
    PatternRows,
    RawCompact,
    decode_compact,
    decode_files,
    decode_rowids,
    split_runs,
)
from driftstore.engine.records import (
    EXAMPLE_COLUMNS,
    SUMMARY_COLUMNS,
    VARIANT_COLUMNS,
    example_of,
    history_entry_of,
    summary_of,
    variant_of,
)
from driftstore.engine.rows import (
    LOCATION_COLUMNS,
    LOCATION_SELECT,
    PATTERN_COLUMNS,
    PATTERN_SELECT,
    row_to_location,
    row_to_pattern,
)
from driftstore.errors import InvalidInputError
from driftstore.model.clock import normalise_iso
from driftstore.model.enums import Status
from driftstore.model.paths import normalise_path
from driftstore.model.pattern import Location, Pattern
from driftstore.model.query import PatternFilter, QueryResult, Sort
from driftstore.model.records import Example, HistoryEntry, Variant

T = TypeVar("T")

#: store_meta keys of the engine itself (SQLite keeps its generation there; PostgreSQL in
#: driftstore_projects, but the names stay reserved so a store moves between engines)
RESERVED_META = frozenset({"generation", "changes-reset"})
#: generations whose changed ids are kept (older asks get "everything changed")
KEEP_GENERATIONS = 10_000

_CHECKED = f"SELECT {PATTERN_SELECT}, row_digest, rows_digest FROM patterns"
_LOCATIONS_OF = (
    f"SELECT {', '.join(LOCATION_COLUMNS)} FROM pattern_locations "
    "WHERE project = %s AND pattern_id = %s ORDER BY id"
)
_HISTORY_COLUMNS = (
    "id, pattern_id, action, old_value, new_value, created_at, changed_by, reason, row_digest"
)
_SEVERITY_RANK = (
    "(CASE severity WHEN 'error' THEN 3 WHEN 'warning' THEN 2 WHEN 'info' THEN 1 ELSE 0 END)"
)
#: sort key -> the expression listings order by; NULLs folded so (key, id) is a total order
SORT_KEYS: dict[str, str] = {
    "id": "id",
    "name": "name",
    "category": "category",
    "status": "status",
    "confidence": "COALESCE(confidence_score, -1.0)",
    "severity": _SEVERITY_RANK,
    "firstSeen": "COALESCE(first_seen, '')",
    "lastSeen": "COALESCE(last_seen, '')",
    "locationCount": "location_count",
    "outlierCount": "outlier_count",
}
#: text columns compare byte-wise, as SQLite's do, whatever the database's collation
_COLLATED = {"id", "name", "category", "status", "firstSeen", "lastSeen"}

# --- the by-file index's packed form (engine.packing), computed by the server -------------
_SIDE = (
    "(coalesce(outlier_reason, deviation_score::text, end_line::text, end_column::text, "
    "snippet, extras) IS NOT NULL OR line NOT BETWEEN 0 AND 16777215 "
    "OR column_num NOT BETWEEN 0 AND 8191 OR list_kind NOT IN (0, 1) "
    "OR coalesce(outlier_key, 0) NOT IN (0, 1) "
    "OR (original_file IS NOT NULL AND original_file <> replace(file, '/', chr(92))))"
)
_PACK = (
    f"CASE WHEN {_SIDE} THEN 1 ELSE "
    f"((line << {LINE_SHIFT}) | (column_num << {COLUMN_SHIFT}) | (list_kind << {KIND_SHIFT}) "
    f"| (coalesce(outlier_key, 2) << {OUTLIER_SHIFT}) "
    f"| ((original_file IS NOT NULL)::int << {BACKSLASH_SHIFT})) END"
)
_SIDE_ROW = "json_build_array(id, " + ", ".join(SIDE_COLUMNS) + ")"
_COMPACT = (
    f"coalesce(json_agg({_PACK} ORDER BY id), '[]')::text, "
    f"coalesce(json_agg(coalesce(confidence, {NO_CONFIDENCE}) ORDER BY id), '[]')::text, "
    f"coalesce(json_agg({_SIDE_ROW} ORDER BY id) FILTER (WHERE {_SIDE}), '[]')::text"
)
_CHUNK_ROWS = 1 << 18

# --- export rows (EXPORT_*_COLUMNS) --------------------------------------------------------
_NUMBER = (
    "CASE WHEN {c} = trunc({c}) AND abs({c}) < 1e15 THEN to_jsonb({c}::bigint) "
    "ELSE to_jsonb({c}) END"
)
_ODD = "({c} IS NOT NULL AND {c} <> 0 AND (abs({c}) < 1e-4 OR abs({c}) >= 1e15))"
_FLAG = (
    "nullif((CASE WHEN extras IS NOT NULL OR list_kind NOT IN (0, 1) OR "
    f"{_ODD.format(c='confidence')} OR {_ODD.format(c='deviation_score')} "
    "THEN 4 ELSE 0 END) | (CASE WHEN end_line IS NOT NULL OR end_column IS NOT NULL OR "
    "snippet IS NOT NULL THEN 2 ELSE 0 END) | (CASE WHEN list_kind = 1 THEN 1 ELSE 0 END), 0)"
)
_EXPORT_COLUMNS = {
    "file": "file",
    "line": "line",
    "column": "column_num",
    "end_line": "end_line",
    "end_column": "end_column",
    "is_outlier": "outlier_key",
    "confidence": _NUMBER.format(c="confidence"),
    "outlier_reason": "CASE WHEN list_kind = 0 THEN outlier_reason END",
    "reason": "CASE WHEN list_kind = 1 THEN outlier_reason END",
    "deviation_score": _NUMBER.format(c="deviation_score"),
    "snippet": "snippet",
    "original_file": "original_file",
    "flag": _FLAG,
}
assert tuple(_EXPORT_COLUMNS) == EXPORT_FULL_COLUMNS
_JSONB_AT = {
    i for i, name in enumerate(EXPORT_FULL_COLUMNS) if name in ("confidence", "deviation_score")
}


def _export_select(names: tuple[str, ...]) -> str:
    columns = ", ".join(f"{_EXPORT_COLUMNS[name]} AS {name}" for name in names)
    return (
        f"SELECT {columns} FROM pattern_locations WHERE project = %s AND pattern_id = %s "
        "ORDER BY id"
    )


_LEAN_SELECT = _export_select(EXPORT_LEAN_COLUMNS)
_FULL_SELECT = _export_select(EXPORT_FULL_COLUMNS)
_LEAN_JSONB = {EXPORT_LEAN_COLUMNS.index(n) for n in ("confidence", "deviation_score")}
_FULL_JSONB = {EXPORT_FULL_COLUMNS.index(n) for n in ("confidence", "deviation_score")}


def _plain_numbers(rows: list[tuple[Any, ...]], at: set[int]) -> list[tuple[Any, ...]]:
    """jsonb numbers (how the server keeps an integral REAL integral) as Python numbers."""
    out = []
    for row in rows:
        values = list(row)
        for i in at:
            value = values[i]
            if value is not None and not isinstance(value, int | float):
                values[i] = msgspec.json.decode(str(value))
        out.append(tuple(values))
    return out


def _iso(value: str, what: str) -> str:
    try:
        return normalise_iso(value)
    except ValueError:
        raise InvalidInputError(
            f"{what} {value!r} is not an ISO-8601 time; use e.g. 2026-05-01T12:00:00Z"
        ) from None


class PgReader(Reader):
    def __init__(self, conn: psycopg.Connection[tuple[Any, ...]], project: str) -> None:
        self.conn = conn
        self.project = project

    def _q(self, sql: str, params: Sequence[Any] = ()) -> psycopg.Cursor[tuple[Any, ...]]:
        return self.conn.execute(sql, tuple(params))

    def _one(self, sql: str, params: Sequence[Any] = ()) -> tuple[Any, ...]:
        row = self._q(sql, params).fetchone()
        if row is None:
            raise LookupError(f"query returned no row: {sql}")
        return tuple(row)

    # --- the change signal ---------------------------------------------------------------
    def generation(self) -> int:
        row = self._q(
            "SELECT generation FROM driftstore_projects WHERE project = %s", (self.project,)
        ).fetchone()
        return 0 if row is None else int(row[0])

    def changes_since(self, generation: int) -> ChangeSet:
        row = self._q(
            "SELECT generation, changes_reset FROM driftstore_projects WHERE project = %s",
            (self.project,),
        ).fetchone()
        now, reset = (0, 0) if row is None else (int(row[0]), int(row[1]))
        if generation == now:
            return ChangeSet(now, frozenset())
        if generation < max(reset, now - KEEP_GENERATIONS) or generation > now:
            return ChangeSet(now, None)
        ids = frozenset(
            r[0]
            for r in self._q(
                "SELECT DISTINCT pattern_id FROM pattern_changes "
                "WHERE project = %s AND generation > %s",
                (self.project, generation),
            )
        )
        return ChangeSet(now, ids)

    # --- patterns ----------------------------------------------------------------------------
    def _checked(self, row: tuple[Any, ...], with_locations: bool) -> Pattern:
        values = row[:-2]
        digests.check_pattern_row(values, row[-2])
        locations = None
        if with_locations:
            raw = [tuple(r) for r in self._q(_LOCATIONS_OF, (self.project, values[0]))]
            digests.check_rows(values[0], raw, row[-1])
            locations = [row_to_location(r[1:]) for r in raw]
        return row_to_pattern(values, locations)

    def pattern(self, pattern_id: str, *, with_locations: bool = True) -> Pattern | None:
        row = self._q(
            f"{_CHECKED} WHERE project = %s AND id = %s", (self.project, pattern_id)
        ).fetchone()
        return None if row is None else self._checked(tuple(row), with_locations)

    def patterns(
        self, ids: Sequence[str] | None = None, *, with_locations: bool = True
    ) -> list[Pattern]:
        if ids is None:
            rows = [
                tuple(r)
                for r in self._q(f"{_CHECKED} WHERE project = %s ORDER BY id", (self.project,))
            ]
        else:
            by_id = {
                r[0]: tuple(r)
                for r in self._q(
                    f"{_CHECKED} WHERE project = %s AND id = ANY(%s)", (self.project, list(ids))
                )
            }
            rows = [by_id[i] for i in ids if i in by_id]
        return [self._checked(r, with_locations) for r in rows]

    def location_summaries(self, ids: Sequence[str]) -> dict[str, LocationSummary]:
        found: dict[str, LocationSummary] = {}
        for pid, text, rows in self._q(
            "SELECT id, locations_summary, rows_digest FROM patterns "
            "WHERE project = %s AND id = ANY(%s)",
            (self.project, list(ids)),
        ):
            summary = digests.read_location_summary(text, rows)
            if summary is not None:
                found[str(pid)] = summary
        return found

    def existing_ids(self, ids: Sequence[str]) -> set[str]:
        return {
            r[0]
            for r in self._q(
                "SELECT id FROM patterns WHERE project = %s AND id = ANY(%s)",
                (self.project, list(ids)),
            )
        }

    def known_ids(self, ids: Sequence[str]) -> set[str]:
        wanted = list(ids)
        return {
            r[0]
            for r in self._q(
                "SELECT id FROM patterns WHERE project = %s AND id = ANY(%s) UNION "
                "SELECT pattern_id FROM pattern_history WHERE project = %s AND pattern_id = ANY(%s)",
                (self.project, wanted, self.project, wanted),
            )
        }

    def ids_with_prefix(self, prefix: str, *, limit: int) -> list[str]:
        return [
            r[0]
            for r in self._q(
                'SELECT id FROM patterns WHERE project = %s AND id COLLATE "C" >= %s '
                'AND left(id, %s) = %s ORDER BY id COLLATE "C" LIMIT %s',
                (self.project, prefix, len(prefix), prefix, limit),
            )
        ]

    def count(self) -> int:
        return int(
            self._one("SELECT count(*) FROM patterns WHERE project = %s", (self.project,))[0]
        )

    def scan_states(self) -> dict[str, ScanState]:
        return {
            r[0]: ScanState(r[1], r[2], r[3], r[4])
            for r in self._q(
                "SELECT id, status, content_hash, last_seen, scan_echo FROM patterns "
                "WHERE project = %s",
                (self.project,),
            )
        }

    def pattern_states(self) -> dict[str, PatternState]:
        return {
            r[0]: PatternState(*r[1:])
            for r in self._q(
                "SELECT id, status, content_hash, approved_at, approved_by, first_seen, "
                "last_seen, layout FROM patterns WHERE project = %s",
                (self.project,),
            )
        }

    def ids_by_category(self) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for category, pid in self._q(
            "SELECT category, id FROM patterns WHERE project = %s "
            'ORDER BY category COLLATE "C", id COLLATE "C"',
            (self.project,),
        ):
            out.setdefault(category, []).append(pid)
        return out

    def pattern_files(self, pattern_id: str) -> list[str]:
        return [
            r[0]
            for r in self._q(
                "SELECT DISTINCT file FROM pattern_locations WHERE project = %s AND pattern_id = %s",
                (self.project, pattern_id),
            )
        ]

    # --- listings and totals -----------------------------------------------------------------
    def _where(self, f: PatternFilter) -> tuple[str, list[Any]]:
        clauses = ["project = %s"]
        params: list[Any] = [self.project]

        def any_of(column: str, values: Sequence[Any]) -> None:
            clauses.append(f"{column} = ANY(%s)")
            params.append([str(v.value if hasattr(v, "value") else v) for v in values])

        if f.ids is not None:
            any_of("id", f.ids)
        if f.categories is not None:
            any_of("category", f.categories)
        if f.statuses is not None:
            any_of("status", [Status(s).value for s in f.statuses])
        if f.severities is not None:
            any_of("severity", f.severities)
        if f.levels is not None:
            any_of("confidence_level", f.levels)
        if f.files is not None:
            clauses.append(
                "id IN (SELECT pattern_id FROM pattern_locations WHERE project = %s "
                "AND file = ANY(%s))"
            )
            params += [self.project, [normalise_path(p) for p in f.files]]
        if f.min_confidence is not None:
            clauses.append("confidence_score >= %s")
            params.append(float(f.min_confidence))
        if f.max_confidence is not None:
            clauses.append("confidence_score <= %s")
            params.append(float(f.max_confidence))
        if f.has_outliers is not None:
            clauses.append("outlier_count > 0" if f.has_outliers else "outlier_count = 0")
        if f.tags_any is not None:
            clauses.append(
                "EXISTS (SELECT 1 FROM json_array_elements_text(coalesce(tags, '[]')::json) t "
                "WHERE t = ANY(%s))"
            )
            params.append(list(f.tags_any))
        if f.tags_all:
            wanted = sorted(set(f.tags_all))
            clauses.append(
                "(SELECT count(DISTINCT t) FROM json_array_elements_text(coalesce(tags, '[]')::json) t "
                "WHERE t = ANY(%s)) = %s"
            )
            params += [wanted, len(wanted)]
        if f.search:
            needle = (
                "%" + f.search.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            )
            # SQLite's LIKE folds ASCII letters only; so does this
            clauses.append(
                "(translate(name, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz') "
                "LIKE translate(%s, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz') "
                "OR translate(coalesce(description, ''), 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', "
                "'abcdefghijklmnopqrstuvwxyz') LIKE translate(%s, "
                "'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz'))"
            )
            params += [needle, needle]
        for value, column, op, what in (
            (f.first_seen_after, "first_seen", ">=", "first-seen-after"),
            (f.first_seen_before, "first_seen", "<", "first-seen-before"),
            (f.last_seen_after, "last_seen", ">=", "last-seen-after"),
            (f.last_seen_before, "last_seen", "<", "last-seen-before"),
        ):
            if value is not None:
                clauses.append(f'{column} COLLATE "C" {op} %s')
                params.append(_iso(value, what))
        return " AND ".join(clauses), params

    def query(
        self,
        filter: PatternFilter,
        sort: Sort,
        *,
        offset: int = 0,
        limit: int | None = None,
        cursor: str | None = None,
    ) -> QueryResult:
        if offset < 0 or (limit is not None and limit < 0):
            raise InvalidInputError("offset and limit must be 0 or more")
        where, params = self._where(filter)
        total = int(self._one(f"SELECT count(*) FROM patterns WHERE {where}", params)[0])
        name = sort.field.value
        key = SORT_KEYS[name]
        ordered = f'{key} COLLATE "C"' if name in _COLLATED else key
        direction = "DESC" if sort.descending else "ASC"
        page_where, page_params = where, list(params)
        if cursor is not None:
            value, last_id = decode_cursor(cursor)
            op = "<" if sort.descending else ">"
            page_where = f'({where}) AND ({ordered}, id COLLATE "C") {op} (%s, %s COLLATE "C")'
            page_params += [value, last_id]
        sql = (
            f"SELECT {SUMMARY_COLUMNS}, {key} FROM patterns WHERE {page_where} "
            f'ORDER BY {ordered} {direction}, id COLLATE "C" {direction} LIMIT %s OFFSET %s'
        )
        fetch = None if limit is None else limit + 1
        rows = [tuple(r) for r in self._q(sql, [*page_params, fetch, offset])]
        has_more = limit is not None and len(rows) > limit
        rows = rows[:limit] if limit is not None else rows
        next_cursor = encode_cursor((rows[-1][-1], rows[-1][0])) if has_more and rows else None
        return QueryResult(
            patterns=[summary_of(r) for r in rows],
            total=total,
            has_more=has_more,
            next_cursor=next_cursor,
        )

    def stats(self) -> list[StatsRow]:
        return self.fresh_stats()

    def fresh_stats(self) -> list[StatsRow]:
        return [
            StatsRow(r[0], r[1], r[2], int(r[3]), int(r[4]), int(r[5]), float(r[6]))
            for r in self._q(
                "SELECT status, category, COALESCE(confidence_level, 'uncertain'), count(*), "
                "coalesce(sum(location_count), 0), coalesce(sum(outlier_count), 0), "
                "coalesce(sum(confidence_score), 0.0) FROM patterns WHERE project = %s "
                "GROUP BY 1, 2, 3",
                (self.project,),
            )
        ]

    def related(
        self, pattern_id: str, category: str, subcategory: str, *, limit: int
    ) -> tuple[list[RelatedPattern], int]:
        where = "project = %s AND category = %s AND subcategory = %s AND id <> %s"
        params = (self.project, category, subcategory, pattern_id)
        total = int(self._one(f"SELECT count(*) FROM patterns WHERE {where}", params)[0])
        rows = [
            RelatedPattern(
                id=r[0],
                name=r[1],
                status=stored(Status, r[2]),
                confidence=r[3],
                location_count=r[4],
            )
            for r in self._q(
                "SELECT id, name, status, confidence_score, location_count FROM patterns "
                f'WHERE {where} ORDER BY confidence_score DESC NULLS LAST, id COLLATE "C" LIMIT %s',
                (*params, limit),
            )
        ]
        return rows, total

    # --- history, variants, examples -----------------------------------------------------------
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
        clauses, params = ["project = %s"], [self.project]
        for clause, value in (
            ("pattern_id = %s", pattern_id),
            ('created_at COLLATE "C" >= %s', since),
            ('created_at COLLATE "C" < %s', until),
            ("id < %s", before_id),
        ):
            if value is not None:
                clauses.append(clause)
                params.append(value)  # type: ignore[arg-type]
        order = "ASC" if oldest_first else "DESC"
        sql = (
            f"SELECT {_HISTORY_COLUMNS} FROM pattern_history WHERE {' AND '.join(clauses)} "
            f"ORDER BY id {order} LIMIT %s"
        )
        return [history_entry_of(tuple(r)) for r in self._q(sql, [*params, limit])]

    def history_rows(
        self, pattern_id: str | None = None, *, until: str | None = None
    ) -> list[HistoryRow]:
        clauses, params = ["project = %s"], [self.project]
        if pattern_id is not None:
            clauses.append("pattern_id = %s")
            params.append(pattern_id)
        if until is not None:
            clauses.append('created_at COLLATE "C" < %s')
            params.append(until)
        rows: list[HistoryRow] = []
        for r in self._q(
            f"SELECT {_HISTORY_COLUMNS} FROM pattern_history WHERE {' AND '.join(clauses)} "
            "ORDER BY id",
            params,
        ):
            digests.check_row("pattern_history", r[0], r[1:8], r[8])
            rows.append(HistoryRow(*r[:8]))
        return rows

    def variants(self, pattern_id: str | None = None) -> list[Variant]:
        if pattern_id is None:
            rows = self._q(
                f"SELECT {VARIANT_COLUMNS} FROM pattern_variants WHERE project = %s ORDER BY id",
                (self.project,),
            )
        else:
            rows = self._q(
                f"SELECT {VARIANT_COLUMNS} FROM pattern_variants "
                "WHERE project = %s AND pattern_id = %s ORDER BY id",
                (self.project, pattern_id),
            )
        return [variant_of(tuple(r)) for r in rows]

    def variant(self, variant_id: int) -> Variant | None:
        row = self._q(
            f"SELECT {VARIANT_COLUMNS} FROM pattern_variants WHERE project = %s AND id = %s",
            (self.project, variant_id),
        ).fetchone()
        return None if row is None else variant_of(tuple(row))

    def variants_of(self, pattern_ids: Sequence[str]) -> dict[str, list[Variant]]:
        found: dict[str, list[Variant]] = {}
        for r in self._q(
            f"SELECT {VARIANT_COLUMNS} FROM pattern_variants "
            "WHERE project = %s AND pattern_id = ANY(%s) ORDER BY id",
            (self.project, list(pattern_ids)),
        ):
            v = variant_of(tuple(r))
            found.setdefault(v.pattern_id, []).append(v)
        return found

    def examples(self, pattern_id: str | None = None) -> list[Example]:
        if pattern_id is None:
            rows = self._q(
                f"SELECT {EXAMPLE_COLUMNS} FROM pattern_examples WHERE project = %s ORDER BY id",
                (self.project,),
            )
        else:
            rows = self._q(
                f"SELECT {EXAMPLE_COLUMNS} FROM pattern_examples "
                "WHERE project = %s AND pattern_id = %s ORDER BY id",
                (self.project, pattern_id),
            )
        return [example_of(tuple(r)) for r in rows]

    def example(self, example_id: int) -> Example | None:
        row = self._q(
            f"SELECT {EXAMPLE_COLUMNS} FROM pattern_examples WHERE project = %s AND id = %s",
            (self.project, example_id),
        ).fetchone()
        return None if row is None else example_of(tuple(row))

    def outliers_of(self, pattern_ids: Sequence[str]) -> dict[str, list[tuple[int, Location]]]:
        found: dict[str, list[tuple[int, Location]]] = {}
        for r in self._q(
            f"SELECT pattern_id, {LOCATION_SELECT} FROM pattern_locations "
            "WHERE project = %s AND pattern_id = ANY(%s) AND (list_kind = 1 OR outlier_key = 1) "
            'ORDER BY pattern_id COLLATE "C", id',
            (self.project, list(pattern_ids)),
        ):
            found.setdefault(r[0], []).append(row_to_location(tuple(r[1:])))
        return found

    # --- one file ----------------------------------------------------------------------------
    def file_locations(self, file: str) -> list[tuple[str, int, Location]]:
        found: list[tuple[str, int, Location]] = []
        for r in self._q(
            f"SELECT pattern_id, {LOCATION_SELECT} FROM pattern_locations "
            "WHERE project = %s AND file = %s ORDER BY id",
            (self.project, file),
        ):
            kind, loc = row_to_location(tuple(r[1:]))
            found.append((r[0], kind, loc))
        return found

    # --- export and import bookkeeping -------------------------------------------------------
    def export_states(self, layout: str) -> dict[tuple[str, str], tuple[str, str]]:
        return {
            (r[0], r[1]): (r[2], r[3])
            for r in self._q(
                "SELECT category, status, checksum, last_updated FROM export_state "
                "WHERE project = %s AND layout = %s",
                (self.project, layout),
            )
        }

    def meta(self, prefix: str) -> dict[str, str]:
        return {
            r[0][len(prefix) :]: r[1]
            for r in self._q(
                "SELECT key, value FROM store_meta WHERE project = %s AND left(key, %s) = %s",
                (self.project, len(prefix), prefix),
            )
            if r[0] not in RESERVED_META
        }

    def layouts(self) -> dict[str, str]:
        return {
            r[0]: r[1]
            for r in self._q(
                "SELECT id, layout FROM patterns WHERE project = %s AND layout IS NOT NULL",
                (self.project,),
            )
        }

    def category_patterns(self, category: str) -> list[Pattern]:
        found: dict[str, list[tuple[int, Location]]] = {}
        for r in self._q(
            f"SELECT pattern_id, {LOCATION_SELECT} FROM pattern_locations WHERE project = %s "
            "AND pattern_id IN (SELECT id FROM patterns WHERE project = %s AND category = %s) "
            "ORDER BY pattern_id, id",
            (self.project, self.project, category),
        ):
            found.setdefault(r[0], []).append(row_to_location(tuple(r[1:])))
        return [
            row_to_pattern(tuple(r), found.get(r[0], []))
            for r in self._q(
                f"SELECT {PATTERN_SELECT} FROM patterns WHERE project = %s AND category = %s "
                'ORDER BY id COLLATE "C"',
                (self.project, category),
            )
        ]

    def category_rows(
        self, category: str, make: Callable[..., T]
    ) -> Iterator[tuple[Pattern, list[T]]]:
        heads = [
            tuple(r)
            for r in self._q(
                f"SELECT {PATTERN_SELECT} FROM patterns WHERE project = %s AND category = %s "
                'ORDER BY id COLLATE "C"',
                (self.project, category),
            )
        ]
        for row in heads:
            raw = [tuple(r) for r in self._q(_LEAN_SELECT, (self.project, row[0]))]
            yield row_to_pattern(row, None), list(starmap(make, _plain_numbers(raw, _LEAN_JSONB)))

    def pattern_rows(self, pattern_id: str, make: Callable[..., T]) -> list[T]:
        raw = [tuple(r) for r in self._q(_FULL_SELECT, (self.project, pattern_id))]
        return list(starmap(make, _plain_numbers(raw, _FULL_JSONB)))

    # --- checks ----------------------------------------------------------------------------------
    def _digest_problems(self, stop_at_first: bool) -> list[str]:
        problems: list[str] = []
        locations: dict[str, list[tuple[Any, ...]]] = {}
        for r in self._q(
            f"SELECT {', '.join(LOCATION_COLUMNS)} FROM pattern_locations WHERE project = %s "
            "ORDER BY id",
            (self.project,),
        ):
            locations.setdefault(r[0], []).append(tuple(r))
        for r in self._q(f"{_CHECKED} WHERE project = %s ORDER BY id", (self.project,)):
            row = tuple(r)
            values = row[:-2]
            if row[-2] is None or digests.digest(values) != row[-2]:
                problems.append(f"pattern {values[0]!r}: its row does not match {MISMATCH} it")
            elif row[-1] is None or digests.rows_digest(locations.get(values[0], [])) != row[-1]:
                problems.append(
                    f"pattern {values[0]!r}: its locations do not match {MISMATCH} them"
                )
            if problems and stop_at_first:
                return problems
        for table, columns in (
            ("pattern_variants", VARIANT_COLUMNS),
            ("pattern_examples", EXAMPLE_COLUMNS),
            ("pattern_history", _HISTORY_COLUMNS),
        ):
            for r in self._q(
                f"SELECT {columns} FROM {table} WHERE project = %s ORDER BY id", (self.project,)
            ):
                row = tuple(r)
                if row[-1] is None or digests.digest(row[1:-1]) != row[-1]:
                    problems.append(f"{table} row {row[0]}: it does not match {MISMATCH} it")
                    if stop_at_first:
                        return problems
        return problems

    def require_intact(self) -> None:
        problems = self._digest_problems(stop_at_first=True)
        if problems:
            raise digests.DigestMismatchError(problems[0])

    def row_problems(self) -> list[str]:
        problems = self._digest_problems(stop_at_first=False)
        try:
            self.patterns()
            self.history()
            self.variants()
            self.examples()
        except DAMAGED_DATA as exc:
            if MISMATCH not in str(exc):
                problems.append(f"stored data cannot be read ({exc})")
        return problems

    # --- the by-file index's bulk reads -----------------------------------------------------------
    def location_runs(self) -> list[tuple[str, int, int]]:
        runs: list[tuple[str, int, int]] = []
        for pid, first, last, count in self._q(
            "SELECT pattern_id, min(id), max(id), count(*) FROM pattern_locations "
            "WHERE project = %s GROUP BY pattern_id",
            (self.project,),
        ):
            if last - first + 1 == count:
                runs.append((pid, first, count))
            else:
                ids = [
                    r[0]
                    for r in self._q(
                        "SELECT id FROM pattern_locations WHERE project = %s AND pattern_id = %s "
                        "ORDER BY id",
                        (self.project, pid),
                    )
                ]
                runs.extend((pid, start, n) for start, n in split_runs(ids))
        runs.sort(key=lambda run: run[1])
        return runs

    def compact_chunks(self) -> Iterator[RawCompact]:
        start = self._one(
            "SELECT min(id) FROM pattern_locations WHERE project = %s", (self.project,)
        )[0]
        while start is not None:
            last = start + _CHUNK_ROWS - 1
            packs, confidences, side = self._one(
                f"SELECT {_COMPACT} FROM pattern_locations "
                "WHERE project = %s AND id BETWEEN %s AND %s",
                (self.project, start, last),
            )
            yield packs, confidences, side
            start = self._one(
                "SELECT min(id) FROM pattern_locations WHERE project = %s AND id > %s",
                (self.project, last),
            )[0]

    def file_rowids(self) -> Iterator[tuple[str, str]]:
        for r in self._q(
            "SELECT file, json_agg(id ORDER BY id)::text FROM pattern_locations "
            "WHERE project = %s GROUP BY file",
            (self.project,),
        ):
            yield r[0], r[1]

    def indexed_rows_after(self, rowid: int) -> tuple[list[str], PatternRows]:
        pids, rowids, files, packs, confidences, side = self._one(
            "SELECT coalesce(json_agg(pattern_id ORDER BY id), '[]')::text, "
            "coalesce(json_agg(id ORDER BY id), '[]')::text, "
            f"coalesce(json_agg(file ORDER BY id), '[]')::text, {_COMPACT} "
            "FROM pattern_locations WHERE project = %s AND id > %s",
            (self.project, rowid),
        )
        return decode_files(pids), PatternRows(
            rowids=decode_rowids(rowids),
            files=decode_files(files),
            compact=decode_compact((packs, confidences, side)),
        )

    def missing_rowids(self, rowids: Sequence[int]) -> set[int]:
        return {
            int(r[0])
            for r in self._q(
                "SELECT x FROM unnest(%s::bigint[]) AS x WHERE NOT EXISTS "
                "(SELECT 1 FROM pattern_locations AS l WHERE l.project = %s AND l.id = x)",
                (list(rowids), self.project),
            )
        }


__all__ = ["KEEP_GENERATIONS", "PATTERN_COLUMNS", "RESERVED_META", "PgReader"]
