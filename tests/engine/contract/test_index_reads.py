"""The by-file index's bulk reads, held against `file_locations` (the plain answer).

The packed form is `engine.packing`'s: the location rows are decoded here from the
documented bit layout alone, so an engine whose packing differs by one bit fails.
"""

from __future__ import annotations

from typing import Any

from driftstore.engine.base import Engine, PatternWrite
from driftstore.engine.packing import (
    BACKSLASH_BIT,
    COLUMN_MASK,
    COLUMN_SHIFT,
    KIND_SHIFT,
    LINE_MASK,
    LINE_SHIFT,
    NO_CONFIDENCE,
    OUTLIER_SHIFT,
    SIDE_BIT,
    Compact,
    decode_compact,
    decode_rowids,
    side_location,
)
from driftstore.model.pattern import Location
from tests.engine.contract.data import pattern, put, rich_pattern


def _fill(engine: Engine) -> None:
    put(engine, rich_pattern("r1"), pattern("p1", files=["src/a.ts", "x.ts"]))
    put(engine, pattern("empty"), pattern("p2", files=["x.ts"], outlier_files=["src/b.ts"]))
    put(engine, rich_pattern("r1"))  # rewritten: its rows move after the others
    with engine.write() as w:
        w.delete_patterns(["p1"])
        # a pattern rewritten inside the same transaction as a new one
        w.put_patterns([PatternWrite(pattern("p3", files=["x.ts", "y.ts"]), None, w.now)])
        w.put_patterns([PatternWrite(pattern("p2", files=["y.ts"]), None, w.now)])


def _unpack(
    file: str, packed: int, confidence: float, side: dict[int, Any], rowid: int
) -> tuple[int, Location]:
    if packed & SIDE_BIT:
        return side_location(file, side[rowid])
    loc = Location(file, packed >> LINE_SHIFT & LINE_MASK, packed >> COLUMN_SHIFT & COLUMN_MASK)
    outlier = packed >> OUTLIER_SHIFT & 3
    if outlier != 2:
        loc.is_outlier = outlier == 1
    if confidence != NO_CONFIDENCE:
        loc.confidence = confidence
    if packed & BACKSLASH_BIT:
        loc.original_file = file.replace("/", "\\")
    return packed >> KIND_SHIFT & 1, loc


def _decoded_rows(
    chunks: list[Compact], rowids: list[int], files: dict[int, str]
) -> dict[int, tuple[int, Location]]:
    packs = [p for chunk in chunks for p in chunk.packs]
    confidences = [c for chunk in chunks for c in chunk.confidences]
    side = {int(row[0]): row for chunk in chunks for row in chunk.side}
    assert len(packs) == len(confidences) == len(rowids)
    assert set(side) <= set(rowids)
    assert {rowid for rowid, p in zip(rowids, packs, strict=True) if p & SIDE_BIT} == set(side)
    return {
        rowid: _unpack(files[rowid], packed, confidence, side, rowid)
        for rowid, packed, confidence in zip(rowids, packs, confidences, strict=True)
    }


def test_bulk_reads_agree_with_file_locations(engine: Engine) -> None:
    _fill(engine)
    with engine.read() as r:
        runs = r.location_runs()
        chunks = [decode_compact(raw) for raw in r.compact_chunks()]
        by_file = {file: decode_rowids(text) for file, text in r.file_rowids()}
        stored = r.patterns()
        plain = {file: r.file_locations(file) for file in by_file}

    # runs: ascending, disjoint, one pattern each, covering every row once
    starts = [first for _, first, _ in runs]
    assert starts == sorted(starts)
    owner: dict[int, str] = {}
    for pid, first, count in runs:
        assert count > 0
        for rowid in range(first, first + count):
            assert rowid not in owner
            owner[rowid] = pid
    rowids = sorted(owner)
    for p in stored:
        assert sum(1 for pid in owner.values() if pid == p.id) == len(p.all_locations())
    assert "empty" not in owner.values()

    # files: every row in exactly one file, ascending within it
    file_of: dict[int, str] = {}
    for file, ids in by_file.items():
        assert ids == sorted(ids)
        for rowid in ids:
            assert rowid not in file_of
            file_of[rowid] = file
    assert sorted(file_of) == rowids

    rows = _decoded_rows(chunks, rowids, file_of)
    for file, ids in by_file.items():
        rebuilt = [(owner[rowid], *rows[rowid]) for rowid in ids]
        assert rebuilt == plain[file], file


def test_rows_after_a_row_id_agree_with_the_bulk_reads(engine: Engine) -> None:
    """What an index refresh reads: the rows past any row id, in order, with their
    patterns; and which row ids are gone."""
    _fill(engine)
    with engine.read() as r:
        runs = r.location_runs()
        chunks = [decode_compact(raw) for raw in r.compact_chunks()]
        by_file = {file: decode_rowids(text) for file, text in r.file_rowids()}
        owner = {rowid: pid for pid, first, count in runs for rowid in range(first, first + count)}
        every = sorted(owner)
        cuts = [-1, 0, every[0], every[len(every) // 2], every[-1] - 1, every[-1], every[-1] + 5]
        after = {cut: r.indexed_rows_after(cut) for cut in cuts}
        probes = [every[0], every[-1], every[-1] + 1, 0, -3]
        gone = r.missing_rowids(probes)
    file_of = {rowid: file for file, rowids in by_file.items() for rowid in rowids}
    everything = _decoded_rows(chunks, every, file_of)
    for cut, (pids, rows) in after.items():
        expected = [rowid for rowid in every if rowid > cut]
        assert rows.rowids == expected, cut
        assert pids == [owner[rowid] for rowid in expected]
        assert rows.files == [file_of[rowid] for rowid in expected]
        assert _decoded_rows([rows.compact], rows.rowids, file_of) == {
            rowid: everything[rowid] for rowid in expected
        }
    assert gone == {every[-1] + 1, 0, -3}


def test_compact_chunks_cover_many_rows_in_order(engine: Engine) -> None:
    """More rows than one statement's worth: chunks still give every row once, in order."""
    many = [pattern(f"m{i:03}", files=[f"d{i % 13}/f{j}.ts" for j in range(40)]) for i in range(60)]
    put(engine, *many)
    with engine.read() as r:
        runs = r.location_runs()
        chunks = [decode_compact(raw) for raw in r.compact_chunks()]
    assert sum(count for _, _, count in runs) == 2400
    assert sum(len(c.packs) for c in chunks) == 2400
    lines = [p >> LINE_SHIFT & LINE_MASK for c in chunks for p in c.packs]
    assert lines == [j + 1 for _ in range(60) for j in range(40)]
