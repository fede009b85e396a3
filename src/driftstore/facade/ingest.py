"""Merging a scan into the store (the merge rules of interface.md).

- new id: inserted as discovered (history: created);
- known id with changed evidence: detector data replaced, user decisions kept (status,
  approval, first_seen, variants, examples) (history: updated);
- known id with the same evidence: unchanged; a moved last_seen is stored quietly;
- known id absent from the scan: kept, unless prune, which deletes discovered ones only.

The whole scan is one transaction: a bad entry anywhere stores nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import msgspec
from msgspec import UNSET

from driftstore.engine import history, patterns
from driftstore.engine.connection import Database
from driftstore.errors import InvalidInputError
from driftstore.model.clock import now_iso
from driftstore.model.digest import fingerprints, snapshot
from driftstore.model.enums import HistoryAction, Status
from driftstore.model.pattern import Pattern


class IngestReport(msgspec.Struct, rename="camel", kw_only=True):
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    removed: int = 0
    backup: str | None = None
    #: ids added, updated or removed (what an in-memory index must refresh)
    changed_ids: list[str] = []


def _keep_user_data(incoming: Pattern, stored: Pattern) -> None:
    """Status, approval and first_seen belong to the store, not to the scanner."""
    incoming.status = stored.status
    meta, old = incoming.metadata, stored.metadata
    meta.approved_at = old.approved_at
    meta.approved_by = old.approved_by
    if old.first_seen is not UNSET:
        meta.first_seen = old.first_seen


def merge_scan(
    db: Database,
    entries: Iterable[Pattern],
    *,
    prune: bool = False,
    on_progress: Callable[[int], None] | None = None,
    before_prune: Callable[[], str] | None = None,
) -> IngestReport:
    """`before_prune` is called (and its backup id reported) only once the whole scan has
    been read and validated and prune has something to delete. It runs inside the write
    transaction, so a snapshot taken there (from a connection of its own, WAL) holds the
    state before this ingest."""
    report = IngestReport()
    now = now_iso()
    with db.transaction() as cur:
        states = patterns.scan_states(cur)
        bulk = not states and patterns.count_patterns(cur) == 0
        # an empty store: indexes are built once at the end (DDL is transactional, so a
        # failed or killed ingest rolls them back too) and locations go in many per INSERT
        pattern_indexes: list[str] = []
        bulk_rows: patterns.BulkLocations | None = None
        if bulk:
            patterns.drop_location_indexes(cur)
            pattern_indexes = patterns.drop_pattern_indexes(cur)
            bulk_rows = patterns.BulkLocations(cur)
        seen: set[str] = set()
        touched: list[tuple[str, str]] = []
        history_rows = []
        for p in entries:
            if p.id in seen:
                raise InvalidInputError(
                    f"scan: pattern id {p.id!r} appears twice; each pattern may appear once per scan"
                )
            seen.add(p.id)
            p.status = Status.DISCOVERED  # a scan cannot approve
            meta = p.metadata
            if meta.last_seen is UNSET:
                meta.last_seen = now
            digest, locations_hash = fingerprints(p)
            state = states.get(p.id)
            if state is None:
                meta.approved_at = UNSET
                meta.approved_by = UNSET
                if meta.first_seen is UNSET:
                    meta.first_seen = meta.last_seen
                patterns.insert_pattern(
                    cur, p, content_hash=digest, created_at=now, updated_at=now, bulk=bulk_rows
                )
                history_rows.append(
                    history.history_row(
                        p.id,
                        HistoryAction.CREATED,
                        None,
                        snapshot(p, locations_hash=locations_hash),
                        at=now,
                    )
                )
                report.added += 1
                report.changed_ids.append(p.id)
            elif state[1] == digest:
                if state[2] != meta.last_seen:
                    touched.append((str(meta.last_seen), p.id))
                report.unchanged += 1
            else:
                stored = patterns.load_pattern(cur, p.id, with_locations=True)
                assert stored is not None
                _keep_user_data(p, stored)
                created = patterns.created_at(cur, p.id)
                patterns.replace_pattern_row(
                    cur, p, content_hash=digest, created_at=created, updated_at=now
                )
                patterns.delete_locations(cur, p.id)
                patterns.insert_locations(cur, p)
                history_rows.append(
                    history.history_row(
                        p.id,
                        HistoryAction.UPDATED,
                        snapshot(stored),
                        snapshot(p, locations_hash=locations_hash),
                        at=now,
                    )
                )
                report.updated += 1
                report.changed_ids.append(p.id)
            if on_progress is not None:
                on_progress(len(seen))
        if bulk_rows is not None:
            bulk_rows.flush()
        if touched:
            patterns.touch_last_seen(cur, touched)  # keeps each row's digest right
        doomed = [
            pid
            for pid, (status, _h, _ls) in states.items()
            if prune and pid not in seen and status == Status.DISCOVERED.value
        ]
        if doomed and before_prune is not None:
            report.backup = before_prune()
        for pid in doomed:
            stored = patterns.load_pattern(cur, pid, with_locations=True)
            assert stored is not None
            patterns.delete_pattern(cur, pid)
            history_rows.append(
                history.history_row(
                    pid,
                    HistoryAction.DELETED,
                    snapshot(stored),
                    None,
                    at=now,
                    reason="not seen by the scan (--prune)",
                )
            )
            report.removed += 1
            report.changed_ids.append(pid)
        cur.executemany(history.INSERT_HISTORY, history_rows)
        if bulk:
            patterns.create_location_indexes(cur)
            patterns.create_indexes(cur, pattern_indexes)
        if bulk or (report.added + report.removed) * 10 > len(states):
            patterns.refresh_planner_stats(cur)
    return report
