"""The packed form of location rows that the by-file index is built from.

A million location rows cannot pass through Python one tuple at a time within the index's
build budget, so the database does the per-row work: each location is packed into one
integer (line, column, list kind, outlier flag, whether `original_file` is just the
backslash spelling of `file`) and whole ranges come back as JSON arrays that msgspec
decodes in C. Rows with anything else set (a reason, a deviation score, an end position, a
snippet, extras, an odd original spelling, numbers too big to pack) are "side" rows and
come back whole: row id, then LOCATION_COLUMNS after `pattern_id` and `file`.

Every engine produces this same form (`Reader.compact_chunks`, `indexed_rows_after`).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import msgspec

from driftstore.engine.rows import LOCATION_COLUMNS, row_to_location
from driftstore.model.pattern import Location

#: bit layout of a packed location
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

assert LOCATION_COLUMNS[:2] == ("pattern_id", "file")
#: the columns of a side row after its row id
SIDE_COLUMNS = LOCATION_COLUMNS[2:]

_ints = msgspec.json.Decoder(list[int])
_floats = msgspec.json.Decoder(list[float])
_rows = msgspec.json.Decoder(list[tuple[Any, ...]])
_strs = msgspec.json.Decoder(list[str])

#: one raw chunk: three JSON arrays (packs, confidences, side rows) made by the database
RawCompact = tuple[str, str, str]


class Compact(msgspec.Struct):
    """Packed rows in row-id order, their confidences, and the side rows."""

    packs: list[int]
    confidences: list[float]
    side: list[tuple[Any, ...]]


class PatternRows(msgspec.Struct):
    """One pattern's rows: row ids and files (row-id order) plus their packed form."""

    rowids: list[int]
    files: list[str]
    compact: Compact


def decode_compact(raw: RawCompact) -> Compact:
    packs, confidences, side = raw
    return Compact(_ints.decode(packs), _floats.decode(confidences), _rows.decode(side))


def decode_rowids(text: str) -> list[int]:
    return _ints.decode(text)


def decode_files(text: str) -> list[str]:
    return _strs.decode(text)


def split_runs(rowids: list[int]) -> Iterator[tuple[int, int]]:
    """Ascending row ids -> (first, count) of each stretch of consecutive values."""
    if not rowids:
        return
    start = prev = rowids[0]
    for rowid in rowids[1:]:
        if rowid != prev + 1:
            yield start, prev - start + 1
            start = rowid
        prev = rowid
    yield start, prev - start + 1


def side_location(file: str, row: tuple[Any, ...]) -> tuple[int, Location]:
    """A side row -> (list kind, Location)."""
    return row_to_location((file, *row[1:]))
