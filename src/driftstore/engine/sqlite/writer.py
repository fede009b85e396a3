"""`Writer` over the writer connection's cursor inside one BEGIN IMMEDIATE transaction."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import apsw

from driftstore.engine.base import HistoryRecord, PatternWrite, StatusChange, Writer
from driftstore.engine.sqlite import (
    bookkeeping,
    changes,
    examples,
    history,
    patterns,
    variants,
)
from driftstore.engine.sqlite.reader import SqliteReader
from driftstore.model.records import Example, Variant

_CHUNK = 500


class SqliteWriter(SqliteReader, Writer):
    def __init__(self, cur: apsw.Cursor, *, now: str) -> None:
        super().__init__(cur)
        self.cur = cur
        self.now = now
        #: ids of patterns this transaction changed (the change log), and whether anything
        #: at all was written (export bookkeeping moves the generation too)
        self.changed: set[str] = set()
        self.dirty = False
        self._inserted = 0
        self._deleted = 0
        self._bulk: patterns.BulkLocations | None = None
        self._dropped_indexes: list[str] | None = None

    def _c(self) -> Any:
        if self._bulk is not None:
            self._bulk.flush()  # rows buffered for a bulk load must be in before any read
        return self.cur

    # --- bulk loads --------------------------------------------------------------------
    def bulk_load(self) -> None:
        if self._bulk is not None:
            return
        # building the indexes once at the end is several times cheaper than upkeep row
        # by row; DDL is transactional, so a failed or killed load rolls them back too
        patterns.drop_location_indexes(self.cur)
        self._dropped_indexes = patterns.drop_pattern_indexes(self.cur)
        self._bulk = patterns.BulkLocations(self.cur)

    # --- patterns ----------------------------------------------------------------------
    def put_patterns(self, batch: Sequence[PatternWrite]) -> None:
        if not batch:
            return
        cur = self.cur
        ids = [w.pattern.id for w in batch]
        if self._bulk is not None:  # the store was empty: only this transaction's ids exist
            ids = [pid for pid in ids if pid in self.changed]
        existing = self._created_at(ids) if ids else {}
        for w in batch:
            p = w.pattern
            stored_created = existing.get(p.id)
            if stored_created is None:
                created = w.created_at or w.updated_at
                patterns.insert_pattern(
                    cur,
                    p,
                    content_hash=w.content_hash,
                    created_at=created,
                    updated_at=w.updated_at,
                    layout=w.layout,
                    bulk=self._bulk,
                    echo=w.echo,
                    locations_hash=w.locations_hash,
                )
                existing[p.id] = created  # the same id later in the batch replaces it
                self._inserted += 1
            else:
                row = patterns.replace_pattern_row(
                    cur,
                    p,
                    content_hash=w.content_hash,
                    created_at=w.created_at or stored_created,
                    updated_at=w.updated_at,
                    layout=w.layout,
                    echo=w.echo,
                )
                if w.locations:
                    if self._bulk is not None:
                        self._bulk.flush()  # its buffered rows go before they are deleted
                    patterns.delete_locations(cur, p.id)
                    patterns.insert_locations(cur, p, row, w.locations_hash)
            self.changed.add(p.id)
        self.dirty = True

    def _created_at(self, ids: list[str]) -> dict[str, str]:
        found: dict[str, str] = {}
        for start in range(0, len(ids), _CHUNK):
            chunk = ids[start : start + _CHUNK]
            marks = ",".join("?" * len(chunk))
            found.update(
                (row[0], str(row[1]))
                for row in self.cur.execute(
                    f"SELECT id, created_at FROM patterns WHERE id IN ({marks})", tuple(chunk)
                )
            )
        return found

    def delete_patterns(self, pattern_ids: Sequence[str]) -> None:
        cur = self._c()
        for pid in pattern_ids:
            patterns.delete_pattern(cur, pid)
            if cur.connection.changes():  # an id that was not there changes nothing
                self._deleted += 1
                self.changed.add(pid)
                self.dirty = True

    def set_statuses(self, changes_: Sequence[StatusChange]) -> None:
        cur = self._c()
        for change in changes_:
            if patterns.set_status(
                cur,
                change.pattern_id,
                change.status.value,
                change.at,
                approved_by=change.approved_by,
            ):
                self.changed.add(change.pattern_id)
                self.dirty = True

    def touch_last_seen(self, stamps: Sequence[tuple[str, str]]) -> None:
        if not stamps:
            return
        found = patterns.touch_last_seen(self._c(), [(stamp, pid) for pid, stamp in stamps])
        self.changed.update(found)
        self.dirty = self.dirty or bool(found)

    def remember_echoes(self, echoes: Sequence[tuple[str, str]]) -> None:
        if echoes:
            patterns.remember_echoes(self.cur, echoes)

    def record_history(self, rows: Sequence[HistoryRecord]) -> None:
        if not rows:
            return
        self.cur.executemany(
            history.INSERT_HISTORY,
            [
                history.history_row(
                    r.pattern_id, r.action, r.old, r.new, at=r.at, by=r.by, reason=r.reason
                )
                for r in rows
            ],
        )
        self.dirty = True

    # --- variants and examples ---------------------------------------------------------
    def add_variant(self, variant: Variant) -> Variant:
        cur = self._c()
        variant_id = variants.insert_variant(cur, variant, created_at=self.now)
        stored = variants.get_variant(cur, variant_id)
        assert stored is not None
        self.changed.add(variant.pattern_id)
        self.dirty = True
        return stored

    def remove_variant(self, variant_id: int) -> Variant | None:
        cur = self._c()
        stored = variants.get_variant(cur, variant_id)
        if stored is not None and variants.delete_variant(cur, variant_id):
            self.changed.add(stored.pattern_id)
            self.dirty = True
        return stored

    def add_example(self, example: Example) -> Example:
        cur = self._c()
        example_id = examples.insert_example(cur, example, created_at=self.now)
        stored = examples.get_example(cur, example_id)
        assert stored is not None
        self.changed.add(example.pattern_id)
        self.dirty = True
        return stored

    def remove_example(self, example_id: int) -> Example | None:
        cur = self._c()
        stored = examples.get_example(cur, example_id)
        if stored is not None and examples.delete_example(cur, example_id):
            self.changed.add(stored.pattern_id)
            self.dirty = True
        return stored

    def replace_children(
        self, pattern_id: str, variants_: Sequence[Variant], examples_: Sequence[Example]
    ) -> None:
        cur = self._c()
        bookkeeping.delete_children(cur, pattern_id, "pattern_variants")
        bookkeeping.delete_children(cur, pattern_id, "pattern_examples")
        for v in variants_:
            variants.insert_variant(cur, v, created_at=self.now)
        for e in examples_:
            examples.insert_example(cur, e, created_at=self.now)
        self.changed.add(pattern_id)
        self.dirty = True

    # --- bookkeeping -------------------------------------------------------------------
    def put_export_state(
        self, category: str, layout: str, status: str, checksum: str, last_updated: str
    ) -> None:
        bookkeeping.write_state(self.cur, category, layout, status, checksum, last_updated)
        self.dirty = True

    def drop_export_state(self, category: str, layout: str, status: str) -> None:
        if bookkeeping.delete_state(self.cur, category, layout, status):
            self.dirty = True

    def put_meta(self, key: str, value: str | None) -> None:
        if bookkeeping.write_meta(self.cur, key, value):
            self.dirty = True

    # --- the end -----------------------------------------------------------------------
    def finish(self) -> int | None:
        """Before COMMIT: finish a bulk load, keep the planner's statistics useful, and move
        the generation with the change log. Returns the new generation (None: nothing was
        written, the generation stays)."""
        cur = self.cur
        if self._bulk is not None:
            self._bulk.flush()
            patterns.create_location_indexes(cur)
            patterns.create_indexes(cur, self._dropped_indexes or [])
        if self._bulk is not None or self._inserted or self._deleted:
            now = patterns.count_patterns(cur)
            before = now - self._inserted + self._deleted
            if self._bulk is not None or (self._inserted + self._deleted) * 10 > before:
                patterns.refresh_planner_stats(cur)
        if not self.dirty:
            return None
        return changes.record(cur, self.changed)
