"""SQL behind the in-memory by-file index: packed bulk reads (`engine.packing`).

Location rows are grouped by pattern into runs of consecutive rowids (a pattern's rows are
written by one executemany, so there is normally one run per pattern); the index finds a
row's pattern by its run.
"""

from __future__ import annotations

import json
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


def rows_after(conn: apsw.Connection, rowid: int) -> tuple[list[str], PatternRows]:
    """Rows with a rowid above `rowid`, in rowid order, with their pattern ids: a range of
    the table read in order, however many patterns they belong to."""
    pids, rowids, files, packs, confidences, side = one(
        conn,
        "SELECT json_group_array(pattern_id), json_group_array(rowid), "
        f"json_group_array(file), {_COMPACT} FROM "
        "(SELECT rowid, * FROM pattern_locations WHERE rowid > ? ORDER BY rowid)",
        (rowid,),
    )
    return decode_files(pids), PatternRows(
        rowids=decode_rowids(rowids),
        files=decode_files(files),
        compact=decode_compact((packs, confidences, side)),
    )


def missing_rowids(conn: apsw.Connection, rowids: Sequence[int]) -> set[int]:
    """Those of `rowids` no location row has (one primary-key probe each)."""
    return {
        int(r[0])
        for r in conn.execute(
            "SELECT j.value FROM json_each(?) AS j WHERE NOT EXISTS "
            "(SELECT 1 FROM pattern_locations AS l WHERE l.rowid = j.value)",
            (json.dumps(list(rowids)),),
        )
    }
