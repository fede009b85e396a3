"""The index's location rows: packed integers in row-id order, grouped into runs.

Layout, chosen so that a million locations build fast and stay small (benchmarks/NOTES.md):

- every location row is one packed integer (`engine.packing`) plus a float for its
  confidence, in arrays ordered by row id; rows carrying rarer data (reasons, snippets...)
  are kept whole ("side" rows);
- rows are found by row id through *runs* (consecutive row ids of one pattern), so a
  pattern's rows are dropped by marking its runs dead, and new rows are appended;
- a row's position is its row id plus its run's shift, which only changes where row ids
  skip (rows deleted before the build) or rows were appended: per block of 256 row ids
  the shift they all share is kept, so most rows need no search for their run, and each
  position's pattern slot is kept beside the packed rows;
- per file, the row ids of its rows as the JSON text the database gave, decoded on first
  ask (plus row ids appended since).
"""

from __future__ import annotations

from array import array
from bisect import bisect_right
from collections.abc import Sequence
from typing import Any

import msgspec
from msgspec import UNSET

from driftstore.engine.packing import Compact, PatternRows, decode_rowids, side_location
from driftstore.model.effective import FilePattern
from driftstore.model.pattern import Location

#: row ids per block of `RowTable.shifts` (as a shift)
BLOCK_BITS = 8
#: a block's rows have different shifts (or none is known): find their runs by bisection
MIXED = 1 << 62
_UNSEEN = MIXED + 1


class RowTable:
    """Packed rows and their runs; not thread-safe (the FileIndex holds the lock)."""

    def __init__(self) -> None:
        self.runs_of: dict[int, list[int]] = {}
        self.starts: list[int] = []
        self.ends: list[int] = []
        self.slots: list[int] = []
        #: per run, what to add to a row id for its position in `packs`
        self.deltas: list[int] = []
        #: per block of row ids from `base` on, the delta all its rows share, else MIXED
        self.shifts: list[int] = []
        self.base = 0
        #: per position, the pattern slot of the row (-1: dropped)
        self.row_slots = array("i")
        self.packs = array("q")
        self.confidences = array("d")
        self.side: dict[int, tuple[Any, ...]] = {}
        self.files: dict[str, str] = {}
        self.added: dict[str, list[int]] = {}
        self.live = 0
        self.dead = 0

    # --- filling -----------------------------------------------------------------------
    def add_run(self, slot: int, first: int, count: int, offset: int) -> None:
        if slot >= 0:
            self.runs_of.setdefault(slot, []).append(len(self.starts))
            self.live += count
        else:
            self.dead += count
        self.starts.append(first)
        self.ends.append(first + count)
        self.slots.append(slot)
        self.deltas.append(offset - first)
        assert offset == len(self.row_slots), "runs are added in position order"
        self.row_slots.extend(array("i", [slot]) * count)
        self._cover(first, count, offset - first)

    def _cover(self, first: int, count: int, delta: int) -> None:
        """Note the run's shift on the blocks it touches. Row ids far above all the others
        (a sparse or damaged table) get no blocks: they are found by bisection."""
        if count <= 0:
            return
        shifts = self.shifts
        if not shifts:
            self.base = first
        if first < self.base:
            return
        last = (first + count - 1 - self.base) >> BLOCK_BITS
        if last >= len(shifts):
            if last >= max(1 << 12, len(self.row_slots) >> (BLOCK_BITS - 2)):
                return
            shifts.extend([_UNSEEN] * (last + 1 - len(shifts)))
        for block in range((first - self.base) >> BLOCK_BITS, last + 1):
            held = shifts[block]
            if held == _UNSEEN:
                shifts[block] = delta
            elif held != delta:
                shifts[block] = MIXED

    def take(self, chunk: Compact) -> None:
        self.packs.extend(chunk.packs)
        self.confidences.extend(chunk.confidences)
        for row in chunk.side:
            self.side[row[0]] = row

    def held_max(self) -> int:
        """The highest row id read so far (-1 before any): rows written later lie above it."""
        return self.ends[-1] - 1 if self.ends else -1

    def append_rows(self, runs: list[tuple[int, int, int]], rows: PatternRows) -> bool:
        """Append rows read past `held_max`, covered in order by `runs` (slot, first row
        id, count); False when they are not past the ones held: the caller rebuilds."""
        if runs and self.ends and runs[0][1] < self.ends[-1]:
            return False
        position = len(self.packs)
        for slot, first, count in runs:
            self.add_run(slot, first, count, position)
            position += count
        self.take(rows.compact)
        added = self.added
        for rowid, file in zip(rows.rowids, rows.files, strict=True):
            added.setdefault(file, []).append(rowid)
        return True

    def first_rowid(self, slot: int) -> int | None:
        runs = self.runs_of.get(slot)
        return self.starts[runs[0]] if runs else None

    def kill(self, slot: int) -> None:
        for i in self.runs_of.pop(slot, []):
            self.slots[i] = -1
            count = self.ends[i] - self.starts[i]
            position = self.starts[i] + self.deltas[i]
            self.row_slots[position : position + count] = array("i", [-1]) * count
            self.live -= count
            self.dead += count

    # --- answering ---------------------------------------------------------------------
    def rowids(self, file: str) -> list[int]:
        text = self.files.get(file)
        rowids = decode_rowids(text) if text is not None else []
        added = self.added.get(file)
        if added:
            rowids.extend(added)
            rowids.sort()
        return rowids

    def patterns_in(
        self, file: str, heads: Sequence[FilePattern | None]
    ) -> tuple[dict[int, FilePattern], int]:
        """A file's rows as copies of their patterns' heads carrying them, by pattern slot;
        and how many rows there are.

        The hot path of a first ask, written as one flat loop: each row's position comes
        from its block's shift (or its run, found by bisection, in a mixed block) and its
        Location is built from the packed integer in place; a pattern's
        copy is made when its first row is met. Constants of the packed layout are spelled
        as literals (see engine.packing) because attribute lookups and calls here cost as
        much as building the Location itself.
        """
        starts, ends, deltas = self.starts, self.ends, self.deltas
        shifts, row_slots, blocks, base = self.shifts, self.row_slots, len(self.shifts), self.base
        packs, confidences = self.packs, self.confidences
        make = Location
        replace = msgspec.structs.replace
        unset = UNSET
        found: dict[int, FilePattern] = {}
        last_slot = -1
        held: tuple[list[Location], list[Location]] = ([], [])
        backslashed: str | None = None
        rowids = self.rowids(file)
        size = len(rowids)
        for rowid in rowids:
            block = (rowid - base) >> 8  # BLOCK_BITS
            if 0 <= block < blocks and (pos := shifts[block]) < 0x4000000000000000:  # MIXED
                pos += rowid
            else:
                k = bisect_right(starts, rowid) - 1
                if k < 0 or rowid >= ends[k]:
                    size -= 1
                    continue
                pos = rowid + deltas[k]
            slot = row_slots[pos]
            if slot < 0:
                size -= 1
                continue
            if slot != last_slot:
                last_slot = slot
                copy = found.get(slot)
                if copy is None:
                    head = heads[slot]
                    assert head is not None  # a live run's pattern has a head
                    copy = found[slot] = replace(head, locations=[], outliers=[])
                held = (copy.locations, copy.outliers)
            packed = packs[pos]
            if packed & 1:  # SIDE_BIT: the row carries more than the pack says
                kind, loc = side_location(file, self.side[rowid])
                held[kind].append(loc)
                continue
            confidence = confidences[pos]
            flag = packed & 6  # OUTLIER_SHIFT: 0 false, 2 true, 4 absent
            loc = make(
                file,
                packed >> 18,
                packed >> 5 & 0x1FFF,
                unset,
                unset,
                unset if flag == 4 else flag == 2,
                unset if confidence < 0.0 else confidence,
            )
            if packed & 16:  # BACKSLASH_BIT
                if backslashed is None:
                    backslashed = file.replace("/", "\\")
                loc.original_file = backslashed
            held[packed >> 3 & 1].append(loc)  # KIND_SHIFT
        return found, size
