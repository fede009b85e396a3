"""The by-file index: "which patterns touch this file?" answered from memory (the seed's
hot path for IDE integration).

It holds every pattern's head (its row without locations) and variants, and every location
row packed (`index.rows`). A file's answer is made on first ask and cached for the files
asked last (`index.answers`), so an editor's repeated asks cost a dict lookup. An answer
is a list of views (`model.file_pattern`): finding the patterns that touch a file takes
a few C calls over its row ids, and a view's Locations are built when first read.

Freshness comes from the store generation (`Engine.generation`, which sees this process's
commits at once and another process's within a millisecond): when it moved, the patterns
the change log names are reloaded (heads and variants in one batch; the location rows
written since, in one ordered range); when the log cannot say what changed (a restore, or
too much changed), the index is built afresh. Returned patterns are shared with the cache:
treat them as read-only.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Collection, Sequence
from itertools import groupby

from driftstore.engine.base import Engine, Reader
from driftstore.engine.packing import RawCompact, decode_compact, split_runs
from driftstore.index.answers import DEFAULT_CACHE_LOCATIONS, Answer, AnswerCache, assemble
from driftstore.index.rows import IndexedRows, RowTable, without_gc
from driftstore.model.file_pattern import FilePattern
from driftstore.model.paths import normalise_path
from driftstore.model.pattern import Pattern
from driftstore.model.records import Variant

#: more patterns whose rows changed than this (or a quarter of all) at once: rebuild
RELOAD_LIMIT = 256


def runs_by_pattern(pids: list[str], rowids: list[int]) -> list[tuple[str, int, int]]:
    """(pattern id, first row id, count) of each stretch of consecutive row ids of one
    pattern, for rows in row-id order."""
    runs: list[tuple[str, int, int]] = []
    start = 0
    for pid, group in groupby(pids):
        end = start + len(list(group))
        if rowids[end - 1] - rowids[start] == end - start - 1:
            runs.append((pid, rowids[start], end - start))
        else:
            runs.extend((pid, first, n) for first, n in split_runs(rowids[start:end]))
        start = end
    return runs


def _scan_rows(r: Reader, chunks: queue.SimpleQueue[RawCompact | BaseException | None]) -> None:
    """The build's big scan, run in a helper thread: the packed rows in chunks; a failure
    is handed over to the building thread."""
    try:
        for raw in r.compact_chunks():
            chunks.put(raw)
    except BaseException as exc:  # handed over to the building thread
        chunks.put(exc)
        return
    chunks.put(None)


class FileIndex:
    """In-memory by-file index over one store (thread-safe)."""

    def __init__(self, engine: Engine, *, cache_locations: int = DEFAULT_CACHE_LOCATIONS) -> None:
        self.engine = engine
        self._lock = threading.RLock()
        self._cache = AnswerCache(cache_locations)
        self.builds = 0
        self._reset()

    def _reset(self) -> None:
        self._built = False
        #: the store generation the index holds
        self._generation = -1
        #: per slot, the pattern without its rows
        self._heads: list[Pattern | None] = []
        #: slots below this were numbered in id order (later ones are appended)
        self._id_ordered = 0
        self._slot_of: dict[str, int] = {}
        self._variants: dict[int, list[Variant]] = {}
        self._rows = RowTable()
        self._cache.clear()

    def close(self) -> None:
        with self._lock:
            self._reset()

    # --- asking ------------------------------------------------------------------------
    def lookup(self, path: str, *, include_disabled: bool = True) -> list[FilePattern]:
        """Patterns with a location or outlier in `path`, sorted by id, each restricted to
        that file; those a variant disables there are left out if not include_disabled."""
        return self.lookup_at(path, include_disabled=include_disabled)[0]

    def lookup_at(
        self, path: str, *, include_disabled: bool = True
    ) -> tuple[list[FilePattern], int]:
        """`lookup`, and the store generation its answer is true at (for an editor's
        resultId or an HTTP ETag)."""
        file = normalise_path(path)
        with self._lock:
            generation = self.engine.generation()
            if not self._built:
                self._build()
            elif generation != self._generation:
                self._refresh()
            return self._current(file, include_disabled), self._generation

    def lookup_now(
        self, path: str, *, include_disabled: bool = True
    ) -> tuple[list[FilePattern], int] | None:
        """`lookup_at` when it can answer without waiting: the index built and at the
        store's generation, and no other thread inside it; else None (nothing read). What
        an event loop may call itself, leaving builds and refreshes to a worker thread."""
        file = normalise_path(path)
        if not self._lock.acquire(blocking=False):
            return None
        try:
            if not self._built or self.engine.generation() != self._generation:
                return None
            return self._current(file, include_disabled), self._generation
        finally:
            self._lock.release()

    def _current(self, file: str, include_disabled: bool) -> list[FilePattern]:
        answer = self._cache.get(file, time.time())
        if answer is None:
            answer = self._answer(file)
        return list(answer.everything if include_disabled else answer.enabled)

    @property
    def generation(self) -> int:
        """The store generation the index last caught up with (-1 before its first ask)."""
        return self._generation

    def _answer(self, file: str) -> Answer:
        answer = without_gc(lambda: self._make_answer(file))
        self._cache.put(file, answer)
        return answer

    def _make_answer(self, file: str) -> Answer:
        rows = self._rows
        built = rows.built_slots(file)
        touching: Sequence[int]
        if built is not None:
            touching, size = built
            source = IndexedRows(rows, file, None, None)
        else:
            rowids = rows.rowids(file)
            slots = rows.slots_of(rowids)
            found = set(slots)
            found.discard(-1)
            touching, size = sorted(found), len(slots) - slots.count(-1)
            source = IndexedRows(rows, file, rowids, slots)
        return assemble(
            file,
            touching,
            size,
            self._heads,
            self._variants,
            source,
            id_ordered=self._id_ordered,
        )

    # --- building ----------------------------------------------------------------------
    def _build(self) -> None:
        """Read everything afresh. The big scan of the rows runs in a helper thread on one
        read transaction (the database lets go of the GIL while it works) while this
        thread reads the heads, variants, runs and each file's row ids on a second one and
        notes which patterns touch each file, then decodes the chunks the scan produced:
        the Python half of the build hides behind the database half. The two snapshots
        must be at one generation; when a write landed between them, the rest is read
        again on the first, after the scan."""
        self._reset()
        with self.engine.read() as r:
            self._generation = r.generation()
            chunks: queue.SimpleQueue[RawCompact | BaseException | None] = queue.SimpleQueue()
            worker = threading.Thread(
                target=_scan_rows, args=(r, chunks), name="driftstore-index-build"
            )
            worker.daemon = True
            worker.start()
            try:
                with self.engine.read() as beside:
                    aside = beside.generation() == self._generation
                    if aside:
                        self._read_patterns(beside)
                        files = dict(beside.file_rowids())
                if not aside:
                    worker.join()  # the first connection is free once the scan is done
                    self._read_patterns(r)
                    files = dict(r.file_rowids())
                # chunks that arrived meanwhile are decoded between files, not all after
                done = [False]
                self._rows.index_files(files, between=lambda: self._take(chunks, done, wait=False))
                self._take(chunks, done, wait=True)
            finally:
                worker.join()
        self._built = True
        self.builds += 1

    def _take(
        self,
        chunks: queue.SimpleQueue[RawCompact | BaseException | None],
        done: list[bool],
        *,
        wait: bool,
    ) -> None:
        """Decode the scan's chunks into the row table: all of them (`wait`), or those
        already there. `done` turns true at the scan's end; a failure of the scan is
        raised here."""
        while not done[0]:
            try:
                item = chunks.get(block=wait)
            except queue.Empty:
                return
            if item is None:
                done[0] = True
            elif isinstance(item, BaseException):
                raise item
            else:
                self._rows.take(decode_compact(item))

    def _read_patterns(self, r: Reader) -> None:
        """Heads, variants and the runs of location rows (each run's pattern slot)."""
        for head in r.patterns(with_locations=False):  # by id
            self._slot_of[head.id] = len(self._heads)
            self._heads.append(head)
        self._id_ordered = len(self._heads)
        for v in r.variants():
            slot = self._slot_of.get(v.pattern_id)
            if slot is not None:
                self._variants.setdefault(slot, []).append(v)
        offset = 0
        for pid, first, count in r.location_runs():
            self._rows.add_run(self._slot_of.get(pid, -1), first, count, offset)
            offset += count

    # --- keeping current ---------------------------------------------------------------
    def _refresh(self) -> None:
        with self.engine.read() as r:
            changes = r.changes_since(self._generation)
            if changes.ids is None:
                self._built = False  # a restore, or more than the change log lists
            elif changes.ids:
                self._cache.clear()
                self._reload(r, changes.ids)
            self._generation = changes.generation
        rows = self._rows
        if not self._built or rows.dead > max(rows.live, 1 << 16):
            self._build()

    def _reload(self, r: Reader, ids: Collection[str]) -> None:
        """Reload these patterns: heads and variants of all, location rows of those whose
        rows changed (a status, variant or example change leaves the rows as they were).

        driftstore replaces a pattern's rows whole and row ids only grow, so the rows to
        add are exactly those past the highest row id held (one ordered range read), and a
        pattern lost its rows when the first one held is gone (one key probe each)."""
        wanted = sorted(ids)
        heads = {h.id: h for h in r.patterns(wanted, with_locations=False)}
        variants = r.variants_of(wanted)
        pids, rows = r.indexed_rows_after(self._rows.held_max())
        new_runs = runs_by_pattern(pids, rows.rowids)
        with_new_rows = {pid for pid, _, _ in new_runs}
        if not with_new_rows.issubset(ids):
            self._built = False  # rows the change log does not explain
            return
        firsts: dict[str, int] = {}
        for pid in wanted:
            slot = self._slot_of.get(pid)
            first = None if slot is None else self._rows.first_rowid(slot)
            if first is not None:
                firsts[pid] = first
        gone = r.missing_rowids(sorted(firsts.values())) if firsts else set()
        moved: list[int] = []
        self._heads = list(self._heads)  # answers made so far keep the list they were given
        for pid in wanted:
            slot = self._slot_of.get(pid)
            head = heads.get(pid)
            if head is None:
                if slot is not None:
                    self._rows.kill(slot)
                    self._heads[slot] = None
                    self._variants.pop(slot, None)
                continue
            if slot is None:
                slot = len(self._heads)
                self._slot_of[pid] = slot
                self._heads.append(None)
            self._heads[slot] = head
            self._variants[slot] = variants.get(pid, [])
            lost = pid in firsts and firsts[pid] in gone
            if pid in with_new_rows:
                if pid in firsts and not lost:
                    self._built = False  # rows added beside kept ones: not driftstore's way
                    return
                moved.append(slot)
            elif lost:
                moved.append(slot)
        if len(moved) > max(RELOAD_LIMIT, len(self._slot_of) // 4):
            self._built = False  # a whole re-scan: building afresh is cheaper
            return
        for slot in moved:
            self._rows.kill(slot)
        slot_of = self._slot_of
        runs = [(slot_of.get(pid, -1), first, count) for pid, first, count in new_runs]
        if not self._rows.append_rows(runs, rows):
            self._built = False  # row ids went back (not written by driftstore)

    # --- introspection (tests, benchmarks) ---------------------------------------------
    def stats(self) -> dict[str, int]:
        with self._lock:
            rows = self._rows
            return {
                "patterns": sum(1 for h in self._heads if h is not None),
                "files": len(rows.files) + len(set(rows.added) - set(rows.files)),
                "liveRows": rows.live,
                "deadRows": rows.dead,
                "cachedFiles": len(self._cache),
                "cachedLocations": self._cache.locations,
                "builds": self.builds,
                "generation": self._generation,
            }
