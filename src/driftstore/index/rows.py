"""The index's location rows: packed integers in row-id order, grouped into runs.

Layout, chosen so that a million locations build fast and stay small (benchmarks/NOTES.md):

- every location row is one packed integer (`engine.packing`) plus a float for its
  confidence, in arrays ordered by row id; rows carrying rarer data (reasons, snippets...)
  are kept whole ("side" rows);
- rows are found by row id through *runs* (consecutive row ids of one pattern), so a
  pattern's rows are dropped by marking its runs dead, and new rows are appended;
- per file, the row ids of its rows as the JSON text the database gave, decoded on first
  ask (plus row ids appended since).
"""

from __future__ import annotations

from array import array
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Sequence
from typing import Any

from msgspec import UNSET

from driftstore.engine.packing import Compact, decode_rowids, side_location
from driftstore.model.pattern import Location

#: how the rows of a run are built (`RowTable.set_modes`): all {file, line, column}; all
#: with isOutlier and confidence inline (drift's A2 shape); all with the backslash spelling
#: of the path; anything else, row by row
PLAIN, INLINE, BACKSLASH, MIXED = range(4)

#: low bits of a packed row (engine.packing): key absent (2 << OUTLIER_SHIFT); the same
#: with BACKSLASH_BIT; isOutlier false / true, location list
_PLAIN_BITS = frozenset({4})
_BACKSLASH_BITS = frozenset({20})
_INLINE_BITS = (frozenset({0}), frozenset({2}), frozenset({0, 2}))

#: a file's rows of each pattern slot: (locations, outliers)
Groups = dict[int, tuple[list[Location], list[Location]]]


class RowTable:
    """Packed rows and their runs; not thread-safe (the FileIndex holds the lock)."""

    def __init__(self) -> None:
        self.runs_of: dict[int, list[int]] = {}
        self.starts: list[int] = []
        self.ends: list[int] = []
        self.slots: list[int] = []
        self.offsets: list[int] = []
        self.modes: list[int] = []
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
        self.offsets.append(offset)
        self.modes.append(MIXED)

    def take(self, chunk: Compact) -> None:
        self.packs.extend(chunk.packs)
        self.confidences.extend(chunk.confidences)
        for row in chunk.side:
            self.side[row[0]] = row

    def set_modes(self, first_run: int) -> None:
        """Classify runs from `first_run` on, once their packed rows are in."""
        packs, confidences, offsets = self.packs, self.confidences, self.offsets
        low = (31).__and__
        for k in range(first_run, len(self.starts)):
            a = offsets[k]
            b = a + self.ends[k] - self.starts[k]
            if a == b:
                continue
            bits = frozenset(map(low, packs[a:b]))
            scores: Iterable[float] = confidences[a:b]
            if 1 in bits:  # SIDE_BIT rows go row by row wherever they are; judge the rest
                bits -= {1}
                scores = [c for p, c in zip(packs[a:b], scores, strict=True) if p != 1]
                if not scores:
                    continue
            if bits in _INLINE_BITS:
                if min(scores) >= 0.0:
                    self.modes[k] = INLINE
            elif max(scores) < 0.0:
                if bits == _PLAIN_BITS:
                    self.modes[k] = PLAIN
                elif bits == _BACKSLASH_BITS:
                    self.modes[k] = BACKSLASH

    def append_pattern(
        self,
        slot: int,
        runs: list[tuple[int, int]],
        rowids: list[int],
        files: list[str],
        compact: Compact,
    ) -> bool:
        """Append one pattern's rows (after `kill`); False when their row ids are not past
        the ones held (rows not written by driftstore): the caller rebuilds."""
        if runs and self.starts and runs[0][0] < self.ends[-1]:
            return False
        offset = len(self.packs)
        first_run = len(self.starts)
        for first, count in runs:
            self.add_run(slot, first, count, offset)
            offset += count
        self.take(compact)
        self.set_modes(first_run)
        added = self.added
        for rowid, file in zip(rowids, files, strict=True):
            added.setdefault(file, []).append(rowid)
        return True

    def same_rows(self, slot: int, span: tuple[int, int, int] | None) -> bool:
        """Location rows are never edited in place and row ids never come back, so the same
        first row id, last row id and count as the slot's runs mean the same rows."""
        runs = self.runs_of.get(slot, [])
        if not runs:
            return span is None
        if span is None:
            return False
        held = sum(self.ends[i] - self.starts[i] for i in runs)
        return span == (self.starts[runs[0]], self.ends[runs[-1]] - 1, held)

    def kill(self, slot: int) -> None:
        for i in self.runs_of.pop(slot, []):
            self.slots[i] = -1
            count = self.ends[i] - self.starts[i]
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

    def group(self, file: str) -> tuple[Groups, int]:
        """A file's rows, grouped by pattern slot, as Locations; and how many there are.

        The hot path of a first ask. A file's rows of one pattern are a stretch of its
        sorted row ids inside one run, found by bisection; runs whose rows all have the
        same shape (`set_modes`) are built by one comprehension each, the rest row by row.
        Constants of the packed layout are spelled as literals (see engine.packing)
        because attribute lookups here cost as much as the work itself.
        """
        rowids = self.rowids(file)
        starts, ends, slots, offsets = self.starts, self.ends, self.slots, self.offsets
        modes, packs, confidences = self.modes, self.packs, self.confidences
        make = Location
        groups: Groups = {}
        n = len(rowids)
        i = size = 0
        while i < n:
            rowid = rowids[i]
            k = bisect_right(starts, rowid) - 1
            if k < 0 or rowid >= ends[k]:
                i += 1
                continue
            j = i + 1
            if j < n and rowids[j] < ends[k]:
                j = bisect_left(rowids, ends[k], j + 1, n)
            slot = slots[k]
            if slot < 0:
                i = j
                continue
            delta = offsets[k] - starts[k]
            size += j - i
            if j == i + 1:  # the common case: one row of this pattern in this file
                built = self._rows(file, (rowid,), delta)
                held = groups.get(slot)
                if held is None:
                    groups[slot] = built
                else:
                    held[0].extend(built[0])
                    held[1].extend(built[1])
                i = j
                continue
            ps = [packs[x + delta] for x in rowids[i:j]]
            mode = modes[k]
            if mode == MIXED or 1 in ps:  # SIDE_BIT rows carry more than the pack says
                built = self._rows(file, rowids[i:j], delta)
            elif mode == PLAIN:
                built = ([make(file, p >> 18, p >> 5 & 0x1FFF) for p in ps], [])
            elif mode == INLINE:
                cs = [confidences[x + delta] for x in rowids[i:j]]
                built = (
                    [
                        make(file, p >> 18, p >> 5 & 0x1FFF, UNSET, UNSET, p & 2 == 2, c)
                        for p, c in zip(ps, cs, strict=True)
                    ],
                    [],
                )
            else:  # BACKSLASH
                spelled = file.replace("/", "\\")
                built = (
                    [make(file, p >> 18, p >> 5 & 0x1FFF, original_file=spelled) for p in ps],
                    [],
                )
            held = groups.get(slot)
            if held is None:
                groups[slot] = built
            else:
                held[0].extend(built[0])
                held[1].extend(built[1])
            i = j
        return groups, size

    def _rows(
        self, file: str, rowids: Sequence[int], delta: int
    ) -> tuple[list[Location], list[Location]]:
        """Rows of one run, one at a time: (locations, outliers)."""
        packs, confidences, side = self.packs, self.confidences, self.side
        built: tuple[list[Location], list[Location]] = ([], [])
        backslashed: str | None = None
        for rowid in rowids:
            pos = rowid + delta
            packed = packs[pos]
            if packed & 1:  # SIDE_BIT
                kind, loc = side_location(file, side[rowid])
                built[kind].append(loc)
                continue
            loc = Location(file, packed >> 18, packed >> 5 & 0x1FFF)
            flag = packed >> 1 & 3  # OUTLIER_SHIFT: 0 false, 1 true, 2 absent
            if flag != 2:
                loc.is_outlier = flag == 1
            confidence = confidences[pos]
            if confidence >= 0.0:
                loc.confidence = confidence
            if packed & 16:  # BACKSLASH_BIT
                if backslashed is None:
                    backslashed = file.replace("/", "\\")
                loc.original_file = backslashed
            built[packed >> 3 & 1].append(loc)  # KIND_SHIFT
        return built
