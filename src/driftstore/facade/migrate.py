"""Migrating a drift 0.9 `.drift/patterns/` tree into the store (formats.md §1).

Rules, where the spec leaves a choice:
- The status comes from the folder, the category from the file name.
- Sources in order of precedence: status files, then drift's unified 2.0.0 shards, then
  lake shards, which only fill in ids nothing else has. `.backups/` copies, driftstore's
  own v2 shards, symlinks and unknown files are left alone and listed as skipped.
- An id in two status folders is reported; a decision (approved/ignored) wins over
  discovered; between two decisions the file with the later `lastUpdated` wins (a tie
  goes to approved).
- Every legacy checksum is verified (ECMAScript number spelling); mismatches are reported,
  never refused. A file that cannot be read as a pattern file refuses the migration.
- Re-running: the files are authoritative for detector data, but a decision already in
  the store is never undone by a file that says discovered. Unchanged patterns are not
  touched, so a second run changes nothing (and takes no backup).
- Stored levels that disagree with their score (drift's scanner used other thresholds)
  are kept as the file says and reported.
- Each pattern's layout (how its entry looked) and each file's checksum and
  `lastUpdated` are recorded, so `export --layout v1` gives the files back as they were.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import msgspec
from msgspec import UNSET

from driftstore.engine.base import Engine, HistoryRecord, PatternWrite, Writer
from driftstore.engine.rows import as_stored
from driftstore.errors import InvalidInputError
from driftstore.facade.export import LEGACY_FILE_META
from driftstore.facade.paths import display
from driftstore.facade.results import Duplicate, LevelDisagreement, MigrateReport, Skipped
from driftstore.formats import legacy, legacy_write
from driftstore.model.digest import content_hash, snapshot
from driftstore.model.enums import CATEGORIES, HistoryAction, Status, level_for
from driftstore.model.pattern import Pattern

_REASON = "migrate"
_encode = msgspec.json.encode


@dataclass
class _Candidate:
    pattern: Pattern
    layout: dict[str, Any]
    file: legacy.LegacyFile
    stamp: str  # the file's lastUpdated, for choosing between two decisions


@dataclass
class _Change:
    pattern: Pattern
    layout: str | None
    new: bool


@dataclass
class MigrationPlan:
    report: MigrateReport
    changes: list[_Change] = field(default_factory=list)
    file_states: list[tuple[str, str, str, str]] = field(default_factory=list)
    file_layouts: dict[str, str | None] = field(default_factory=dict)


def resolve_source(source: Path) -> Path:
    """The `.drift` folder of `source` (a project folder or the `.drift` folder itself)."""
    if (source / ".drift").is_dir():
        return source / ".drift"
    if (source / "patterns").is_dir() or (source / "lake").is_dir():
        return source
    raise InvalidInputError(
        f"{source}: no drift 0.9 '.drift/patterns/' folder here; point --from at a project "
        "folder that has one"
    )


def _read_files(tree: legacy.LegacyTree, root: Path, report: MigrateReport) -> list[Any]:
    files = []
    for source in tree.files:
        name = display(source.path, root)
        try:
            data = source.path.read_bytes()
        except OSError as exc:
            raise InvalidInputError(f"{name}: cannot read it ({exc.strerror})") from None
        read = legacy.read_legacy_file(data, source, where=name)
        if not read.checksum_ok:
            report.checksum_mismatches.append(name)
        files.append(read)
    return files


def _prefer(new: _Candidate, old: _Candidate) -> bool:
    """True when `new` should replace `old` for the same id (two status folders)."""
    a, b = new.pattern.status, old.pattern.status
    if a == b:
        return False
    if Status.DISCOVERED in (a, b):
        return b == Status.DISCOVERED
    if new.stamp != old.stamp:
        return new.stamp > old.stamp
    return a == Status.APPROVED


def _collect(files: list[legacy.LegacyFile], report: MigrateReport) -> dict[str, _Candidate]:
    chosen: dict[str, _Candidate] = {}
    statuses: dict[str, list[str]] = {}
    rank = {"status": 0, "unified": 1, "lake": 2}
    for read in sorted(files, key=lambda f: rank[f.source.kind]):
        kind = read.source.kind
        for pos, (entry, es_entry) in enumerate(zip(read.entries, read.es_entries, strict=True)):
            pid = entry.get("id")
            if kind != "status" and isinstance(pid, str) and pid in chosen:
                continue  # a lower-precedence copy of a pattern already found
            where = f"{read.where}: patterns[{pos}]"
            p, layout = legacy.legacy_entry(entry, read.source, where=where, pos=pos)
            candidate = _Candidate(p, layout, read, read.last_updated or "")
            if kind != "lake":
                original = {k: v for k, v in es_entry.items() if k in layout["keys"]}
                patch = legacy_write.patch_for(
                    legacy_write.render_entry(as_stored(p), layout), original
                )
                if patch:
                    layout["patch"] = patch
            elif p.id not in chosen:
                report.lake_only += 1
            statuses.setdefault(p.id, []).append(p.status.value)
            if p.id not in chosen or _prefer(candidate, chosen[p.id]):
                chosen[p.id] = candidate
    for pid, seen in statuses.items():
        if len(seen) > 1:
            report.duplicates.append(Duplicate(pid, seen, chosen[pid].pattern.status.value))
    return chosen


def _level_check(p: Pattern, report: MigrateReport) -> None:
    level = p.confidence.level
    if level is UNSET:
        return
    expected = level_for(p.confidence.score)
    if level != expected:
        report.level_disagreements.append(
            LevelDisagreement(p.id, level.value, p.confidence.score, expected.value)
        )


def plan_migration(engine: Engine | None, source: Path, *, dry_run: bool) -> MigrationPlan:
    """Read and check every file, and work out what would change; writes nothing."""
    drift_dir = resolve_source(source.resolve())
    root = drift_dir.parent
    report = MigrateReport(dry_run=dry_run, source=str(drift_dir))
    tree = legacy.discover(drift_dir)
    report.skipped = [Skipped(display(path, root), reason) for path, reason in tree.skipped]
    if not tree.files:
        raise InvalidInputError(
            f"{drift_dir}: no drift 0.9 pattern files (patterns/{{status}}/{{category}}.json, "
            "patterns/{category}.json or lake/patterns/{category}.json); nothing to migrate"
        )
    files = _read_files(tree, root, report)
    report.files = len(files)
    chosen = _collect(files, report)
    plan = MigrationPlan(report)
    by_status = dict.fromkeys((s.value for s in Status), 0)
    by_category: dict[str, int] = {}
    states: dict[str, tuple[Any, ...]] = {}
    known_layouts: dict[str, str] = {}
    known_files: dict[tuple[str, str], tuple[str, str]] = {}
    if engine is not None:  # None: a preview for a project that has no store yet
        with engine.read() as r:
            states = {pid: tuple(state) for pid, state in r.pattern_states().items()}
            known_layouts = r.meta(LEGACY_FILE_META)
            known_files = {
                key: value for key, value in r.export_states("v1").items() if key[0] in CATEGORIES
            }
    for pid in sorted(chosen):
        candidate = chosen[pid]
        p = candidate.pattern
        _level_check(p, report)
        layout_text = _encode(candidate.layout).decode()
        state = states.get(pid)
        if state is not None and state[0] != Status.DISCOVERED.value:
            # a decision already in the store is never undone by a file
            p.status = Status(state[0])
            p.metadata.approved_at = UNSET if state[2] is None else state[2]
            p.metadata.approved_by = UNSET if state[3] is None else state[3]
        by_status[p.status.value] += 1
        by_category[p.category] = by_category.get(p.category, 0) + 1
        m = p.metadata
        wanted = (
            p.status.value,
            content_hash(p),
            None if m.approved_at is UNSET else m.approved_at,
            None if m.approved_by is UNSET else m.approved_by,
            None if m.first_seen is UNSET else m.first_seen,
            None if m.last_seen is UNSET else m.last_seen,
            layout_text,
        )
        if state is None:
            plan.changes.append(_Change(p, layout_text, new=True))
            report.imported += 1
        elif tuple(state) != wanted:
            plan.changes.append(_Change(p, layout_text, new=False))
            report.updated += 1
        else:
            report.unchanged += 1
    report.by_status = by_status
    report.by_category = dict(sorted(by_category.items()))
    for read in files:
        src = read.source
        if src.kind != "status" or src.status is None:
            continue
        key = f"{src.status}/{src.category}"
        layout = None if read.file_layout is None else _encode(read.file_layout).decode()
        if known_layouts.get(key) != layout:
            plan.file_layouts[key] = layout
        if read.last_updated is not None:
            state_key = (src.category, src.status)
            wanted_state = (read.computed, read.last_updated)
            if known_files.get(state_key) != wanted_state:
                plan.file_states.append((src.category, src.status, *wanted_state))
    return plan


def apply_migration(engine: Engine, plan: MigrationPlan) -> None:
    """Write the plan in one transaction: all of it, or nothing."""
    try:
        with engine.write() as w:
            if w.count() == 0 and len(plan.changes) > 1000:
                w.bulk_load()
            for start in range(0, len(plan.changes), _BATCH):
                _apply_batch(w, plan.changes[start : start + _BATCH])
            for key, layout in plan.file_layouts.items():
                w.put_meta(LEGACY_FILE_META + key, layout)
            for category, status, checksum, stamp in plan.file_states:
                w.put_export_state(category, "v1", status, checksum, stamp)
    except OverflowError as exc:
        raise InvalidInputError(
            f"a number in the drift files is too large to store ({exc}); nothing was migrated"
        ) from None


#: patterns handed to the engine at once
_BATCH = 256


def _apply_batch(w: Writer, changes: list[_Change]) -> None:
    now = w.now
    known = [c.pattern.id for c in changes if not c.new]
    stored = {p.id: p for p in w.patterns(known)} if known else {}
    writes: list[PatternWrite] = []
    history: list[HistoryRecord] = []
    for change in changes:
        p = change.pattern
        digest = content_hash(p)
        if change.new:
            writes.append(PatternWrite(p, digest, now, created_at=now, layout=change.layout))
            history.append(
                HistoryRecord(p.id, HistoryAction.CREATED, None, snapshot(p), now, None, _REASON)
            )
            continue
        old = stored[p.id]
        moved = old.locations != p.locations or old.outliers != p.outliers
        writes.append(PatternWrite(p, digest, now, layout=change.layout, locations=moved))
        action = HistoryAction.UPDATED
        if p.status != old.status and p.status != Status.DISCOVERED:
            action = HistoryAction(p.status.value)
        history.append(HistoryRecord(p.id, action, snapshot(old), snapshot(p), now, None, _REASON))
    w.put_patterns(writes)
    w.record_history(history)


def migrate(
    engine: Engine,
    source: Path,
    *,
    dry_run: bool = False,
    backup: Callable[[str], str] | None = None,
) -> MigrateReport:
    """Plan, back up (only when something will change), apply."""
    plan = plan_migration(engine, source, dry_run=dry_run)
    if dry_run:
        return plan.report
    if plan.changes and backup is not None:
        plan.report.backup = backup("before migrate")
    if plan.changes or plan.file_layouts or plan.file_states:
        apply_migration(engine, plan)
    return plan.report
