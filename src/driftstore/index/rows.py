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
  ask (plus row ids appended since);
- per row id, the pattern slot of the live row (`slot_at`), so that the patterns
  touching a file are found from its row ids in C (`operator.itemgetter`), without a
  Python step per row; a table whose row ids are too sparse for that goes row by row;
- per file, the slots of the patterns touching it as the build found them
  (`file_slots`): a first ask then reads one small array instead of its rows scattered
  over the table, for as long as no pattern of that file has moved its rows.
"""

from __future__ import annotations

import gc
from array import array
from bisect import bisect_right
from collections.abc import Callable
from itertools import repeat
from operator import itemgetter
from typing import Any, TypeVar

from msgspec import UNSET

from driftstore.engine.packing import Compact, PatternRows, decode_rowids, side_location
from driftstore.model.file_pattern import FileRowLists
from driftstore.model.pattern import Location

#: row ids per block of `RowTable.shifts` (as a shift)
BLOCK_BITS = 8
#: a block's rows have different shifts (or none is known): find their runs by bisection
MIXED = 1 << 62
_UNSEEN = MIXED + 1
#: `slot_at` is kept while the highest row id stays below this many times the rows held
#: (plus a constant): past it (a sparse or damaged table) rows are looked up one by one
SLOT_AT_SPREAD = 4
T = TypeVar("T")
_SLOT_AT_SLACK = 1 << 20


class RowTable:
    """Packed rows and their runs. Changed only under the FileIndex's lock; `rows_in`
    reads without it (see IndexedRows)."""

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
        #: per position, the pattern slot the row was written for (never changed: an
        #: answer made before a refresh still finds its rows; liveness is in the runs)
        self.row_slots = array("i")
        #: per row id, the pattern slot of the live row (-1: none, or dropped); None when
        #: the row ids are too sparse for it
        self.slot_at: array[int] | None = array("i")
        #: per file, the slots touching it and its row count, as built (`index_files`)
        self.file_slots: dict[str, tuple[array[int], int]] = {}
        #: slots whose rows were dropped since the build: `file_slots` naming one is stale
        self.killed: set[int] = set()
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
        self._mark(first, count, slot)

    def _mark(self, first: int, count: int, slot: int) -> None:
        at = self.slot_at
        if at is None or count <= 0:
            return
        end = first + count
        if first < 0 or end > SLOT_AT_SPREAD * len(self.row_slots) + _SLOT_AT_SLACK:
            self.slot_at = None
            return
        if end > len(at):
            at.extend(array("i", [-1]) * (end - len(at)))
        at[first:end] = array("i", [slot]) * count

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
        self.killed.add(slot)
        for i in self.runs_of.pop(slot, []):
            self.slots[i] = -1
            count = self.ends[i] - self.starts[i]
            self._mark(self.starts[i], count, -1)
            self.live -= count
            self.dead += count

    def index_files(
        self, files: dict[str, str], between: Callable[[], object] | None = None
    ) -> None:
        """Take the build's row ids by file and note, per file, the slots touching it (in
        slot order) and its row count: the work of every file's first ask, done while the
        database still scans the rows (benchmarks/NOTES.md). `between` is called every
        few hundred files (the build decodes the chunks the scan has handed over)."""
        self.files = files
        at = self.slot_at
        if at is None:
            return  # too sparse: every ask reads its rows
        by_file: dict[str, tuple[array[int], int]] = {}
        try:
            for n, (file, text) in enumerate(files.items()):
                if between is not None and not n & 511:
                    between()
                rowids = decode_rowids(text)
                slots = {at[rowids[0]]} if len(rowids) == 1 else set(itemgetter(*rowids)(at))
                slots.discard(-1)
                by_file[file] = (array("i", sorted(slots)), len(rowids))
        except IndexError:
            return  # a row id no run covers: asks find their rows one by one
        self.file_slots = by_file

    # --- answering ---------------------------------------------------------------------
    def built_slots(self, file: str) -> tuple[array[int], int] | None:
        """The slots touching `file` and its row count as built, while still true: no row
        added to the file and none of its patterns' rows dropped since; else None."""
        found = self.file_slots.get(file)
        if found is None or file in self.added:
            return None
        if self.killed and not self.killed.isdisjoint(found[0]):
            return None
        return found

    def rowids(self, file: str) -> list[int]:
        text = self.files.get(file)
        rowids = decode_rowids(text) if text is not None else []
        added = self.added.get(file)
        if added:
            rowids.extend(added)
            rowids.sort()
        return rowids

    def slots_of(self, rowids: list[int]) -> tuple[int, ...]:
        """The pattern slot of each row (-1 for a row no longer held)."""
        at = self.slot_at
        if at is not None and rowids:
            try:
                return itemgetter(*rowids)(at) if len(rowids) > 1 else (at[rowids[0]],)
            except IndexError:
                pass  # a row id past the table's: only the slow way can tell
        return tuple(self._slot_of_row(rowid) for rowid in rowids)

    def _slot_of_row(self, rowid: int) -> int:
        """The live slot of a row id, from its run."""
        k = bisect_right(self.starts, rowid) - 1
        return self.slots[k] if k >= 0 and rowid < self.ends[k] else -1

    def rows_in(
        self, file: str, rowids: list[int], slots: tuple[int, ...] | None
    ) -> dict[int, FileRowLists]:
        """A file's rows by pattern slot, built from the packed integers: `rowids` and their
        `slots` as they were when the answer was made (positions never move, so a refresh
        since changes nothing here); with `slots` None, each row goes to the slot it was
        written for (an answer made from `built_slots`, whose rows were all live then).

        Written as one flat loop: a row's position comes from its block's shift (or its
        run, found by bisection, in a mixed block) and its Location is built from the
        packed integer in place. Constants of the packed layout are spelled as literals
        (see engine.packing) because attribute lookups and calls here cost as much as
        building the Location itself.
        """
        starts, ends, deltas = self.starts, self.ends, self.deltas
        shifts, blocks, base = self.shifts, len(self.shifts), self.base
        packs, confidences, side = self.packs, self.confidences, self.side
        written = self.row_slots
        make = Location
        unset = UNSET
        found: dict[int, FileRowLists] = {}
        last_slot = -1
        held: FileRowLists = ([], [])
        backslashed: str | None = None
        for rowid, slot in zip(rowids, repeat(0) if slots is None else slots, strict=False):
            if slot < 0:
                continue
            block = (rowid - base) >> 8  # BLOCK_BITS
            if 0 <= block < blocks and (pos := shifts[block]) < 0x4000000000000000:  # MIXED
                pos += rowid
            else:
                k = bisect_right(starts, rowid) - 1
                if k < 0 or rowid >= ends[k]:
                    continue
                pos = rowid + deltas[k]
            if slots is None:
                slot = written[pos]
                if slot < 0:
                    continue
            if slot != last_slot:
                last_slot = slot
                held = found.get(slot) or found.setdefault(slot, ([], []))
            packed = packs[pos]
            if packed & 1:  # SIDE_BIT: the row carries more than the pack says
                kind, loc = side_location(file, side[rowid])
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
        return found


class IndexedRows:
    """The rows of one file's answer, built from the packed table the first time a view
    reads them, all at once. `rowids` and `slots` as the answer saw them; None for an
    answer from `built_slots` (the file's rows as built).

    Built without the index's lock, so a server's event loop never waits on a refresh:
    it reads only rows that existed when the answer was made, and a refresh never changes
    those (it appends rows and runs, marks runs dead, and turns a block's shift into MIXED
    only where a run with another shift joins it: a bisection finds the same position);
    a rebuild makes a new table and leaves this one to the answers holding it."""

    __slots__ = ("_built", "_file", "_rowids", "_slots", "_table")

    def __init__(
        self,
        table: RowTable,
        file: str,
        rowids: list[int] | None,
        slots: tuple[int, ...] | None,
    ) -> None:
        self._table = table
        self._file = file
        self._rowids = rowids
        self._slots = slots
        self._built: dict[int, FileRowLists] | None = None

    def rows_of(self, key: int) -> FileRowLists:
        built = self._built
        if built is None:  # two threads may both build it: the same rows, one kept
            built = self._built = without_gc(self._build)
        return built.get(key) or ([], [])

    def _build(self) -> dict[int, FileRowLists]:
        table, rowids = self._table, self._rowids
        if rowids is None:
            text = table.files.get(self._file)
            rowids = decode_rowids(text) if text is not None else []
        return table.rows_in(self._file, rowids, self._slots)


def without_gc(make: Callable[[], T]) -> T:
    """`make()` with the cyclic GC paused: an answer's objects (Locations and patterns opt
    out; their lists cannot hold a cycle) only cost time if a collection walks the index
    meanwhile, tens of ms when one comes due (benchmarks/NOTES.md)."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        return make()
    finally:
        if collecting:
            gc.enable()
