"""`Writer` over one PostgreSQL transaction that holds its project's row lock.

Writers of one project take turns on `driftstore_projects` (SELECT ... FOR UPDATE at the
start), so generations are in commit order and two CI runners never interleave a scan;
`now` is read once the lock is held. Location rows go in with COPY.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import msgspec
import psycopg

from driftstore.engine import digests
from driftstore.engine.base import HistoryRecord, PatternWrite, StatusChange, Writer
from driftstore.engine.postgres.reader import (
    _CHECKED,
    KEEP_GENERATIONS,
    RESERVED_META,
    PgReader,
)
from driftstore.engine.rows import LOCATION_COLUMNS, PATTERN_COLUMNS, location_rows, pattern_row
from driftstore.model.records import Example, Variant

#: a write that touches more patterns than this records "everything" instead of ids
MAX_LISTED = 50_000
_COLUMN_INDEX = {name: i for i, name in enumerate(PATTERN_COLUMNS)}
_INSERT_PATTERN = (
    f"INSERT INTO patterns (project, {', '.join(PATTERN_COLUMNS)}, row_digest, rows_digest, "
    f"scan_echo, locations_summary) VALUES ({', '.join(['%s'] * (len(PATTERN_COLUMNS) + 5))})"
)
_UPDATE_PATTERN = (
    "UPDATE patterns SET "
    + ", ".join(f"{col} = %s" for col in PATTERN_COLUMNS[1:])
    + ", row_digest = %s, scan_echo = %s WHERE project = %s AND id = %s"
)
_COPY_LOCATIONS = f"COPY pattern_locations (project, {', '.join(LOCATION_COLUMNS)}) FROM STDIN"


class PgWriter(PgReader, Writer):
    def __init__(self, conn: psycopg.Connection[tuple[Any, ...]], project: str, now: str) -> None:
        super().__init__(conn, project)
        self.now = now
        self.changed: set[str] = set()
        self.dirty = False
        #: the change log cannot say what changed (a restore): `changes_since` of any
        #: earlier generation answers "everything"
        self.reset_log = False

    # --- patterns ------------------------------------------------------------------------
    def bulk_load(self) -> None:
        """Nothing to defer: COPY already streams the rows, and a shared table's indexes
        cannot be dropped without blocking every other project."""

    def _copy_locations(self, rows: list[tuple[Any, ...]]) -> None:
        if not rows:
            return
        with self.conn.cursor() as cur, cur.copy(_COPY_LOCATIONS) as copy:
            project = self.project
            for row in rows:
                copy.write_row((project, *row))

    def put_patterns(self, batch: Sequence[PatternWrite]) -> None:
        if not batch:
            return
        created = {
            r[0]: r[1]
            for r in self._q(
                "SELECT id, created_at FROM patterns WHERE project = %s AND id = ANY(%s)",
                (self.project, [w.pattern.id for w in batch]),
            )
        }
        inserts: list[tuple[Any, ...]] = []
        fresh_rows: list[tuple[Any, ...]] = []
        pending: dict[str, int] = {}

        def flush() -> None:
            if inserts:
                with self.conn.cursor() as cur:
                    cur.executemany(_INSERT_PATTERN, inserts)
                inserts.clear()
            self._copy_locations(fresh_rows)
            fresh_rows.clear()
            pending.clear()

        for w in batch:
            p = w.pattern
            if p.id in pending:  # named twice in one batch: the last write wins
                flush()
                created[p.id] = w.created_at or w.updated_at
            stored_created = created.get(p.id)
            rows = location_rows(p) if (stored_created is None or w.locations) else []
            if stored_created is None:
                made = w.created_at or w.updated_at
                row = pattern_row(
                    p, content_hash=w.content_hash, created_at=made, updated_at=w.updated_at,
                    layout=w.layout,
                )  # fmt: skip
                written = digests.rows_digest(rows)
                inserts.append(
                    (self.project, *row, digests.row_digest("patterns", row), written, w.echo,
                     digests.location_summary(w.locations_hash, row, written))
                )  # fmt: skip
                fresh_rows.extend(rows)
                pending[p.id] = 1
                created[p.id] = made
            else:
                row = pattern_row(
                    p, content_hash=w.content_hash, created_at=w.created_at or stored_created,
                    updated_at=w.updated_at, layout=w.layout,
                )  # fmt: skip
                self._q(
                    _UPDATE_PATTERN,
                    (*row[1:], digests.row_digest("patterns", row), w.echo, self.project, p.id),
                )
                if w.locations:
                    self._q(
                        "DELETE FROM pattern_locations WHERE project = %s AND pattern_id = %s",
                        (self.project, p.id),
                    )
                    self._copy_locations(rows)
                    written = digests.rows_digest(rows)
                    self._q(
                        "UPDATE patterns SET rows_digest = %s, locations_summary = %s "
                        "WHERE project = %s AND id = %s",
                        (written, digests.location_summary(w.locations_hash, row, written),
                         self.project, p.id),
                    )  # fmt: skip
            self.changed.add(p.id)
        flush()
        self.dirty = True

    def remember_echoes(self, echoes: Sequence[tuple[str, str]]) -> None:
        if not echoes:
            return
        with self.conn.cursor() as cur:
            cur.executemany(
                "UPDATE patterns SET scan_echo = %s WHERE project = %s AND id = %s",
                [(echo, self.project, pid) for pid, echo in echoes],
            )

    def delete_patterns(self, pattern_ids: Sequence[str]) -> None:
        ids = list(dict.fromkeys(pattern_ids))
        if not ids:
            return
        for table in ("pattern_locations", "pattern_variants", "pattern_examples"):
            self._q(
                f"DELETE FROM {table} WHERE project = %s AND pattern_id = ANY(%s)",
                (self.project, ids),
            )
        gone = [
            r[0]
            for r in self._q(
                "DELETE FROM patterns WHERE project = %s AND id = ANY(%s) RETURNING id",
                (self.project, ids),
            )
        ]
        if gone:
            self.changed.update(gone)
            self.dirty = True

    def _update_columns(self, row: tuple[Any, ...], changes: dict[str, Any]) -> None:
        values, stored_digest = row[:-2], row[-2]
        digests.check_pattern_row(values, stored_digest)
        new = list(values)
        for name, value in changes.items():
            new[_COLUMN_INDEX[name]] = value
        assignments = ", ".join(f"{name} = %s" for name in changes)
        self._q(
            f"UPDATE patterns SET {assignments}, row_digest = %s WHERE project = %s AND id = %s",
            (*changes.values(), digests.row_digest("patterns", new), self.project, values[0]),
        )

    def set_statuses(self, changes: Sequence[StatusChange]) -> None:
        for change in changes:
            row = self._q(
                f"{_CHECKED} WHERE project = %s AND id = %s", (self.project, change.pattern_id)
            ).fetchone()
            if row is None:
                continue
            update: dict[str, Any] = {"status": change.status.value, "updated_at": change.at}
            if change.status.value == "approved":
                update.update(approved_at=change.at, approved_by=change.approved_by)
            self._update_columns(tuple(row), update)
            self.changed.add(change.pattern_id)
            self.dirty = True

    def touch_last_seen(self, stamps: Sequence[tuple[str, str]]) -> None:
        if not stamps:
            return
        wanted = dict(stamps)
        updates: list[tuple[Any, ...]] = []
        for r in self._q(
            f"{_CHECKED} WHERE project = %s AND id = ANY(%s)", (self.project, list(wanted))
        ):
            values = list(r[:-2])
            digests.check_pattern_row(values, r[-2])
            stamp = wanted[str(r[0])]
            values[_COLUMN_INDEX["last_seen"]] = stamp
            updates.append((stamp, digests.row_digest("patterns", values), self.project, r[0]))
        if updates:
            with self.conn.cursor() as cur:
                cur.executemany(
                    "UPDATE patterns SET last_seen = %s, row_digest = %s "
                    "WHERE project = %s AND id = %s",
                    updates,
                )
            self.changed.update(str(u[3]) for u in updates)
            self.dirty = True

    def record_history(self, rows: Sequence[HistoryRecord]) -> None:
        if not rows:
            return
        values = []
        for r in rows:
            row = (
                r.pattern_id,
                r.action.value,
                None if r.old is None else msgspec.json.encode(r.old).decode(),
                None if r.new is None else msgspec.json.encode(r.new).decode(),
                r.at,
                r.by,
                r.reason,
            )
            values.append((self.project, *row, digests.row_digest("pattern_history", row)))
        with self.conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO pattern_history (project, pattern_id, action, old_value, new_value, "
                "created_at, changed_by, reason, row_digest) "
                "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
                values,
            )
        self.dirty = True

    # --- variants and examples ---------------------------------------------------------------
    def _insert_variant(self, v: Variant) -> int:
        row = (
            v.pattern_id,
            v.scope.value,
            v.scope_path,
            v.severity_override.value if v.severity_override else None,
            None if v.enabled_override is None else int(v.enabled_override),
            v.threshold_override,
            None if v.config_override is None else msgspec.json.encode(v.config_override).decode(),
            v.expires_at,
            v.created_at or self.now,
        )
        stored_row = digests.as_stored("pattern_variants", row)
        found = self._one(
            "INSERT INTO pattern_variants (project, pattern_id, scope, scope_path, "
            "severity_override, enabled_override, threshold_override, config_override, "
            "expires_at, created_at, row_digest) VALUES "
            "(%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) RETURNING id",
            (self.project, *stored_row, digests.digest(stored_row)),
        )
        return int(found[0])

    def _insert_example(self, e: Example) -> int:
        row = (
            e.pattern_id,
            e.file,
            e.code,
            e.line_start,
            e.line_end,
            int(e.is_positive),
            e.created_at or self.now,
            e.language,
        )
        stored_row = digests.as_stored("pattern_examples", row)
        found = self._one(
            "INSERT INTO pattern_examples (project, pattern_id, file, code, line_start, "
            "line_end, is_positive, created_at, language, row_digest) VALUES "
            "(%s, %s, %s, %s, %s, %s, %s, %s, %s, %s) RETURNING id",
            (self.project, *stored_row, digests.digest(stored_row)),
        )
        return int(found[0])

    def add_variant(self, variant: Variant) -> Variant:
        stored_variant = self.variant(self._insert_variant(variant))
        assert stored_variant is not None
        self.changed.add(variant.pattern_id)
        self.dirty = True
        return stored_variant

    def remove_variant(self, variant_id: int) -> Variant | None:
        found = self.variant(variant_id)
        if found is not None:
            self._q(
                "DELETE FROM pattern_variants WHERE project = %s AND id = %s",
                (self.project, variant_id),
            )
            self.changed.add(found.pattern_id)
            self.dirty = True
        return found

    def add_example(self, example: Example) -> Example:
        stored_example = self.example(self._insert_example(example))
        assert stored_example is not None
        self.changed.add(example.pattern_id)
        self.dirty = True
        return stored_example

    def remove_example(self, example_id: int) -> Example | None:
        found = self.example(example_id)
        if found is not None:
            self._q(
                "DELETE FROM pattern_examples WHERE project = %s AND id = %s",
                (self.project, example_id),
            )
            self.changed.add(found.pattern_id)
            self.dirty = True
        return found

    def replace_children(
        self, pattern_id: str, variants: Sequence[Variant], examples: Sequence[Example]
    ) -> None:
        for table in ("pattern_variants", "pattern_examples"):
            self._q(
                f"DELETE FROM {table} WHERE project = %s AND pattern_id = %s",
                (self.project, pattern_id),
            )
        for v in variants:
            self._insert_variant(v)
        for e in examples:
            self._insert_example(e)
        self.changed.add(pattern_id)
        self.dirty = True

    # --- bookkeeping ------------------------------------------------------------------------
    def put_export_state(
        self, category: str, layout: str, status: str, checksum: str, last_updated: str
    ) -> None:
        self._q(
            "INSERT INTO export_state (project, category, layout, status, checksum, last_updated) "
            "VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (project, category, layout, status) "
            "DO UPDATE SET checksum = excluded.checksum, last_updated = excluded.last_updated",
            (self.project, category, layout, status, checksum, last_updated),
        )
        self.dirty = True

    def drop_export_state(self, category: str, layout: str, status: str) -> None:
        cur = self._q(
            "DELETE FROM export_state WHERE project = %s AND category = %s AND layout = %s "
            "AND status = %s",
            (self.project, category, layout, status),
        )
        if cur.rowcount:
            self.dirty = True

    def put_meta(self, key: str, value: str | None) -> None:
        if key in RESERVED_META:
            raise ValueError(f"store_meta key {key!r} is the engine's own; choose another key")
        if value is None:
            cur = self._q(
                "DELETE FROM store_meta WHERE project = %s AND key = %s", (self.project, key)
            )
            if cur.rowcount:
                self.dirty = True
            return
        self._q(
            "INSERT INTO store_meta (project, key, value) VALUES (%s, %s, %s) "
            "ON CONFLICT (project, key) DO UPDATE SET value = excluded.value",
            (self.project, key, value),
        )
        self.dirty = True

    # --- the end -----------------------------------------------------------------------------
    def finish(self) -> int | None:
        """Before COMMIT: move the generation and list what changed (None: nothing was
        written). The notification goes out when the transaction commits."""
        reset = self.reset_log
        if not self.dirty and not reset:
            return None
        generation = int(
            self._one(
                "UPDATE driftstore_projects SET generation = generation + 1 "
                "WHERE project = %s RETURNING generation",
                (self.project,),
            )[0]
        )
        ids = sorted(self.changed)
        if reset or len(ids) > MAX_LISTED:
            self._q(
                "UPDATE driftstore_projects SET changes_reset = %s WHERE project = %s",
                (generation, self.project),
            )
            self._q("DELETE FROM pattern_changes WHERE project = %s", (self.project,))
        elif ids:
            with (
                self.conn.cursor() as cur,
                cur.copy(
                    "COPY pattern_changes (project, generation, pattern_id) FROM STDIN"
                ) as copy,
            ):
                for pid in ids:
                    copy.write_row((self.project, generation, pid))
            if generation > KEEP_GENERATIONS and generation % 100 == 0:
                self._q(
                    "DELETE FROM pattern_changes WHERE project = %s AND generation <= %s",
                    (self.project, generation - KEEP_GENERATIONS),
                )
        self._q("SELECT pg_notify(%s, %s)", (channel(self.project), str(generation)))
        return generation


def channel(project: str) -> str:
    """The LISTEN/NOTIFY channel of a project's generation (a short, safe identifier)."""
    import xxhash

    return "driftstore_" + xxhash.xxh3_64_hexdigest(project.encode())
