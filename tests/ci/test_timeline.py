"""Time travel from history: `diff`, `--as-of`, `store.as_of`, and `ingest --dry-run`."""

from __future__ import annotations

import time
from pathlib import Path

import msgspec
import pytest

import driftstore
from driftstore import InvalidInputError, Location
from tests.clirun import run_cli
from tests.factories import make_pattern


def _tick() -> str:
    """A moment strictly between two changes (history has millisecond times)."""
    time.sleep(0.003)
    now = time.time()  # one reading: two could straddle a second and go back by one
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now)) + f".{int(now * 1000) % 1000:03d}Z"
    time.sleep(0.003)
    return stamp


@pytest.fixture
def timeline(store: driftstore.PatternStore) -> tuple[driftstore.PatternStore, list[str]]:
    moments = []
    store.ingest(
        [make_pattern(f"p{i}", files=[f"f{i}.ts"], outlier_files=[f"o{i}.ts"]) for i in (1, 2, 3)]
    )
    moments.append(_tick())  # 0: three discovered patterns
    store.approve("p1", by="ana")
    moments.append(_tick())  # 1: p1 approved
    moved = make_pattern(
        "p2", files=["f2.ts", "g2.ts"], outlier_files=["o2.ts", "o2b.ts"], score=0.5
    )
    store.ingest([moved])
    moments.append(_tick())  # 2: p2 re-scanned with more evidence
    store.delete("p3")
    store.ignore("p2", by="bo")
    moments.append(_tick())  # 3: p3 gone, p2 ignored
    return store, moments


def test_status_as_of_each_moment(timeline: tuple[driftstore.PatternStore, list[str]]) -> None:
    store, moments = timeline
    counts = [store.as_of(m).status().by_status for m in moments]
    assert counts[0] == {"discovered": 3, "approved": 0, "ignored": 0}
    assert counts[1] == {"discovered": 2, "approved": 1, "ignored": 0}
    assert counts[3] == {"discovered": 0, "approved": 1, "ignored": 1}
    assert store.as_of(moments[1]).status().total_locations == 3
    assert store.as_of(moments[2]).status().total_locations == 4
    past = store.as_of("2000-01-01T00:00:00Z").status()
    assert past.total_patterns == 0


def test_a_past_pattern_comes_back_with_locations_when_they_can_be_recovered(
    timeline: tuple[driftstore.PatternStore, list[str]],
) -> None:
    store, moments = timeline
    before = store.as_of(moments[1])
    p1 = before.describe("p1")  # unchanged since: its locations are the current ones
    assert p1.status == "approved" and p1.locations_known
    assert [loc.file for loc in p1.locations] == ["f1.ts"]
    p2 = before.describe("p2")  # re-scanned since, and no backup: counts only
    assert p2.confidence.score == 0.9 and not p2.locations_known and p2.locations == []
    assert before.exists("p3") and not store.as_of(moments[3]).exists("p3")
    assert [
        s.id for s in before.query(driftstore.PatternFilter(statuses=["approved"])).patterns
    ] == ["p1"]


def test_a_backup_taken_before_the_moment_fills_in_locations(
    store: driftstore.PatternStore,
) -> None:
    store.ingest([make_pattern("p1", files=["a.ts", "b.ts"])])
    store.backup("before-rescan")
    moment = _tick()
    store.ingest([make_pattern("p1", files=["c.ts"], score=0.4)])
    then = store.as_of(moment).describe("p1")
    assert then.locations_known and [loc.file for loc in then.locations] == ["a.ts", "b.ts"]


def test_diff_names_what_changed(timeline: tuple[driftstore.PatternStore, list[str]]) -> None:
    store, moments = timeline
    report = store.diff(since=moments[0], until=moments[3])
    assert [p.id for p in report.removed] == ["p3"] and report.added == []
    moves = [(m.pattern_id, m.old, m.new, m.by) for m in report.status_moves]
    assert moves == [("p1", "discovered", "approved", "ana"), ("p2", "discovered", "ignored", "bo")]
    assert [c.id for c in report.changed] == ["p1", "p2"]
    assert report.changed[0].fields == ["status"]
    change = report.changed[1]
    assert change.id == "p2" and change.confidence_before == 0.9 and change.confidence_after == 0.5
    assert (change.locations_before, change.locations_after) == (1, 2)
    assert (change.outliers_before, change.outliers_after) == (1, 2)
    api = report.by_category["api"]
    assert (api.removed, api.changed, api.approved, api.ignored, api.outliers_gained) == (
        1,
        2,
        1,
        1,
        1,
    )
    everything = store.diff()
    assert {p.id for p in everything.added} == {"p1", "p2"}
    with pytest.raises(InvalidInputError):
        store.diff(since=moments[3], until=moments[0])
    with pytest.raises(InvalidInputError, match="backup id"):
        store.diff(since="last tuesday")


def test_a_backup_id_is_a_moment(store: driftstore.PatternStore) -> None:
    store.ingest([make_pattern("p1")])
    backup = store.backup()
    time.sleep(0.003)
    store.ingest([make_pattern("p2")])
    assert [p.id for p in store.diff(since=backup).added] == ["p2"]
    assert store.as_of(backup).status().total_patterns == 1


def test_ingest_dry_run_writes_nothing_and_says_what_would_change(
    store: driftstore.PatternStore, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store.ingest([make_pattern("p1", files=["a.ts"]), make_pattern("p2")])
    before = store.generation
    scan = tmp_path / "scan.json"
    changed = make_pattern("p1", files=["a.ts", "b.ts"])
    changed.locations.append(Location(file="c.ts", line=3, column=0))
    scan.write_bytes(
        msgspec.json.encode([driftstore.to_builtins(p) for p in (changed, make_pattern("p9"))])
    )
    report = store.ingest(scan, dry_run=True, prune=True)
    assert (report.added, report.updated, report.removed, report.dry_run) == (1, 1, 1, True)
    assert report.changes is not None and report.changes.changed[0].fields == ["locations"]
    assert [p.id for p in report.changes.removed] == ["p2"]
    assert store.generation == before and not store.exists("p9")
    result = run_cli(capsys, store.root, "ingest", str(scan), "--dry-run")
    assert (
        result.code == 0 and "would add 1, update 1" in result.out and "p1: locations" in result.out
    )
    assert store.generation == before


def test_the_cli_answers_as_of_and_diff(
    timeline: tuple[driftstore.PatternStore, list[str]], capsys: pytest.CaptureFixture[str]
) -> None:
    store, moments = timeline
    root = store.root
    status = run_cli(capsys, root, "status", "--as-of", moments[1], "--json").json()
    assert status["byStatus"]["approved"] == 1 and status["totalPatterns"] == 3
    shown = run_cli(capsys, root, "show", "p2", "--as-of", moments[1], "--json").json()
    assert shown["status"] == "discovered" and shown["locationsKnown"] is False
    diffed = run_cli(capsys, root, "diff", "--since", moments[0], "--json").json()
    assert [p["id"] for p in diffed["removed"]] == ["p3"]
    text = run_cli(capsys, root, "diff", "--since", moments[0])
    assert text.code == 0 and "api" in text.out and "p1" in text.out
    assert run_cli(capsys, root, "diff", "--since", "soon").code == 2
    assert run_cli(capsys, root, "show", "p3", "--as-of", moments[3]).code == 2
