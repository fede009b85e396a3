"""Time travel from the history table: the store as it was at a moment, and what changed
between two moments.

Every change writes a history row in its own transaction, so replaying a pattern's rows up
to a moment gives its state then: full snapshots (creation, scans, imports, updates), status
moves (approve, ignore), and variant and example changes. Snapshots keep every field of a
pattern but summarise its location lists by count and hash (`model.digest.snapshot`), so a
past state knows how many locations and outliers a pattern had, not where. Where the lines
are needed (`get`, `describe`), they are recovered when the pattern's locations are the same
now (same hash) or when a backup taken at or before the moment holds them (same hash);
otherwise the pattern comes back without locations and `locationsKnown` says so.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any, NamedTuple

import msgspec

from driftstore.engine import locate
from driftstore.engine.base import Engine, HistoryRow
from driftstore.errors import InvalidInputError
from driftstore.facade import health
from driftstore.facade.backup_work import work_folder
from driftstore.facade.backups import list_backups
from driftstore.facade.results import (
    CategoryDiff,
    DiffReport,
    PatternBrief,
    PatternChange,
    PatternDetail,
    StatusMove,
    StatusReport,
    VariantView,
)
from driftstore.formats.backups import SNAPSHOT, archive_name, read_archive
from driftstore.formats.entries import entry_from_builtins
from driftstore.model.clock import format_iso, parse_iso
from driftstore.model.digest import fingerprints
from driftstore.model.effective import is_active
from driftstore.model.enums import ConfidenceLevel, HistoryAction, Status, level_for
from driftstore.model.pattern import Pattern
from driftstore.model.query import PatternFilter, PatternSummary, QueryResult, Sort, SortField
from driftstore.model.records import Example, HistoryEntry, Variant

_SUMMARY_KEYS = ("locationCount", "outlierCount", "locationsHash")


class _State(NamedTuple):
    """One pattern as of a moment, decoded only when asked: the JSON of its last full
    snapshot (a v2 entry without locations, plus the count/hash summary), the status moves
    after it, and its variants and examples by id. Replaced, never changed in place, so a
    state captured at one moment stays as it was."""

    raw: str | dict[str, Any]
    patches: tuple[dict[str, Any], ...] = ()
    variants: dict[int, dict[str, Any]] = {}  # noqa: RUF012  (never mutated)
    examples: dict[int, dict[str, Any]] = {}  # noqa: RUF012  (never mutated)

    @property
    def snapshot(self) -> dict[str, Any]:
        base = _decode(self.raw) if isinstance(self.raw, str) else self.raw
        if not self.patches:
            return base
        snapshot = dict(base)
        meta = dict(snapshot.get("metadata") or {})
        for patch in self.patches:
            if "status" in patch:
                snapshot["status"] = patch["status"]
            for key in ("approvedAt", "approvedBy"):
                if patch.get(key) is not None:
                    meta[key] = patch[key]
        snapshot["metadata"] = meta
        return snapshot


_decode_json = msgspec.json.Decoder()


def _decode(text: str) -> dict[str, Any]:
    value = _decode_json.decode(text)
    return value if isinstance(value, dict) else {}


def resolve_moment(value: str, backups_dir_root: Path) -> str:
    """An ISO-8601 time, or a backup id (its creation time), as a normalised time."""
    try:
        return format_iso(parse_iso(value))
    except ValueError:
        pass
    for info in list_backups(backups_dir_root):
        if info.id == value:
            return info.created_at
    raise InvalidInputError(
        f"{value!r} is neither an ISO-8601 time (e.g. 2026-05-01T12:00:00Z) nor a backup id; "
        "see the backups with 'driftstore backup list'"
    )


def _inclusive(moment: str) -> str:
    """History's `until` is exclusive; a moment includes what happened in its millisecond."""
    return format_iso(parse_iso(moment) + timedelta(milliseconds=1))


def _kind(text: str | None) -> str:
    """What a history value holds, from the key driftstore writes first (decoded only when
    it is not one driftstore wrote)."""
    if text is None:
        return ""
    for key in ("id", "status", "variant", "example"):
        if text.startswith('{"' + key + '"'):
            return key
    value = _decode(text)
    return next((k for k in ("id", "variant", "example", "status") if k in value), "")


def _apply(states: dict[str, _State], row: HistoryRow) -> None:
    pid = row.pattern_id
    if row.action == HistoryAction.DELETED.value:
        states.pop(pid, None)
        return
    new = _kind(row.new)
    current = states.get(pid)
    if new == "id":  # a full snapshot (most rows): nothing else to look at
        states[pid] = _State(
            row.new or "",
            (),
            current.variants if current else {},
            current.examples if current else {},
        )
        return
    old = _kind(row.old)
    if "variant" in (new, old) or "example" in (new, old):
        if current is None:
            return
        key = "variant" if "variant" in (new, old) else "example"
        held = dict(current.variants if key == "variant" else current.examples)
        if new == key and row.new is not None:
            item = _decode(row.new)[key]
            held[int(item.get("id") or 0)] = item
        elif old == key and row.old is not None:
            held.pop(int(_decode(row.old)[key].get("id") or 0), None)
        states[pid] = (
            current._replace(variants=held) if key == "variant" else current._replace(examples=held)
        )
        return
    if new == "status" and current is not None and row.new is not None:  # a status move
        states[pid] = current._replace(patches=(*current.patches, _decode(row.new)))


def replay(rows: Iterable[HistoryRow]) -> dict[str, _State]:
    states: dict[str, _State] = {}
    for row in rows:
        _apply(states, row)
    return states


def _entry_of(row: HistoryRow) -> HistoryEntry:
    return HistoryEntry(
        id=row.id,
        pattern_id=row.pattern_id,
        action=HistoryAction(row.action),
        old=None if row.old is None else _decode(row.old),
        new=None if row.new is None else _decode(row.new),
        at=row.at,
        by=row.by,
        reason=row.reason,
    )


def _pattern(snapshot: dict[str, Any]) -> Pattern:
    entry = {k: v for k, v in snapshot.items() if k not in _SUMMARY_KEYS}
    entry.pop("locations", None)
    entry.pop("outliers", None)
    return entry_from_builtins(entry, where=f"history of {snapshot.get('id')!r}")


def _score(snapshot: dict[str, Any]) -> float:
    confidence = snapshot.get("confidence")
    score = confidence.get("score") if isinstance(confidence, dict) else confidence
    return float(score) if isinstance(score, int | float) else 0.0


def _level(snapshot: dict[str, Any]) -> str:
    level = snapshot.get("confidenceLevel")
    return level if isinstance(level, str) else level_for(_score(snapshot)).value


def _count(snapshot: dict[str, Any], key: str) -> int:
    value = snapshot.get(key)
    return value if isinstance(value, int) else 0


class StoreAsOf:
    """The store as it was at `moment` (read-only): the same read methods as PatternStore,
    answered from history (see the module doc for what locations can come back)."""

    def __init__(self, engine: Engine, drift_dir: Path, moment: str) -> None:
        self.engine = engine
        self.drift_dir = drift_dir
        self.moment = moment
        self._all: tuple[list[HistoryRow], dict[str, _State]] | None = None
        self._recovered: dict[tuple[str, str], Pattern | None] = {}

    @property
    def _rows(self) -> list[HistoryRow]:
        return self._replayed()[0]

    @property
    def _states(self) -> dict[str, _State]:
        return self._replayed()[1]

    def _replayed(self) -> tuple[list[HistoryRow], dict[str, _State]]:
        """Every row up to the moment, replayed (store-wide questions only)."""
        if self._all is None:
            with self.engine.read() as r:
                rows = r.history_rows(until=_inclusive(self.moment))
            self._all = (rows, replay(rows))
        return self._all

    def _one(self, pattern_id: str) -> tuple[list[HistoryRow], _State | None]:
        """One pattern's rows up to the moment, replayed (what `get` and `describe` need)."""
        if self._all is not None:
            rows = [r for r in self._all[0] if r.pattern_id == pattern_id]
            return rows, self._all[1].get(pattern_id)
        with self.engine.read() as r:
            rows = r.history_rows(pattern_id, until=_inclusive(self.moment))
        return rows, replay(rows).get(pattern_id)

    # --- many ---------------------------------------------------------------------------
    def ids(self) -> list[str]:
        return sorted(self._states)

    def status(self) -> StatusReport:
        from driftstore.engine.base import StatsRow

        groups: dict[tuple[str, str, str], list[float]] = {}
        for state in self._states.values():
            s = state.snapshot
            key = (str(s.get("status")), str(s.get("category")), _level(s))
            g = groups.setdefault(key, [0, 0, 0, 0.0])
            g[0] += 1
            g[1] += _count(s, "locationCount")
            g[2] += _count(s, "outlierCount")
            g[3] += _score(s)
        rows = [
            StatsRow(k[0], k[1], k[2], int(v[0]), int(v[1]), int(v[2]), float(v[3]))
            for k, v in groups.items()
        ]
        return health.status_report(rows, generation=-1)

    def summaries(self) -> list[PatternSummary]:
        out = []
        for pid in sorted(self._states):
            s = self._states[pid].snapshot
            found = s.get("metadata")
            meta: dict[str, Any] = found if isinstance(found, dict) else {}
            listed = meta.get("tags")
            tags: list[Any] = listed if isinstance(listed, list) else []
            out.append(
                PatternSummary(
                    id=pid,
                    name=str(s.get("name", "")),
                    category=str(s.get("category", "")),
                    subcategory=str(s.get("subcategory", "")),
                    status=Status(s.get("status", "discovered")),
                    confidence=_score(s),
                    confidence_level=_level(s),
                    severity=s.get("severity", "info"),
                    location_count=_count(s, "locationCount"),
                    outlier_count=_count(s, "outlierCount"),
                    description=str(s.get("description") or ""),
                    tags=[t for t in tags if isinstance(t, str)],
                    first_seen=meta.get("firstSeen"),
                    last_seen=meta.get("lastSeen"),
                )
            )
        return out

    def query(
        self,
        filter: PatternFilter | None = None,
        sort: Sort | None = None,
        offset: int = 0,
        limit: int | None = None,
    ) -> QueryResult:
        """Listing as of the moment (file filters need locations: refused)."""
        f = filter or PatternFilter()
        if f.files is not None:
            raise InvalidInputError("a file filter needs locations, which history does not keep")
        found = [s for s in self.summaries() if _matches(s, f)]
        order = sort or Sort()
        found.sort(key=lambda s: (_sort_value(s, order.field), s.id), reverse=order.descending)
        total = len(found)
        page = found[offset:] if limit is None else found[offset : offset + limit]
        return QueryResult(
            patterns=page, total=total, has_more=limit is not None and offset + limit < total
        )

    def history(self, pattern_id: str | None = None) -> list[HistoryEntry]:
        """History up to the moment, newest first."""
        rows = self._rows if pattern_id is None else self._one(pattern_id)[0]
        return [_entry_of(row) for row in reversed(rows)]

    # --- one ----------------------------------------------------------------------------
    def exists(self, pattern_id: str) -> bool:
        return self._one(pattern_id)[1] is not None

    def get(self, pattern_id: str) -> Pattern | None:
        """The pattern as it was, with its locations when they can be recovered."""
        state = self._one(pattern_id)[1]
        if state is None:
            return None
        p = _pattern(state.snapshot)
        recovered = self._locations(pattern_id, state.snapshot.get("locationsHash"))
        if recovered is not None:
            p.locations, p.outliers = recovered.locations, recovered.outliers
        return p

    def locations_known(self, pattern_id: str) -> bool:
        state = self._one(pattern_id)[1]
        return state is not None and (
            (
                _count(state.snapshot, "locationCount") == 0
                and _count(state.snapshot, "outlierCount") == 0
            )
            or self._locations(pattern_id, state.snapshot.get("locationsHash")) is not None
        )

    def describe(self, pattern_id: str) -> PatternDetail:
        from driftstore.errors import PatternNotFoundError

        rows, state = self._one(pattern_id)
        p = self.get(pattern_id)
        if state is None or p is None:
            raise PatternNotFoundError(pattern_id)
        fields = {
            name: getattr(p, name)
            for name in p.__struct_fields__  # every field of the pattern as it was
        }
        fields["detection_method"] = p.method
        fields["confidence_level"] = ConfidenceLevel(_level(state.snapshot))
        moment = parse_iso(self.moment)
        variants = [Variant(**_snake(v)) for v in state.variants.values() if isinstance(v, dict)]
        return PatternDetail(
            **fields,
            variants=[
                VariantView(**_struct_fields(v), expired=not is_active(v, moment)) for v in variants
            ],
            examples=[Example(**_snake(e), code="") for e in state.examples.values()],
            history=[_entry_of(row) for row in reversed(rows)],
            locations_known=self.locations_known(pattern_id),
        )

    # --- locations ----------------------------------------------------------------------
    def _locations(self, pattern_id: str, wanted: Any) -> Pattern | None:
        if not isinstance(wanted, str):
            return None
        key = (pattern_id, wanted)
        if key not in self._recovered:
            self._recovered[key] = self._recover(pattern_id, wanted)
        return self._recovered[key]

    def _recover(self, pattern_id: str, wanted: str) -> Pattern | None:
        with self.engine.read() as r:
            now = r.pattern(pattern_id)
        if now is not None and fingerprints(now)[1] == wanted:
            return now
        for info in list_backups(self.drift_dir):
            if info.created_at > self.moment:
                continue
            with _opened_backup(self.drift_dir, info.id) as old:
                with old.read() as r:
                    then = r.pattern(pattern_id)
                if then is not None and fingerprints(then)[1] == wanted:
                    return then
        return None


@contextmanager
def _opened_backup(drift_dir: Path, backup_id: str) -> Iterator[Engine]:
    """A backup's snapshot, extracted to a private folder and opened read-only."""
    folder = drift_dir / "backups"
    with work_folder(folder) as work:
        free = shutil.disk_usage(work).free
        read_archive(folder / archive_name(backup_id), work, room_bytes=free, sync=False)
        (work / SNAPSHOT).rename(work / "drift.db")
        engine = locate(work).open(create=False, on_migration=None)
        try:
            yield engine
        finally:
            engine.close()


def _snake(data: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for key, value in data.items():
        name = "".join("_" + c.lower() if c.isupper() else c for c in key)
        out[name] = value
    out.pop("code", None)
    return out


def _struct_fields(v: Variant) -> dict[str, Any]:
    return {name: getattr(v, name) for name in v.__struct_fields__}


def _matches(s: PatternSummary, f: PatternFilter) -> bool:
    checks: list[bool] = []
    if f.ids is not None:
        checks.append(s.id in f.ids)
    if f.categories is not None:
        checks.append(s.category in f.categories)
    if f.statuses is not None:
        checks.append(s.status in f.statuses)
    if f.severities is not None:
        checks.append(s.severity in f.severities)
    if f.levels is not None:
        checks.append(s.confidence_level in f.levels)
    if f.min_confidence is not None:
        checks.append(s.confidence >= f.min_confidence)
    if f.max_confidence is not None:
        checks.append(s.confidence <= f.max_confidence)
    if f.has_outliers is not None:
        checks.append((s.outlier_count > 0) == f.has_outliers)
    if f.tags_any is not None:
        checks.append(bool(set(f.tags_any) & set(s.tags)))
    if f.tags_all:
        checks.append(set(f.tags_all) <= set(s.tags))
    if f.search:
        needle = f.search.lower()
        checks.append(needle in s.name.lower() or needle in s.description.lower())
    return all(checks)


def _sort_value(s: PatternSummary, key: SortField) -> Any:
    if key == SortField.SEVERITY:
        return s.severity.rank
    if key == SortField.CONFIDENCE:
        return s.confidence
    value = {
        SortField.ID: s.id,
        SortField.NAME: s.name,
        SortField.CATEGORY: s.category,
        SortField.STATUS: s.status.value,
        SortField.FIRST_SEEN: s.first_seen or "",
        SortField.LAST_SEEN: s.last_seen or "",
        SortField.LOCATION_COUNT: s.location_count,
        SortField.OUTLIER_COUNT: s.outlier_count,
    }
    return value[key]


# --- diff -----------------------------------------------------------------------------------
def _brief(pid: str, s: dict[str, Any]) -> PatternBrief:
    return PatternBrief(
        id=pid,
        name=str(s.get("name", "")),
        category=str(s.get("category", "")),
        status=str(s.get("status", "")),
        confidence=_score(s),
        location_count=_count(s, "locationCount"),
        outlier_count=_count(s, "outlierCount"),
    )


def change_between(pid: str, a: dict[str, Any], b: dict[str, Any]) -> PatternChange | None:
    """How a pattern's snapshot `b` differs from `a` (None: it does not)."""
    fields = [
        k
        for k in sorted(set(a) | set(b))
        if k not in ("metadata", *_SUMMARY_KEYS) and a.get(k) != b.get(k)
    ]
    if a.get("locationsHash") != b.get("locationsHash"):
        fields.append("locations")
    if not fields:
        return None
    return PatternChange(
        id=pid,
        name=str(b.get("name", "")),
        category=str(b.get("category", "")),
        fields=fields,
        status_before=str(a.get("status", "")),
        status_after=str(b.get("status", "")),
        confidence_before=_score(a),
        confidence_after=_score(b),
        locations_before=_count(a, "locationCount"),
        locations_after=_count(b, "locationCount"),
        outliers_before=_count(a, "outlierCount"),
        outliers_after=_count(b, "outlierCount"),
    )


def brief(pid: str, snapshot: dict[str, Any]) -> PatternBrief:
    return _brief(pid, snapshot)


def diff(engine: Engine, since: str | None, until: str | None) -> DiffReport:
    """What changed after `since` up to `until` (both inclusive of their millisecond;
    None: the beginning / now)."""
    end = _inclusive(until) if until is not None else None
    with engine.read() as r:
        rows = r.history_rows(until=end)
    states: dict[str, _State] = {}
    before: dict[str, _State] | None = None if since is not None else {}
    moves: list[StatusMove] = []
    start = _inclusive(since) if since is not None else None
    decisions = (HistoryAction.APPROVED.value, HistoryAction.IGNORED.value)
    for row in rows:
        if before is None and start is not None and row.at >= start:
            before = dict(states)
        if before is not None and row.action in decisions:
            earlier = _decode(row.old).get("status") if row.old else None
            moves.append(
                StatusMove(
                    pattern_id=row.pattern_id,
                    category="",  # filled in below, from one decoded snapshot per pattern
                    old=str(earlier or ""),
                    new=row.action,
                    by=row.by,
                    at=row.at,
                )
            )
        _apply(states, row)
    if before is None:
        before = dict(states)
    categories_of: dict[str, str] = {}
    for move in moves:
        if move.pattern_id not in categories_of:
            state = states.get(move.pattern_id) or before.get(move.pattern_id)
            categories_of[move.pattern_id] = (
                str(state.snapshot.get("category", "")) if state is not None else ""
            )
        move.category = categories_of[move.pattern_id]
    added = [_brief(pid, states[pid].snapshot) for pid in sorted(set(states) - set(before))]
    removed = [_brief(pid, before[pid].snapshot) for pid in sorted(set(before) - set(states))]
    changed: list[PatternChange] = []
    for pid in sorted(set(states) & set(before)):
        a, b = before[pid].snapshot, states[pid].snapshot
        if a is b:
            continue
        found = change_between(pid, a, b)
        if found is not None:
            changed.append(found)
    categories: dict[str, CategoryDiff] = {}

    def cat(name: str) -> CategoryDiff:
        return categories.setdefault(name, CategoryDiff())

    for item in added:
        cat(item.category).added += 1
        cat(item.category).outliers_gained += item.outlier_count
    for item in removed:
        cat(item.category).removed += 1
        cat(item.category).outliers_lost += item.outlier_count
    for change in changed:
        entry = cat(change.category)
        entry.changed += 1
        delta = change.outliers_after - change.outliers_before
        entry.outliers_gained += max(0, delta)
        entry.outliers_lost += max(0, -delta)
    for move in moves:
        if move.new == Status.APPROVED.value:
            cat(move.category).approved += 1
        else:
            cat(move.category).ignored += 1
    return DiffReport(
        since=since,
        until=until,
        added=added,
        removed=removed,
        status_moves=moves,
        changed=changed,
        by_category=dict(sorted(categories.items())),
    )
