"""The by-file index: "which patterns touch this file?" answered from memory (the seed's
hot path for IDE integration).

Layout, chosen so that a million locations build in about a second and cost about 50
bytes each (measured: 51 MB of Python heap for the 1M-location M workload):

- every location row is one packed integer (plus a float for its confidence) in arrays
  ordered by rowid; rows carrying rarer data (reasons, snippets...) are kept whole;
- rows are found by rowid through *runs* (consecutive rowids of one pattern), so a
  pattern's rows are dropped by marking its runs dead, and new rows are appended;
- per file, the rowids of its rows as the JSON text SQLite gave, decoded on first ask;
- per pattern, its row without locations (a "head") and its variants.

A file's answer (patterns restricted to that file, with their effective settings) is
built on first ask and kept in an LRU bounded by locations, so repeated asks cost a dict
lookup. Freshness: `PRAGMA data_version` on the index's own connection (a few microseconds,
more than a cached answer) is asked when this process has committed or begun a read
snapshot since the last ask (a process-wide counter: a thread never gets an answer older
than what it has already read), and otherwise at most once per CHECK_INTERVAL_S (1 ms):
another process's commit is seen within a millisecond even by a loop of by_file alone. Then
the patterns named by newer history rows are reloaded in rowid order, and quiet last_seen
moves are patched. Returned patterns are shared with the cache: treat them as read-only.
"""

from __future__ import annotations

import queue
import threading
import time
from array import array
from bisect import bisect_left, bisect_right
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

import msgspec
from msgspec import UNSET

from driftstore.engine import file_index as sql
from driftstore.engine import history as history_sql
from driftstore.engine import patterns as pattern_sql
from driftstore.engine import queries
from driftstore.engine import variants as variant_sql
from driftstore.engine.connection import Database
from driftstore.model.effective import Effective, FilePattern, next_change, resolve
from driftstore.model.paths import normalise_path
from driftstore.model.pattern import Location, Pattern
from driftstore.model.query import PatternFilter, Sort
from driftstore.model.records import Variant

#: cached answers are dropped, oldest first, beyond this many locations in total (a cached
#: location with its share of the pattern copies is ~450 bytes: 65,536 of them ~30 MB)
DEFAULT_CACHE_LOCATIONS = 1 << 16

#: how the rows of a run are built (`FileIndex._mode_of`): all {file, line, column}; all
#: with isOutlier and confidence inline (drift's A2 shape); all with the backslash spelling
#: of the path; anything else, row by row
_PLAIN, _INLINE, _BACKSLASH, _MIXED = range(4)

#: low bits of a packed row (engine.file_index): key absent (2 << OUTLIER_SHIFT); the same
#: with BACKSLASH_BIT; isOutlier false / true, location list
_PLAIN_BITS = frozenset({4})
_BACKSLASH_BITS = frozenset({20})
_INLINE_BITS = (frozenset({0}), frozenset({2}), frozenset({0, 2}))

#: another process's commit is seen within this long; this process's own at once
CHECK_INTERVAL_S = 0.001

#: more changed patterns than this (or a quarter of all) at once: rebuild instead
_RELOAD_LIMIT = 256


class _Answer:
    __slots__ = ("_enabled", "everything", "size", "valid_until")

    def __init__(self, everything: list[FilePattern], valid_until: float | None, size: int) -> None:
        self.everything = everything
        self._enabled: list[FilePattern] | None = None
        self.valid_until = valid_until
        self.size = size

    @property
    def enabled(self) -> list[FilePattern]:
        if self._enabled is None:
            self._enabled = [p for p in self.everything if p.effective.enabled]
        return self._enabled


def _as_file_pattern(head: Pattern) -> FilePattern:
    fields = msgspec.structs.asdict(head)
    return FilePattern(**fields, effective=Effective(severity=head.severity))


class FileIndex:
    """In-memory by-file index over one store's database (thread-safe)."""

    def __init__(self, db: Database, *, cache_locations: int = DEFAULT_CACHE_LOCATIONS) -> None:
        self.db = db
        self.cache_locations = cache_locations
        self._lock = threading.RLock()
        self._source: sql.IndexSource | None = None
        self._version: int | None = None
        self._mark = 0
        self._pending = False
        #: `Database.local_marks()` when last fresh, and when to ask SQLite again
        self._local = -1
        self._next_check = 0.0
        self.builds = 0
        self._reset()

    # --- state -------------------------------------------------------------------------
    def _reset(self) -> None:
        self._built = False
        self._heads: list[FilePattern | None] = []
        #: slots below this were numbered in id order (later ones are appended)
        self._id_ordered = 0
        self._slot_of: dict[str, int] = {}
        self._variants: dict[int, list[Variant]] = {}
        self._runs_of: dict[int, list[int]] = {}
        self._starts: list[int] = []
        self._ends: list[int] = []
        self._slots: list[int] = []
        self._offsets: list[int] = []
        self._modes: list[int] = []
        self._packs = array("q")
        self._confidences = array("d")
        self._side: dict[int, tuple[Any, ...]] = {}
        self._files: dict[str, str] = {}
        self._added: dict[str, list[int]] = {}
        self._live = 0
        self._dead = 0
        self._cache: OrderedDict[str, _Answer] = OrderedDict()
        self._cached = 0

    def close(self) -> None:
        with self._lock:
            if self._source is not None:
                self._source.close()
                self._source = None
            self._reset()
            self._next_check = 0.0

    def note_changed(self, ids: Iterable[str]) -> None:
        """This process committed changes: look at history on the next ask, whatever
        data_version says."""
        del ids  # history names them; a flag is enough
        with self._lock:
            self._pending = True

    # --- asking ------------------------------------------------------------------------
    def lookup(self, path: str, *, include_disabled: bool = True) -> list[FilePattern]:
        """Patterns with a location or outlier in `path`, sorted by id, each restricted to
        that file; those a variant disables there are left out if not include_disabled."""
        file = normalise_path(path)
        with self._lock:
            local = self.db.local_marks()
            if time.monotonic() >= self._next_check or local != self._local or self._pending:
                self._freshen()
                self._local = local
                self._next_check = time.monotonic() + CHECK_INTERVAL_S
            answer = self._cache.get(file)
            if answer is not None and (
                answer.valid_until is None or time.time() < answer.valid_until
            ):
                self._cache.move_to_end(file)
            else:
                answer = self._answer(file)
            return list(answer.everything if include_disabled else answer.enabled)

    def _freshen(self) -> None:
        if self._source is None:
            self._source = sql.IndexSource(self.db.path, busy_timeout_ms=self.db.busy_timeout_ms)
        version = self._source.data_version()
        if not self._built:
            self._build()
        elif version != self._version or self._pending:
            self._refresh()

    # --- building ----------------------------------------------------------------------
    def _build(self) -> None:
        assert self._source is not None
        self._reset()
        with self._source.snapshot() as conn:
            self._version = self._source.data_version()
            self._mark = history_sql.last_id(conn)
            for head in pattern_sql.load_patterns(conn, with_locations=False):  # by id
                self._slot_of[head.id] = len(self._heads)
                self._heads.append(_as_file_pattern(head))
            self._id_ordered = len(self._heads)
            for v in variant_sql.list_variants(conn):
                slot = self._slot_of.get(v.pattern_id)
                if slot is not None:
                    self._variants.setdefault(slot, []).append(v)
            offset = 0
            for pid, first, count in sql.location_runs(conn):
                self._add_run(self._slot_of.get(pid, -1), first, count, offset)
                offset += count
            self._bulk(conn)
            self._set_modes(0)
        self._pending = False
        self._built = True
        self.builds += 1

    def _bulk(self, conn: Any) -> None:
        """The two big scans. SQLite does them in a helper thread (apsw lets go of the GIL
        while SQLite works) while this thread decodes the chunks already produced, so the
        Python half of the build hides behind the SQLite half."""
        chunks: queue.SimpleQueue[tuple[str, str, str] | BaseException | None] = queue.SimpleQueue()
        files: list[dict[str, str]] = []

        def produce() -> None:
            try:
                for raw in sql.compact_chunks(conn):
                    chunks.put(raw)
                files.append(dict(sql.file_rowids(conn)))
            except BaseException as exc:  # handed over to the building thread
                chunks.put(exc)
                return
            chunks.put(None)

        worker = threading.Thread(target=produce, name="driftstore-index-build", daemon=True)
        worker.start()
        try:
            while (item := chunks.get()) is not None:
                if isinstance(item, BaseException):
                    raise item
                self._take(sql.decode_compact(item))
        finally:
            worker.join()
        self._files = files[0]

    def _add_run(self, slot: int, first: int, count: int, offset: int) -> None:
        if slot >= 0:
            self._runs_of.setdefault(slot, []).append(len(self._starts))
            self._live += count
        else:
            self._dead += count
        self._starts.append(first)
        self._ends.append(first + count)
        self._slots.append(slot)
        self._offsets.append(offset)
        self._modes.append(_MIXED)

    def _set_modes(self, first_run: int) -> None:
        """Classify runs from `first_run` on, once their packed rows are in."""
        packs, confidences, offsets = self._packs, self._confidences, self._offsets
        low = (31).__and__
        for k in range(first_run, len(self._starts)):
            a = offsets[k]
            b = a + self._ends[k] - self._starts[k]
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
                    self._modes[k] = _INLINE
            elif max(scores) < 0.0:
                if bits == _PLAIN_BITS:
                    self._modes[k] = _PLAIN
                elif bits == _BACKSLASH_BITS:
                    self._modes[k] = _BACKSLASH

    def _take(self, chunk: sql.Compact) -> None:
        self._packs.extend(chunk.packs)
        self._confidences.extend(chunk.confidences)
        for row in chunk.side:
            self._side[row[0]] = row

    # --- keeping current ---------------------------------------------------------------
    def _refresh(self) -> None:
        assert self._source is not None
        with self._source.snapshot() as conn:
            version = self._source.data_version()
            mark = history_sql.last_id(conn)
            if mark < self._mark:
                self._built = False  # history went back: a restore; start over
            else:
                changed = history_sql.patterns_changed_since(conn, self._mark)
                if len(changed) > max(_RELOAD_LIMIT, len(self._slot_of) // 4):
                    self._built = False  # a whole re-scan: building afresh is cheaper
                elif self._patch_last_seen(conn) or changed:
                    self._cache.clear()
                    self._cached = 0
                    for pid in sql.in_rowid_order(conn, changed):
                        self._reload(conn, pid)
                        if not self._built:
                            break
            self._mark = mark
        self._version = version
        self._pending = False
        if not self._built or self._dead > max(self._live, 1 << 16):
            self._build()

    def _patch_last_seen(self, conn: Any) -> bool:
        """A re-scan moves last_seen without a history row; copy the new values in."""
        moved = False
        for pid, last_seen in sql.last_seen_by_id(conn).items():
            slot = self._slot_of.get(pid)
            head = self._heads[slot] if slot is not None else None
            if head is None:
                continue
            value = UNSET if last_seen is None else last_seen
            if head.metadata.last_seen != value:
                metadata = msgspec.structs.replace(head.metadata, last_seen=value)
                self._heads[slot] = msgspec.structs.replace(head, metadata=metadata)  # type: ignore[index]
                moved = True
        return moved

    def _reload(self, conn: Any, pid: str) -> None:
        slot = self._slot_of.get(pid)
        head = pattern_sql.load_pattern(conn, pid, with_locations=False)
        if head is None:
            if slot is not None:
                self._kill(slot)
                self._heads[slot] = None
                self._variants.pop(slot, None)
            return
        if slot is None:
            slot = len(self._heads)
            self._slot_of[pid] = slot
            self._heads.append(None)
        self._heads[slot] = _as_file_pattern(head)
        self._variants[slot] = variant_sql.list_variants(conn, pid)
        if self._same_rows(slot, sql.row_span(conn, pid)):
            return  # a status, variant or example change: the rows stay
        rows = sql.pattern_rows(conn, pid)
        self._kill(slot)
        runs = list(sql.split_runs(rows.rowids))
        if runs and self._starts and runs[0][0] < self._ends[-1]:
            self._built = False  # rowids went back (not written by driftstore): start over
            return
        offset = len(self._packs)
        first_run = len(self._starts)
        for first, count in runs:
            self._add_run(slot, first, count, offset)
            offset += count
        self._take(rows.compact)
        self._set_modes(first_run)
        added = self._added
        for rowid, file in zip(rows.rowids, rows.files, strict=True):
            added.setdefault(file, []).append(rowid)

    def _same_rows(self, slot: int, span: tuple[int | None, int | None, int]) -> bool:
        """Location rows are never edited in place and rowids never come back, so the same
        first rowid, last rowid and count as the slot's runs mean the same rows."""
        runs = self._runs_of.get(slot, [])
        first, last, count = span
        if not runs:
            return count == 0
        held = sum(self._ends[i] - self._starts[i] for i in runs)
        return (first, last, count) == (self._starts[runs[0]], self._ends[runs[-1]] - 1, held)

    def _kill(self, slot: int) -> None:
        for i in self._runs_of.pop(slot, []):
            self._slots[i] = -1
            count = self._ends[i] - self._starts[i]
            self._live -= count
            self._dead += count

    # --- answering ---------------------------------------------------------------------
    def _rowids(self, file: str) -> list[int]:
        text = self._files.get(file)
        rowids = sql.decode_rowids(text) if text is not None else []
        added = self._added.get(file)
        if added:
            rowids.extend(added)
            rowids.sort()
        return rowids

    def _answer(self, file: str) -> _Answer:
        """Build a file's answer: its rows, grouped by pattern, as Locations.

        The hot path of a first ask. A file's rows of one pattern are a stretch of its
        sorted rowids inside one run, found by bisection; runs whose rows all have the same
        shape (`_mode_of`) are built by one comprehension each, the rest row by row.
        Constants of the packed layout are spelled as literals (see engine.file_index)
        because attribute lookups here cost as much as the work itself.
        """
        rowids = self._rowids(file)
        starts, ends, slots, offsets = self._starts, self._ends, self._slots, self._offsets
        modes, packs, confidences = self._modes, self._packs, self._confidences
        make = Location
        groups: dict[int, tuple[list[Location], list[Location]]] = {}
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
            if mode == _MIXED or 1 in ps:  # SIDE_BIT rows carry more than the pack says
                built = self._rows(file, rowids[i:j], delta)
            elif mode == _PLAIN:
                built = ([make(file, p >> 18, p >> 5 & 0x1FFF) for p in ps], [])
            elif mode == _INLINE:
                cs = [confidences[x + delta] for x in rowids[i:j]]
                built = (
                    [
                        make(file, p >> 18, p >> 5 & 0x1FFF, UNSET, UNSET, p & 2 == 2, c)
                        for p, c in zip(ps, cs, strict=True)
                    ],
                    [],
                )
            else:  # _BACKSLASH
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
        return self._assemble(file, groups, size)

    def _rows(
        self, file: str, rowids: Sequence[int], delta: int
    ) -> tuple[list[Location], list[Location]]:
        """Rows of one run, one at a time: (locations, outliers)."""
        packs, confidences, side = self._packs, self._confidences, self._side
        built: tuple[list[Location], list[Location]] = ([], [])
        backslashed: str | None = None
        for rowid in rowids:
            pos = rowid + delta
            packed = packs[pos]
            if packed & 1:  # SIDE_BIT
                kind, loc = sql.side_location(file, side[rowid])
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

    def _assemble(
        self, file: str, groups: dict[int, tuple[list[Location], list[Location]]], size: int
    ) -> _Answer:
        heads, variants_of = self._heads, self._variants
        if groups and max(groups) < self._id_ordered:
            order = sorted(groups)  # slots of one build follow the ids
        else:
            order = sorted(groups, key=lambda s: heads[s].id)  # type: ignore[union-attr]
        now: datetime | None = None
        until: datetime | None = None
        found: list[FilePattern] = []
        replace = msgspec.structs.replace
        for slot in order:
            head = heads[slot]
            assert head is not None
            locations, outliers = groups[slot]
            variants = variants_of.get(slot)
            if variants:
                now = now or datetime.now(UTC)
                effective = resolve(head.severity, variants, file, now)
                ends_at = next_change(variants, file, now)
                if ends_at is not None and (until is None or ends_at < until):
                    until = ends_at
                found.append(
                    replace(head, locations=locations, outliers=outliers, effective=effective)
                )
            else:
                found.append(replace(head, locations=locations, outliers=outliers))
        answer = _Answer(found, None if until is None else until.timestamp(), size)
        self._remember(file, answer)
        return answer

    def _remember(self, file: str, answer: _Answer) -> None:
        old = self._cache.pop(file, None)
        if old is not None:
            self._cached -= old.size
        self._cache[file] = answer
        self._cached += answer.size
        while self._cached > self.cache_locations and len(self._cache) > 1:
            _, dropped = self._cache.popitem(last=False)
            self._cached -= dropped.size

    # --- introspection (tests, benchmarks) ---------------------------------------------
    def stats(self) -> dict[str, int]:
        with self._lock:
            return {
                "patterns": sum(1 for h in self._heads if h is not None),
                "files": len(self._files) + len(set(self._added) - set(self._files)),
                "liveRows": self._live,
                "deadRows": self._dead,
                "cachedFiles": len(self._cache),
                "cachedLocations": self._cached,
                "builds": self.builds,
            }


# --- the plain SQL answer -----------------------------------------------------------------
def from_sql(
    conn: Any, path: str, *, include_disabled: bool = True, now: datetime | None = None
) -> list[FilePattern]:
    """The same answer as `FileIndex.lookup`, read from SQL through the file index: what a
    one-shot process uses, and the reference the in-memory index is tested against."""
    file = normalise_path(path)
    rows = sql.locations_in_file(conn, file)
    groups: dict[str, tuple[list[Location], list[Location]]] = {}
    for pid, kind, loc in rows:
        groups.setdefault(pid, ([], []))[kind].append(loc)
    ids = sorted(groups)
    heads = pattern_sql.load_patterns(conn, ids, with_locations=False)
    variants = variant_sql.variants_for(conn, ids)
    moment = now or datetime.now(UTC)
    found: list[FilePattern] = []
    for head in heads:
        locations, outliers = groups[head.id]
        effective = resolve(head.severity, variants.get(head.id, []), file, moment)
        if effective.enabled or include_disabled:
            found.append(
                msgspec.structs.replace(
                    _as_file_pattern(head),
                    locations=locations,
                    outliers=outliers,
                    effective=effective,
                )
            )
    return found


def file_report(conn: Any, path: str, *, include_disabled: bool = False) -> dict[str, Any]:
    """`driftstore file PATH --json`: each pattern's summary, its locations in PATH
    (`line`, `column`, `isOutlier`) and its `effective` settings there, from one snapshot."""
    file = normalise_path(path)
    found = from_sql(conn, file, include_disabled=include_disabled)
    summaries = {
        s.id: s
        for s in queries.run_query(
            conn, PatternFilter(ids=[p.id for p in found]), Sort(), offset=0, limit=None
        ).patterns
    }
    patterns = []
    for p in found:
        item: dict[str, Any] = msgspec.to_builtins(summaries[p.id])
        spots = [(loc, loc.is_outlier is True) for loc in p.locations]
        spots += [(loc, True) for loc in p.outliers]
        spots.sort(key=lambda spot: (spot[0].line, spot[0].column, spot[1]))
        item["locations"] = [
            {"line": loc.line, "column": loc.column, "isOutlier": outlier} for loc, outlier in spots
        ]
        item["effective"] = msgspec.to_builtins(p.effective)
        patterns.append(item)
    return {"file": file, "patterns": patterns}
