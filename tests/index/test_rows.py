"""The row table alone: however row ids are spread (gaps, appended runs, dropped
patterns, ids far above the rest), every row is found at its own position."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from driftstore.engine.packing import Compact, PatternRows
from driftstore.index.rows import BLOCK_BITS, MIXED, RowTable

SLOTS = 6


def _pack(line: int) -> int:
    return line << 18 | 2 << 1  # a plain location: isOutlier absent, list kind 0


#: a run: (gap before it, row count, pattern slot); gaps may be huge (sparse ids)
runs_strategy = st.lists(
    st.tuples(
        st.one_of(st.integers(0, 3), st.integers(0, 600), st.just(2**40)),
        st.integers(1, 300),
        st.integers(0, SLOTS - 1),
    ),
    min_size=1,
    max_size=12,
)


@pytest.mark.engine_free
@given(
    built=runs_strategy,
    appended=runs_strategy,
    killed=st.sets(st.integers(0, SLOTS - 1), max_size=3),
    first=st.integers(1, 5000),
)
@settings(max_examples=150, deadline=None)
def test_every_row_is_found_where_it_is(
    built: list[tuple[int, int, int]],
    appended: list[tuple[int, int, int]],
    killed: set[int],
    first: int,
) -> None:
    table = RowTable()
    expected: dict[int, tuple[int, int]] = {}  # rowid -> (slot, line)
    files: dict[str, list[int]] = {"f": []}
    rowid = first
    line = 0
    packs: list[int] = []
    for gap, count, slot in built:
        rowid += gap
        table.add_run(slot, rowid, count, len(packs))
        for r in range(rowid, rowid + count):
            line += 1
            packs.append(_pack(line))
            expected[r] = (slot, line)
            files["f"].append(r)
        rowid += count
    table.take(Compact(packs, [-1.0] * len(packs), []))
    table.files = {"f": "[" + ",".join(map(str, files["f"])) + "]"}
    for slot in killed:
        table.kill(slot)
        expected = {r: v for r, v in expected.items() if v[0] != slot}
    new_runs: list[tuple[int, int, int]] = []
    rowids: list[int] = []
    new_packs: list[int] = []
    for gap, count, slot in appended:
        rowid += gap
        new_runs.append((slot, rowid, count))
        for r in range(rowid, rowid + count):
            line += 1
            new_packs.append(_pack(line))
            rowids.append(r)
            expected[r] = (slot, line)
        rowid += count
    rows = PatternRows(rowids, ["f"] * len(rowids), Compact(new_packs, [-1.0] * len(rowids), []))
    assert table.append_rows(new_runs, rows)

    asked = table.rowids("f")
    slots = table.slots_of(asked)
    assert slots == tuple(expected[r][0] if r in expected else -1 for r in asked)
    if table.slot_at is not None:  # the C lookup agrees with the row-by-row one
        assert slots == tuple(table._slot_of_row(r) for r in asked)
    found = table.rows_in("f", asked, slots)
    got = {(slot, loc.line) for slot, (locations, _) in found.items() for loc in locations}
    assert got == set(expected.values())
    # rows are in row-id order within each pattern
    for locations, _ in found.values():
        lines = [loc.line for loc in locations]
        assert lines == sorted(lines)
    assert BLOCK_BITS == 8  # rows_in spells the block size out


@pytest.mark.engine_free
def test_sparse_row_ids_give_up_the_slot_array_not_the_answer() -> None:
    """Row ids far above the rest would make `slot_at` huge: the table drops it and finds
    slots row by row, with the same answer."""
    table = RowTable()
    table.add_run(0, 1, 10, 0)
    assert table.slot_at is not None
    table.add_run(1, 2**40, 5, 10)
    assert table.slot_at is None
    assert table.slots_of([1, 10, 2**40, 2**40 + 4]) == (0, 0, 1, 1)
    table.kill(1)
    assert table.slots_of([1, 2**40]) == (0, -1)


@pytest.mark.engine_free
def test_blocks_are_mixed_only_where_row_ids_skip() -> None:
    """The shortcut must serve the common case: after a fresh ingest no block needs a
    search, and a gap costs the one block it falls in."""
    table = RowTable()
    table.add_run(0, 1, 1000, 0)
    table.add_run(1, 1001, 1000, 1000)
    assert MIXED not in table.shifts
    table.add_run(2, 2011, 50, 2000)  # 10 row ids skipped (rows deleted before the build)
    mixed = [block for block, shift in enumerate(table.shifts) if shift == MIXED]
    assert mixed == [(2011 - 1) >> BLOCK_BITS]  # blocks count from the first row id
    table.add_run(3, 2**40, 5, 2050)  # far above the rest: no blocks, found by bisection
    assert len(table.shifts) < 100
