"""SQL behind the in-memory by-file index: packed bulk reads (`engine.packing`).

Location rows are grouped by pattern into runs of consecutive rowids (a pattern's rows are
written by one executemany, so there is normally one run per pattern); the index finds a
row's pattern by its run.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import apsw

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
from driftstore.engine.sqlite.sql import one, scalar

_SIDE = (
    "(coalesce(outlier_reason, deviation_score, end_line, end_column, snippet, extras) "
    "IS NOT NULL OR line NOT BETWEEN 0 AND 16777215 OR column_num NOT BETWEEN 0 AND 8191 "
    "OR list_kind NOT IN (0, 1) OR ifnull(outlier_key, 0) NOT IN (0, 1) "
    "OR CASE WHEN original_file IS NULL THEN 0 "
    "ELSE original_file != replace(file, '/', char(92)) END)"
)
_SIDE_COLUMNS = ", ".join(SIDE_COLUMNS)
_PACK = (
    f"CASE WHEN {_SIDE} THEN 1 ELSE "
    f"((line << {LINE_SHIFT}) | (column_num << {COLUMN_SHIFT}) | (list_kind << {KIND_SHIFT}) "
    f"| (ifnull(outlier_key, 2) << {OUTLIER_SHIFT}) "
    f"| ((original_file IS NOT NULL) << {BACKSLASH_SHIFT})) END"
)
_COMPACT = (
    f"json_group_array({_PACK}), "
    f"json_group_array(ifnull(confidence, {NO_CONFIDENCE})), "
    f"json_group_array(json_array(rowid, {_SIDE_COLUMNS})) FILTER (WHERE {_SIDE})"
)
_CHUNK_ROWS = 1 << 18
_MAX_ROWID = 2**63 - 1


def location_runs(conn: apsw.Connection) -> list[tuple[str, int, int]]:
    """(pattern_id, first rowid, row count) for every run of consecutive rowids, by rowid.

    Normally one run per pattern; a pattern whose rows are not consecutive is split.
    """
    runs: list[tuple[str, int, int]] = []
    for pid, first, last, count in conn.execute(
        "SELECT pattern_id, min(rowid), max(rowid), count(*) FROM pattern_locations "
        "GROUP BY pattern_id"
    ):
        if last - first + 1 == count:
            runs.append((pid, first, count))
        else:
            text = scalar(
                conn,
                "SELECT json_group_array(rowid) FROM "
                "(SELECT rowid FROM pattern_locations WHERE pattern_id = ? ORDER BY rowid)",
                (pid,),
            )
            runs.extend((pid, start, n) for start, n in split_runs(decode_rowids(text)))
    runs.sort(key=lambda run: run[1])
    return runs


def compact_chunks(conn: apsw.Connection) -> Iterator[RawCompact]:
    """Every location row in rowid order, compacted by SQLite, in chunks of raw JSON
    (packs, confidences, side rows); `decode_compact` turns one into a Compact."""
    sql = f"SELECT {_COMPACT} FROM pattern_locations WHERE rowid BETWEEN ? AND ?"
    after = "SELECT min(rowid) FROM pattern_locations WHERE rowid >= ?"
    start = one(conn, "SELECT min(rowid) FROM pattern_locations")[0]
    # each range starts at the next rowid that exists, so sparse rowids (or a damaged one
    # near 2**63) cost one seek each, not billions of empty ranges
    while start is not None:
        last = min(start + _CHUNK_ROWS - 1, _MAX_ROWID)
        packs, confidences, side = one(conn, sql, (start, last))
        yield packs, confidences, side
        start = None if last == _MAX_ROWID else one(conn, after, (last + 1,))[0]


def file_rowids(conn: apsw.Connection) -> Iterator[tuple[str, str]]:
    """(file, JSON array of its rowids) for every file; decoded only when a file is asked."""
    yield from conn.execute(
        "SELECT file, json_group_array(rowid) FROM pattern_locations GROUP BY file"
    )


def pattern_rows(conn: apsw.Connection, pattern_id: str) -> PatternRows:
    """One pattern's rows, in rowid order, for an incremental refresh."""
    rowids, files, packs, confidences, side = one(
        conn,
        f"SELECT json_group_array(rowid), json_group_array(file), {_COMPACT} FROM "
        "(SELECT rowid, * FROM pattern_locations WHERE pattern_id = ? ORDER BY rowid)",
        (pattern_id,),
    )
    return PatternRows(
        rowids=decode_rowids(rowids),
        files=decode_files(files),
        compact=decode_compact((packs, confidences, side)),
    )


def in_rowid_order(conn: apsw.Connection, pattern_ids: Sequence[str]) -> list[str]:
    """Patterns by their first location rowid (those without rows first): the order in
    which their rows can be appended to the index's runs."""
    ids = sorted(set(pattern_ids))
    first: dict[str, int] = {}
    for start in range(0, len(ids), 500):
        batch = ids[start : start + 500]
        marks = ", ".join("?" * len(batch))
        first.update(
            conn.execute(
                "SELECT pattern_id, min(rowid) FROM pattern_locations "
                f"WHERE pattern_id IN ({marks}) GROUP BY pattern_id",
                batch,
            )
        )
    return sorted(ids, key=lambda pid: (first.get(pid, -1), pid))


def row_spans(
    conn: apsw.Connection | apsw.Cursor, pattern_ids: Sequence[str]
) -> dict[str, tuple[int, int, int]]:
    """pattern id -> (first rowid, last rowid, row count), for the ids with rows: enough to
    tell that a pattern's rows are the ones the index already holds."""
    ids = sorted(set(pattern_ids))
    found: dict[str, tuple[int, int, int]] = {}
    for start in range(0, len(ids), 500):
        batch = ids[start : start + 500]
        marks = ", ".join("?" * len(batch))
        for pid, first, last, count in conn.execute(
            "SELECT pattern_id, min(rowid), max(rowid), count(*) FROM pattern_locations "
            f"WHERE pattern_id IN ({marks}) GROUP BY pattern_id",
            batch,
        ):
            found[pid] = (first, last, count)
    return found
