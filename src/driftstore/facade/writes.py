"""Changes to single patterns: add, update, delete, status moves.

Each runs in one transaction and writes its history row in it; PatternStore's methods
are the public doors to these.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import msgspec
from msgspec import UNSET

from driftstore.engine.base import Engine, HistoryRecord, PatternWrite, StatusChange
from driftstore.errors import (
    InvalidInputError,
    InvalidStatusTransitionError,
    PatternAlreadyExistsError,
    PatternNotFoundError,
)
from driftstore.facade.results import DecisionReport
from driftstore.model.digest import content_hash, snapshot
from driftstore.model.enums import HistoryAction, Status, can_move
from driftstore.model.ids import pattern_id_for
from driftstore.model.pattern import Pattern
from driftstore.model.validate import describe_validation_error, validated

#: fields update() may change; status goes through the same checks as approve/ignore
UPDATABLE = frozenset(
    {
        "name",
        "description",
        "category",
        "subcategory",
        "severity",
        "confidence",
        "detector",
        "detection_method",
        "locations",
        "outliers",
        "metadata",
        "auto_fixable",
        "status",
    }
)
_ENCODE_NAMES = {f.name: f.encode_name for f in msgspec.structs.fields(Pattern)}


def _with_id(p: Pattern) -> Pattern:
    """A pattern added without an id gets the stable one of its detector and pattern key."""
    if not p.id:
        p.id = pattern_id_for(p.detector.config.detector_id, p.detector.config.pattern_id)
    return p


def check_move(pattern_id: str, current: Status, target: Status) -> None:
    if not can_move(current, target):
        raise InvalidStatusTransitionError(pattern_id, current.value, target.value)


def add_patterns(engine: Engine, items: Iterable[Pattern], *, by: str | None) -> list[Pattern]:
    """Insert new patterns in one transaction: all of them, or none."""
    checked = [validated(_with_id(p), where=f"pattern {p.id!r}") for p in items]
    seen: set[str] = set()
    for p in checked:
        if p.id in seen:
            raise PatternAlreadyExistsError(p.id)
        seen.add(p.id)
    with engine.write() as w:
        taken = w.existing_ids([p.id for p in checked])
        if taken:
            raise PatternAlreadyExistsError(min(taken))
        now = w.now
        for p in checked:
            if p.metadata.first_seen is UNSET:
                p.metadata.first_seen = now
            if p.metadata.last_seen is UNSET:
                p.metadata.last_seen = p.metadata.first_seen
        w.put_patterns([PatternWrite(p, content_hash(p), now, created_at=now) for p in checked])
        w.record_history(
            [
                HistoryRecord(p.id, HistoryAction.CREATED, None, snapshot(p), now, by)
                for p in checked
            ]
        )
    return checked


def update_pattern(
    engine: Engine, pattern_id: str, changes: dict[str, Any], *, by: str | None
) -> Pattern:
    """Change fields of one pattern (history: updated, or approved/ignored for status)."""
    unknown = sorted(set(changes) - UPDATABLE)
    if unknown:
        raise InvalidInputError(
            f"update: cannot change {', '.join(unknown)}; changeable fields are "
            f"{', '.join(sorted(UPDATABLE))}"
        )
    with engine.write() as w:
        now = w.now
        stored = w.pattern(pattern_id)
        if stored is None:
            raise PatternNotFoundError(pattern_id)
        action = HistoryAction.UPDATED
        if "status" in changes:
            try:
                target = Status(changes["status"])
            except ValueError:
                raise InvalidInputError(
                    f"update {pattern_id!r}: status {changes['status']!r} is not valid; choose "
                    f"one of {', '.join(s.value for s in Status)}"
                ) from None
            if target != stored.status:
                check_move(pattern_id, stored.status, target)
                action = HistoryAction(target.value) if target != Status.DISCOVERED else action
        builtins = msgspec.to_builtins(stored)
        for key, value in changes.items():
            builtins[_ENCODE_NAMES[key]] = msgspec.to_builtins(value)
        try:
            new = msgspec.convert(builtins, Pattern)
        except msgspec.ValidationError as exc:
            raise InvalidInputError(
                f"update {pattern_id!r}: {describe_validation_error(exc)}"
            ) from None
        new = validated(new, where=f"update {pattern_id!r}")
        if new.status == Status.APPROVED and stored.status != Status.APPROVED:
            new.metadata.approved_at = now
            new.metadata.approved_by = by if by is not None else UNSET
        moved = new.locations != stored.locations or new.outliers != stored.outliers
        w.put_patterns([PatternWrite(new, content_hash(new), now, locations=moved)])
        w.record_history(
            [HistoryRecord(pattern_id, action, snapshot(stored), snapshot(new), now, by)]
        )
    return new


def delete_pattern(engine: Engine, pattern_id: str, *, by: str | None) -> bool:
    """Remove a pattern and everything hanging off it. False if it was not there."""
    with engine.write() as w:
        stored = w.pattern(pattern_id)
        if stored is None:
            return False
        w.delete_patterns([pattern_id])
        w.record_history(
            [HistoryRecord(pattern_id, HistoryAction.DELETED, snapshot(stored), None, w.now, by)]
        )
    return True


def set_status(
    engine: Engine,
    ids: Sequence[str],
    target: Status,
    *,
    by: str | None,
    reason: str | None = None,
) -> DecisionReport:
    """Move every id to `target` in one transaction; one refused move refuses all. An id
    already at `target` is left as it is (no history row) and reported as unchanged, so a
    batch built by a filter does not fail on one member."""
    if not ids:
        raise InvalidInputError("give at least one pattern id")
    unique = list(dict.fromkeys(ids))
    moved: list[str] = []
    unchanged: list[str] = []
    with engine.write() as w:
        now = w.now
        moves: list[StatusChange] = []
        rows: list[HistoryRecord] = []
        for pattern_id in unique:
            stored = w.pattern(pattern_id, with_locations=False)
            if stored is None:
                raise PatternNotFoundError(pattern_id)
            if stored.status == target:
                unchanged.append(pattern_id)
                continue
            check_move(pattern_id, stored.status, target)
            moved.append(pattern_id)
            old = {"status": stored.status.value}
            new: dict[str, Any] = {"status": target.value}
            if target == Status.APPROVED:
                moves.append(StatusChange(pattern_id, target, now, approved_by=by))
                new.update(approvedAt=now, approvedBy=by)
            else:
                moves.append(StatusChange(pattern_id, target, now))
            rows.append(
                HistoryRecord(pattern_id, HistoryAction(target.value), old, new, now, by, reason)
            )
        w.set_statuses(moves)
        w.record_history(rows)
    return DecisionReport(status=target, ids=moved, unchanged=unchanged)
