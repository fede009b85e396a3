"""SQL behind the in-memory by-file index: compact bulk reads, and change detection.

A million location rows cannot pass through Python one tuple at a time within the index's
build budget (about 1 µs per row is already the whole second). So SQLite does the per-row
work: each location is packed into one integer (line, column, list kind, outlier flag,
whether `original_file` is just the backslash spelling of `file`) and whole ranges come
back as JSON arrays that msgspec decodes in C. Rows with anything else set (a reason, a
deviation score, an end position, a snippet, extras, an odd original spelling, or numbers
too big to pack) are "side" rows and come back whole: rowid, then LOCATION_SELECT's columns
after `file` (the index knows the file already; see `side_location`).

Location rows are grouped by pattern into runs of consecutive rowids (a pattern's rows are
written by one executemany, so there is normally one run per pattern); the index finds a
row's pattern by its run.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import apsw
import msgspec

from driftstore.engine.errors import DAMAGED_DATA, damaged, translate
from driftstore.engine.rows import LOCATION_COLUMNS, LOCATION_SELECT, row_to_location
from driftstore.engine.sql import one, scalar
from driftstore.model.pattern import Location

#: bit layout of a packed location (see `pack_fields`)
SIDE_BIT = 1
OUTLIER_SHIFT = 1  # 2 bits: 0 = isOutlier false, 1 = true, 2 = key absent
KIND_SHIFT = 3
BACKSLASH_SHIFT = 4
BACKSLASH_BIT = 1 << BACKSLASH_SHIFT
COLUMN_SHIFT = 5
COLUMN_MASK = (1 << 13) - 1
LINE_SHIFT = 18
LINE_MASK = (1 << 24) - 1
#: confidence value standing for NULL (a stored confidence is always within 0..1)
NO_CONFIDENCE = -1.0

_SIDE = (
    "(coalesce(outlier_reason, deviation_score, end_line, end_column, snippet, extras) "
    "IS NOT NULL OR line NOT BETWEEN 0 AND 16777215 OR column_num NOT BETWEEN 0 AND 8191 "
    "OR list_kind NOT IN (0, 1) OR ifnull(outlier_key, 0) NOT IN (0, 1) "
    "OR CASE WHEN original_file IS NULL THEN 0 "
    "ELSE original_file != replace(file, '/', char(92)) END)"
)
assert LOCATION_COLUMNS[:2] == ("pattern_id", "file")
_SIDE_COLUMNS = ", ".join(LOCATION_COLUMNS[2:])
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

_ints = msgspec.json.Decoder(list[int])
_floats = msgspec.json.Decoder(list[float])
_rows = msgspec.json.Decoder(list[tuple[Any, ...]])
_strs = msgspec.json.Decoder(list[str])


class Compact(msgspec.Struct):
    """Packed rows in rowid order, their confidences, and the side rows by rowid."""

    packs: list[int]
    confidences: list[float]
    side: list[tuple[Any, ...]]


class PatternRows(msgspec.Struct):
    """One pattern's rows: rowids and files (rowid order) plus their compact form."""

    rowids: list[int]
    files: list[str]
    compact: Compact


class IndexSource:
    """A read-only connection of the index's own: bulk reads in one snapshot, and
    `PRAGMA data_version`, which moves when any other connection (this process's writer
    or another process) has committed."""

    def __init__(self, path: Path, *, busy_timeout_ms: int = 10_000) -> None:
        self.path = path
        try:
            self.conn = apsw.Connection(str(path), flags=apsw.SQLITE_OPEN_READONLY)
            self.conn.set_busy_timeout(busy_timeout_ms)
            # no mmap: measured no faster for the bulk scans, and mapped pages count as
            # this process's memory (peak RSS 312 MB instead of 126 MB on the M workload)
            self.conn.execute("PRAGMA temp_store = MEMORY")
        except apsw.Error as exc:
            raise translate(exc, path) from None

    def close(self) -> None:
        self.conn.close()

    def data_version(self) -> int:
        try:
            # `.get` (the single value) costs a fifth of fetchone(): this runs on every ask
            return int(self.conn.execute("PRAGMA data_version").get)
        except apsw.Error as exc:
            raise translate(exc, self.path) from None

    @contextmanager
    def snapshot(self) -> Iterator[apsw.Connection]:
        """One read transaction: everything read inside it is one consistent state."""
        try:
            self.conn.execute("BEGIN")
            try:
                yield self.conn
            finally:
                if not self.conn.get_autocommit():
                    self.conn.execute("COMMIT")
        except apsw.Error as exc:
            raise translate(exc, self.path) from None
        except DAMAGED_DATA as exc:
            raise damaged(exc, self.path) from None


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
            runs.extend((pid, start, n) for start, n in split_runs(_ints.decode(text)))
    runs.sort(key=lambda run: run[1])
    return runs


def split_runs(rowids: list[int]) -> Iterator[tuple[int, int]]:
    """Ascending rowids -> (first, count) of each stretch of consecutive values."""
    if not rowids:
        return
    start = prev = rowids[0]
    for rowid in rowids[1:]:
        if rowid != prev + 1:
            yield start, prev - start + 1
            start = rowid
        prev = rowid
    yield start, prev - start + 1


def compact_chunks(conn: apsw.Connection) -> Iterator[tuple[str, str, str]]:
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


def decode_compact(raw: tuple[str, str, str]) -> Compact:
    packs, confidences, side = raw
    return Compact(_ints.decode(packs), _floats.decode(confidences), _rows.decode(side))


def file_rowids(conn: apsw.Connection) -> Iterator[tuple[str, str]]:
    """(file, JSON array of its rowids) for every file; decoded only when a file is asked."""
    yield from conn.execute(
        "SELECT file, json_group_array(rowid) FROM pattern_locations GROUP BY file"
    )


def decode_rowids(text: str) -> list[int]:
    return _ints.decode(text)


def pattern_rows(conn: apsw.Connection, pattern_id: str) -> PatternRows:
    """One pattern's rows, in rowid order, for an incremental refresh."""
    rowids, files, packs, confidences, side = one(
        conn,
        f"SELECT json_group_array(rowid), json_group_array(file), {_COMPACT} FROM "
        "(SELECT rowid, * FROM pattern_locations WHERE pattern_id = ? ORDER BY rowid)",
        (pattern_id,),
    )
    return PatternRows(
        rowids=_ints.decode(rowids),
        files=_strs.decode(files),
        compact=decode_compact((packs, confidences, side)),
    )


def in_rowid_order(conn: apsw.Connection, pattern_ids: Iterable[str]) -> list[str]:
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


def last_seen_by_id(conn: apsw.Connection) -> dict[str, str | None]:
    """A scan's quiet last_seen moves write no history; the index compares these."""
    return dict(conn.execute("SELECT id, last_seen FROM patterns"))


def side_location(file: str, row: tuple[Any, ...]) -> tuple[int, Location]:
    """A side row (as `compact_chunks` gives it) -> (list kind, Location)."""
    return row_to_location((file, *row[1:]))


def locations_in_file(conn: apsw.Connection, file: str) -> list[tuple[str, int, Location]]:
    """(pattern_id, list kind, location) of every row in `file`, by rowid: the plain SQL
    answer a one-shot process uses, and the reference the index is tested against."""
    found: list[tuple[str, int, Location]] = []
    for row in conn.execute(
        f"SELECT pattern_id, {LOCATION_SELECT} FROM pattern_locations WHERE file = ? ORDER BY id",
        (file,),
    ):
        kind, loc = row_to_location(row[1:])
        found.append((row[0], kind, loc))
    return found


def row_span(conn: apsw.Connection, pattern_id: str) -> tuple[int | None, int | None, int]:
    """(first rowid, last rowid, row count) of one pattern: enough to tell that its rows
    are the ones the index already holds."""
    first, last, count = one(
        conn,
        "SELECT min(rowid), max(rowid), count(*) FROM pattern_locations WHERE pattern_id = ?",
        (pattern_id,),
    )
    return first, last, int(count)
