"""PatternFilter + Sort -> SQL, and the aggregate counts behind `status`.

Every value is a bound parameter; only column names and operators chosen from fixed
tables here are formatted into the SQL text.
"""

from __future__ import annotations

from typing import Any

import apsw

from driftstore.engine.cursors import decode_cursor, encode_cursor
from driftstore.engine.records import SUMMARY_COLUMNS, summary_of
from driftstore.engine.sqlite.schema import SORT_KEYS, sort_index_name
from driftstore.engine.sqlite.sql import scalar
from driftstore.errors import InvalidInputError
from driftstore.model.clock import normalise_iso
from driftstore.model.enums import Status
from driftstore.model.paths import normalise_path
from driftstore.model.query import PatternFilter, QueryResult, Sort


def _in(column: str, values: list[Any], clauses: list[str], params: list[Any]) -> None:
    if not values:
        clauses.append("0")  # any-of the empty set matches nothing
        return
    clauses.append(f"{column} IN ({','.join('?' * len(values))})")
    params.extend(str(v) for v in values)


def _iso(value: str, what: str) -> str:
    try:
        return normalise_iso(value)
    except ValueError:
        raise InvalidInputError(
            f"{what} {value!r} is not an ISO-8601 time; use e.g. 2026-05-01T12:00:00Z"
        ) from None


def where_clause(f: PatternFilter) -> tuple[str, list[Any]]:
    clauses: list[str] = []
    params: list[Any] = []
    if f.ids is not None:
        _in("id", f.ids, clauses, params)
    if f.categories is not None:
        _in("category", f.categories, clauses, params)
    if f.statuses is not None:
        _in("status", [Status(s).value for s in f.statuses], clauses, params)
    if f.severities is not None:
        _in("severity", f.severities, clauses, params)
    if f.levels is not None:
        _in("confidence_level", f.levels, clauses, params)
    if f.files is not None:
        files = [normalise_path(p) for p in f.files]
        if not files:
            clauses.append("0")
        else:
            clauses.append(
                "id IN (SELECT pattern_id FROM pattern_locations WHERE file IN "
                f"({','.join('?' * len(files))}))"
            )
            params.extend(files)
    if f.min_confidence is not None:
        clauses.append("confidence_score >= ?")
        params.append(float(f.min_confidence))
    if f.max_confidence is not None:
        clauses.append("confidence_score <= ?")
        params.append(float(f.max_confidence))
    if f.has_outliers is not None:
        clauses.append("outlier_count > 0" if f.has_outliers else "outlier_count = 0")
    if f.tags_any is not None:
        if not f.tags_any:
            clauses.append("0")
        else:
            clauses.append(
                "EXISTS (SELECT 1 FROM json_each(patterns.tags) WHERE value IN "
                f"({','.join('?' * len(f.tags_any))}))"
            )
            params.extend(f.tags_any)
    if f.tags_all:
        wanted = sorted(set(f.tags_all))
        clauses.append(
            "(SELECT count(DISTINCT value) FROM json_each(patterns.tags) WHERE value IN "
            f"({','.join('?' * len(wanted))})) = ?"
        )
        params.extend(wanted)
        params.append(len(wanted))
    if f.search:
        needle = "%" + f.search.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        clauses.append("(name LIKE ? ESCAPE '\\' OR description LIKE ? ESCAPE '\\')")
        params.extend([needle, needle])
    for value, column, op, what in (
        (f.first_seen_after, "first_seen", ">=", "first-seen-after"),
        (f.first_seen_before, "first_seen", "<", "first-seen-before"),
        (f.last_seen_after, "last_seen", ">=", "last-seen-after"),
        (f.last_seen_before, "last_seen", "<", "last-seen-before"),
    ):
        if value is not None:
            clauses.append(f"{column} {op} ?")
            params.append(_iso(value, what))
    return (" AND ".join(clauses) if clauses else "1"), params


def run_query(
    conn: apsw.Connection,
    f: PatternFilter,
    sort: Sort,
    *,
    offset: int = 0,
    limit: int | None = None,
    cursor: str | None = None,
) -> QueryResult:
    if offset < 0 or (limit is not None and limit < 0):
        raise InvalidInputError("offset and limit must be 0 or more")
    where, params = where_clause(f)
    total = int(scalar(conn, f"SELECT count(*) FROM patterns WHERE {where}", tuple(params)))
    key = SORT_KEYS[sort.field.value]
    direction = "DESC" if sort.descending else "ASC"
    page_where, page_params = where, list(params)
    if cursor is not None:
        value, last_id = decode_cursor(cursor)
        op = "<" if sort.descending else ">"
        page_where = f"({where}) AND ({key}, id) {op} (?, ?)"
        page_params += [value, last_id]
    # Walk the sort key's covering index in order: the page's ids come from index entries
    # alone (filters on other tables or on tags/text still work, row by row). An id filter
    # is better served by the primary key.
    indexed = "" if f.ids is not None else f"INDEXED BY {sort_index_name(sort.field.value)} "
    sql = (
        f"SELECT {SUMMARY_COLUMNS}, {key} FROM patterns WHERE id IN ("
        f"SELECT id FROM patterns {indexed}WHERE {page_where} "
        f"ORDER BY {key} {direction}, id {direction} LIMIT ? OFFSET ?) "
        f"ORDER BY {key} {direction}, id {direction}"
    )
    fetch = -1 if limit is None else limit + 1
    rows = list(conn.execute(sql, (*page_params, fetch, offset)))
    has_more = limit is not None and len(rows) > limit
    rows = rows[:limit] if limit is not None else rows
    next_cursor = encode_cursor((rows[-1][-1], rows[-1][0])) if has_more and rows else None
    return QueryResult(
        patterns=[summary_of(r) for r in rows],
        total=total,
        has_more=has_more,
        next_cursor=next_cursor,
    )


def stats_rows(conn: apsw.Connection) -> list[tuple[str, str, str, int, int, int, float]]:
    """(status, category, confidence level, patterns, locations, outliers, sum of scores),
    from the trigger-kept running totals: a few dozen rows whatever the store's size."""
    return [
        (row[0], row[1], row[2], row[3], row[4], row[5], row[6])
        for row in conn.execute(
            "SELECT status, category, confidence_level, patterns, locations, outliers, "
            "score_sum FROM pattern_stats WHERE patterns > 0"
        )
    ]


def fresh_stats_rows(conn: apsw.Connection) -> list[tuple[str, str, str, int, int, int, float]]:
    """The same totals computed from the patterns table (what `verify` compares against)."""
    return [
        (row[0], row[1], row[2], row[3], row[4], row[5], row[6])
        for row in conn.execute(
            "SELECT status, category, COALESCE(confidence_level, 'uncertain'), count(*), "
            "sum(location_count), sum(outlier_count), total(confidence_score) FROM patterns "
            "GROUP BY 1, 2, 3"
        )
    ]
