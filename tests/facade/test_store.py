"""The facade's single-pattern API: add, get, update, delete, decisions, history."""

from __future__ import annotations

import pytest

import driftstore
from driftstore import (
    Confidence,
    InvalidInputError,
    InvalidStatusTransitionError,
    PatternAlreadyExistsError,
    PatternNotFoundError,
    Severity,
    Status,
)
from tests.factories import make_pattern


def test_add_then_get_returns_the_same_pattern(store: driftstore.PatternStore) -> None:
    p = make_pattern("p1", files=["src/a.ts", "src\\b.ts"], outlier_files=["c.ts"], tags=["t"])
    store.add(p)
    got = store.get("p1")
    assert got is not None
    assert got.name == p.name and got.tags == ["t"]
    assert [loc.file for loc in got.locations] == ["src/a.ts", "src/b.ts"]
    assert got.locations[1].original_file == "src\\b.ts"
    assert got.outliers[0].reason == "breaks it"
    assert store.exists("p1") and not store.exists("p2")
    assert store.get("p2") is None


def test_add_of_a_taken_id_fails_and_add_many_is_all_or_nothing(
    store: driftstore.PatternStore,
) -> None:
    store.add(make_pattern("p1"))
    with pytest.raises(PatternAlreadyExistsError, match="p1"):
        store.add(make_pattern("p1"))
    with pytest.raises(PatternAlreadyExistsError):
        store.add_many([make_pattern("p2"), make_pattern("p3"), make_pattern("p1")])
    assert store.count() == 1
    with pytest.raises(PatternAlreadyExistsError):
        store.add_many([make_pattern("p4"), make_pattern("p4")])
    assert store.count() == 1
    store.add_many([make_pattern("p2"), make_pattern("p3")])
    assert store.count() == 3


def test_add_validates_what_struct_constructors_do_not(store: driftstore.PatternStore) -> None:
    with pytest.raises(InvalidInputError, match=r"confidence\.score"):
        store.add(make_pattern("p1", score=1.5))
    with pytest.raises(InvalidInputError, match="category"):
        store.add(make_pattern("p1", category="made-up"))
    with pytest.raises(InvalidInputError, match="outside the project"):
        store.add(make_pattern("p1", files=["../secret.ts"]))
    assert store.count() == 0


def test_update_changes_fields_and_writes_history(store: driftstore.PatternStore) -> None:
    store.add(make_pattern("p1", files=["a.ts"]))
    updated = store.update(
        "p1", name="Renamed", severity=Severity.ERROR, confidence=Confidence(score=0.4), by="ana"
    )
    assert updated.name == "Renamed" and updated.level.value == "uncertain"
    got = store.get("p1")
    assert got is not None and got.severity == Severity.ERROR and got.locations[0].file == "a.ts"
    last = store.history("p1", limit=1)[0]
    assert last.action == "updated" and last.by == "ana"
    assert last.old is not None and last.old["name"] == "Pattern p1"
    assert last.new is not None and last.new["name"] == "Renamed"
    with pytest.raises(InvalidInputError, match="cannot change"):
        store.update("p1", id="other")
    with pytest.raises(PatternNotFoundError):
        store.update("nope", name="x")


def test_delete_removes_everything_and_records_it(store: driftstore.PatternStore) -> None:
    store.add(make_pattern("p1", files=["a.ts"]))
    assert store.delete("p1") is True
    assert store.delete("p1") is False
    assert store.get("p1") is None
    assert store.by_file("a.ts") == []
    assert [h.action for h in store.history("p1")] == ["deleted", "created"]


@pytest.mark.parametrize(
    ("start", "move", "allowed"),
    [
        ("discovered", "approve", True),
        ("discovered", "ignore", True),
        ("approved", "ignore", True),
        ("ignored", "approve", True),
        ("approved", "approve", False),
        ("ignored", "ignore", False),
    ],
)
def test_status_moves(store: driftstore.PatternStore, start: str, move: str, allowed: bool) -> None:
    store.add(make_pattern("p1"))
    if start == "approved":
        store.approve("p1")
    elif start == "ignored":
        store.ignore("p1")
    act = store.approve if move == "approve" else store.ignore
    if allowed:
        act("p1", by="lee")
        got = store.get("p1")
        assert got is not None
        assert got.status == (Status.APPROVED if move == "approve" else Status.IGNORED)
        assert store.history("p1", limit=1)[0].by == "lee"
    else:  # already there: a no-op, reported as such, with no history row
        rows = len(store.history("p1"))
        report = act("p1")
        assert report.ids == [] and report.unchanged == ["p1"]
        assert len(store.history("p1")) == rows


def test_approve_records_who_and_when(store: driftstore.PatternStore) -> None:
    store.add(make_pattern("p1"))
    store.approve("p1", by="kim")
    got = store.get("p1")
    assert got is not None
    assert got.metadata.approved_by == "kim"
    assert isinstance(got.metadata.approved_at, str) and got.metadata.approved_at.endswith("Z")


def test_a_batch_of_decisions_is_all_or_nothing(store: driftstore.PatternStore) -> None:
    store.add_many([make_pattern("a"), make_pattern("b"), make_pattern("c")])
    store.ignore("b")
    store.update("b", status="approved")
    with pytest.raises(PatternNotFoundError):
        store.ignore(["a", "missing"])
    with pytest.raises(InvalidInputError):
        store.update("c", status="bogus")
    statuses = {p.id: p.status for p in store.query().patterns}
    assert statuses == {"a": "discovered", "b": "approved", "c": "discovered"}
    report = store.approve(["a", "b", "c"])  # b is already approved: left as it is
    assert report.ids == ["a", "c"] and report.unchanged == ["b"]
    assert store.count(driftstore.PatternFilter(statuses=[Status.APPROVED])) == 3
    store.approve("a")
    with pytest.raises(InvalidStatusTransitionError):  # a refused move refuses the batch
        store.update("a", status="discovered")


def test_history_filters_by_pattern_time_and_limit(store: driftstore.PatternStore) -> None:
    store.add_many([make_pattern("a"), make_pattern("b")])
    store.approve("a")
    everything = store.history()
    assert [h.action for h in everything][:1] == ["approved"]
    assert len(everything) == 3
    assert len(store.history(limit=2)) == 2
    assert {h.pattern_id for h in store.history("b")} == {"b"}
    assert store.history(since="2999-01-01T00:00:00Z") == []
    assert len(store.history(since="2000-01-01T00:00:00Z")) == 3
    with pytest.raises(InvalidInputError, match="ISO-8601"):
        store.history(since="yesterday")


def test_by_file_returns_only_that_files_locations(store: driftstore.PatternStore) -> None:
    store.add(make_pattern("p1", files=["a.ts", "b.ts", "a.ts"], outlier_files=["a.ts"]))
    store.add(make_pattern("p2", files=["b.ts"]))
    (hit,) = store.by_file("./a.ts")
    assert hit.id == "p1"
    assert [loc.file for loc in hit.locations] == ["a.ts", "a.ts"]
    assert [loc.file for loc in hit.outliers] == ["a.ts"]
    assert sorted(p.id for p in store.by_file("b.ts")) == ["p1", "p2"]
    assert store.by_file("c.ts") == []


def test_a_closed_store_says_so(root: object) -> None:
    store = driftstore.open(str(root))
    store.close()
    with pytest.raises(driftstore.DriftStoreError, match="closed"):
        store.get("x")


def test_a_pattern_added_without_an_id_gets_its_stable_id(store: driftstore.PatternStore) -> None:
    p = make_pattern("x")
    p.id = ""
    (added,) = store.add_many([p])
    expected = driftstore.pattern_id_for("api/routes", "x")
    assert added.id == expected and len(expected) == 16
    assert store.exists(expected)
