"""Merging a scan into the store (the merge rules of interface.md).

- new id: inserted as discovered (history: created);
- known id with changed evidence: detector data replaced, user decisions kept (status,
  approval, first_seen, variants, examples) (history: updated);
- known id with the same evidence: unchanged; a moved last_seen is stored quietly;
- known id absent from the scan: kept, unless prune, which deletes discovered ones only.

The whole scan is one transaction: a bad entry anywhere stores nothing.

Entries read from a scan file come undecoded (`formats.scan.ScanEntry`): one whose echo
(its bytes but `lastSeen`, `formats.echo`) matches the echo stored beside a pattern whose
content is still what that echo decoded to is the same entry again, so it is counted
unchanged and only its lastSeen is taken, without decoding it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import msgspec
from msgspec import UNSET

from driftstore.engine.base import Engine, HistoryRecord, PatternWrite, Writer
from driftstore.errors import InvalidInputError, Remedy
from driftstore.facade.recognise import Recogniser
from driftstore.facade.results import IngestPreview, IngestReport
from driftstore.formats.echo import Echo, stored_echo
from driftstore.formats.scan import ScanEntry
from driftstore.model.digest import fingerprints, snapshot
from driftstore.model.enums import HistoryAction, Status
from driftstore.model.pattern import Pattern

#: patterns (and locations) gathered before one batch goes to the engine: a server
#: database pays a round trip per batch, and a batch bounds what is held in memory
BATCH_PATTERNS = 256
BATCH_LOCATIONS = 50_000


def _keep_user_data(incoming: Pattern, stored: Pattern) -> None:
    """Status, approval and first_seen belong to the store, not to the scanner."""
    incoming.status = stored.status
    meta, old = incoming.metadata, stored.metadata
    meta.approved_at = old.approved_at
    meta.approved_by = old.approved_by
    if old.first_seen is not UNSET:
        meta.first_seen = old.first_seen


class _Batch:
    """Patterns of a scan on their way to the engine: new ones as they are, changed ones
    with the stored pattern read back (in one call per batch) so the user's decisions stay."""

    def __init__(self, w: Writer, report: IngestReport) -> None:
        self.w = w
        self.report = report
        self.new: list[tuple[Pattern, str, str, str | None]] = []
        self.changed: list[tuple[Pattern, str, str, str | None]] = []
        self.locations = 0

    def add(
        self, p: Pattern, digest: str, locations_hash: str, *, new: bool, echo: str | None
    ) -> None:
        (self.new if new else self.changed).append((p, digest, locations_hash, echo))
        self.locations += len(p.locations) + len(p.outliers)
        if len(self.new) + len(self.changed) >= BATCH_PATTERNS or self.locations >= BATCH_LOCATIONS:
            self.flush()

    def flush(self) -> None:
        w, now = self.w, self.w.now
        writes: list[PatternWrite] = []
        history: list[HistoryRecord] = []
        for p, digest, locations_hash, echo in self.new:
            writes.append(
                PatternWrite(
                    p, digest, now, created_at=now, echo=echo, locations_hash=locations_hash
                )
            )
            history.append(
                HistoryRecord(
                    p.id,
                    HistoryAction.CREATED,
                    None,
                    snapshot(p, locations_hash=locations_hash),
                    now,
                )
            )
        if self.changed:
            ids = [p.id for p, _d, _h, _e in self.changed]
            # a pattern whose rows carry their summary is read without them
            summaries = w.location_summaries(ids)
            stored = {
                s.id: s
                for s in w.patterns([i for i in ids if i in summaries], with_locations=False)
            }
            unknown = [i for i in ids if i not in summaries]
            stored.update((s.id, s) for s in (w.patterns(unknown) if unknown else []))
            for p, digest, locations_hash, echo in self.changed:
                old = stored[p.id]
                _keep_user_data(p, old)
                summary = summaries.get(p.id)
                if summary is None:
                    moved = p.locations != old.locations or p.outliers != old.outliers
                    before = snapshot(old)
                else:
                    moved = summary.hash != locations_hash
                    before = snapshot(
                        old,
                        locations_hash=summary.hash,
                        counts=(summary.locations, summary.outliers),
                    )
                writes.append(
                    PatternWrite(
                        p, digest, now, locations=moved, echo=echo, locations_hash=locations_hash
                    )
                )
                history.append(
                    HistoryRecord(
                        p.id,
                        HistoryAction.UPDATED,
                        before,
                        snapshot(p, locations_hash=locations_hash),
                        now,
                    )
                )
        w.put_patterns(writes)
        w.record_history(history)
        self.new.clear()
        self.changed.clear()
        self.locations = 0


def _recorded_echo(echo: Echo | None, given_last_seen: object, digest: str) -> str | None:
    """What to store as the echo of a decoded entry: only when its one `lastSeen` key is
    the metadata's (so a later entry with the same echo carries its lastSeen there)."""
    if echo is None:
        return None
    given = None if given_last_seen is UNSET else given_last_seen
    return stored_echo(echo, digest) if echo.last_seen == given else None


def merge_scan(
    engine: Engine,
    entries: Iterable[Pattern | ScanEntry],
    *,
    prune: bool = False,
    on_progress: Callable[[int], None] | None = None,
    before_prune: Callable[[], str] | None = None,
    force: bool = False,
) -> IngestReport:
    """`before_prune` is called (and its backup id reported) only once the whole scan has
    been read and validated and prune has something to delete. It runs inside the write
    transaction, so a snapshot taken there (from a connection of its own) holds the state
    before this ingest."""
    report = IngestReport()
    with engine.write() as w:
        now = w.now
        states = w.scan_states()
        if not states and w.count() == 0:
            w.bulk_load()  # an empty store: the engine may build its indexes once, at the end
        batch = _Batch(w, report)
        seen: set[str] = set()
        touched: list[tuple[str, str]] = []
        recogniser = Recogniser(states)
        new_echoes: list[tuple[str, str]] = []
        for item in entries:
            echo: Echo | None = None
            if isinstance(item, ScanEntry):
                known, echo = recogniser.recognise(item)
                if echo is not None and known is not None and known not in seen:
                    seen.add(known)
                    stamp = now if echo.last_seen is None else echo.last_seen
                    if states[known].last_seen != stamp:
                        touched.append((known, stamp))
                    report.unchanged += 1
                    if on_progress is not None:
                        on_progress(len(seen))
                    continue
                p = item.decode()
            else:
                p = item
            if p.id in seen:
                raise InvalidInputError(
                    f"scan: pattern id {p.id!r} appears twice; each pattern may appear once per scan"
                )
            seen.add(p.id)
            p.status = Status.DISCOVERED  # a scan cannot approve
            meta = p.metadata
            given_last_seen = meta.last_seen
            if meta.last_seen is UNSET:
                meta.last_seen = now
            digest, locations_hash = fingerprints(p)
            recorded = _recorded_echo(echo, given_last_seen, digest)
            state = states.get(p.id)
            if state is None:
                meta.approved_at = UNSET
                meta.approved_by = UNSET
                if meta.first_seen is UNSET:
                    meta.first_seen = meta.last_seen
                batch.add(p, digest, locations_hash, new=True, echo=recorded)
                report.added += 1
            elif state.content_hash == digest:
                if state.last_seen != meta.last_seen:
                    touched.append((p.id, str(meta.last_seen)))
                if recorded is not None and recorded != state.echo:
                    new_echoes.append((p.id, recorded))
                report.unchanged += 1
            else:
                batch.add(p, digest, locations_hash, new=False, echo=recorded)
                report.updated += 1
            if on_progress is not None:
                on_progress(len(seen))
        batch.flush()
        w.touch_last_seen(touched)
        w.remember_echoes(new_echoes)
        doomed = [
            pid
            for pid, state in states.items()
            if prune and pid not in seen and state.status == Status.DISCOVERED.value
        ]
        discovered = sum(1 for state in states.values() if state.status == Status.DISCOVERED.value)
        if doomed and len(doomed) * 2 > discovered and not force:
            raise InvalidInputError(
                f"this scan would delete {len(doomed)} of the {discovered} discovered patterns "
                "(more than half): an empty or cut-off scan looks like this; nothing was "
                "written — check the scan, or force the prune",
                remedy=Remedy.FORCE_PRUNE,
            )
        if doomed and before_prune is not None:
            report.backup = before_prune()
        removed: list[HistoryRecord] = []
        for start in range(0, len(doomed), BATCH_PATTERNS):
            chunk = doomed[start : start + BATCH_PATTERNS]
            for stored in w.patterns(chunk):
                removed.append(
                    HistoryRecord(
                        stored.id,
                        HistoryAction.DELETED,
                        snapshot(stored),
                        None,
                        now,
                        reason="not seen by the scan (--prune)",
                    )
                )
            w.delete_patterns(chunk)
        w.record_history(removed)
        report.removed = len(doomed)
    return report


def preview_scan(
    engine: Engine, entries: Iterable[Pattern | ScanEntry], *, prune: bool = False
) -> IngestPreview:
    """What `merge_scan` would do, as counts and a diff, without writing anything."""
    from driftstore.engine.rows import as_stored
    from driftstore.facade.results import DiffReport, PatternBrief, PatternChange
    from driftstore.facade.timeline import brief, change_between

    counts = IngestReport()
    added: list[PatternBrief] = []
    removed: list[PatternBrief] = []
    changed: list[PatternChange] = []
    with engine.read() as r:
        states = r.scan_states()
        recogniser = Recogniser(states)
        seen: set[str] = set()
        pending: list[Pattern] = []

        def compare() -> None:
            stored = {s.id: s for s in r.patterns([p.id for p in pending])}
            for p in pending:
                old = stored[p.id]
                _keep_user_data(p, old)
                found = change_between(p.id, snapshot(old), snapshot(as_stored(p)))
                if found is not None:
                    changed.append(found)
            pending.clear()

        for item in entries:
            if isinstance(item, ScanEntry):
                known, _echo = recogniser.recognise(item)
                if known is not None and known not in seen:
                    seen.add(known)
                    counts.unchanged += 1
                    continue
                p = item.decode()
            else:
                p = item
            if p.id in seen:
                raise InvalidInputError(
                    f"scan: pattern id {p.id!r} appears twice; each pattern may appear once per scan"
                )
            seen.add(p.id)
            p.status = Status.DISCOVERED
            state = states.get(p.id)
            digest, _locations = fingerprints(p)
            if state is None:
                counts.added += 1
                added.append(brief(p.id, snapshot(p)))
            elif state.content_hash == digest:
                counts.unchanged += 1
            else:
                counts.updated += 1
                pending.append(p)
                if len(pending) >= BATCH_PATTERNS:
                    compare()
        compare()
        if prune:
            doomed = sorted(
                pid
                for pid, state in states.items()
                if pid not in seen and state.status == Status.DISCOVERED.value
            )
            for start in range(0, len(doomed), BATCH_PATTERNS):
                for stored in r.patterns(
                    doomed[start : start + BATCH_PATTERNS], with_locations=False
                ):
                    removed.append(brief(stored.id, snapshot(stored)))
            counts.removed = len(doomed)
    changes = DiffReport(
        since=None,
        until=None,
        added=added,
        removed=removed,
        status_moves=[],
        changed=changed,
        by_category={},
    )
    return IngestPreview(**msgspec.structs.asdict(counts), changes=changes)
