"""The merge rules of interface.md, through store.ingest."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import driftstore
from driftstore import InvalidInputError, Status, to_builtins
from driftstore.engine.sqlite.engine import SqliteEngine
from tests.factories import entry
from tests.sqlite_access import database


def _scan(tmp_path: Path, entries: list[dict[str, Any]], name: str = "scan.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(entries), encoding="utf-8")
    return path


def test_new_ids_are_inserted_as_discovered_even_if_the_scan_says_approved(
    store: driftstore.PatternStore, tmp_path: Path
) -> None:
    e = entry("a", files=["x.ts"])
    e["status"] = "approved"
    e["metadata"]["approvedAt"] = "2026-01-01T00:00:00.000Z"
    report = store.ingest(_scan(tmp_path, [e, entry("b")]))
    assert (report.added, report.updated, report.unchanged, report.removed) == (2, 0, 0, 0)
    got = store.get("a")
    assert got is not None and got.status == Status.DISCOVERED
    assert got.metadata.approved_at is driftstore.model.pattern.UNSET
    assert [h.action for h in store.history("a")] == ["created"]


def test_rescan_keeps_user_decisions_and_replaces_detector_data(
    store: driftstore.PatternStore, tmp_path: Path
) -> None:
    store.ingest(
        _scan(tmp_path, [entry("a", files=["x.ts"], first_seen="2026-01-01T00:00:00.000Z")])
    )
    store.approve("a", by="ana")
    store.add_variant("a", enabled=False, by="ana")
    (store.root / "x.ts").write_text("ok()\n")
    store.add_example("a", "x.ts", "1-1", by="ana")
    changed = entry(
        "a",
        name="Renamed by detector",
        files=["y.ts", "z.ts"],
        score=0.55,
        first_seen="2026-06-01T00:00:00.000Z",
        last_seen="2026-06-01T00:00:00.000Z",
    )
    report = store.ingest(_scan(tmp_path, [changed]))
    assert (report.added, report.updated, report.unchanged) == (0, 1, 0)
    got = store.get("a")
    assert got is not None
    assert got.name == "Renamed by detector"
    assert [loc.file for loc in got.locations] == ["y.ts", "z.ts"]
    assert got.confidence.score == 0.55
    assert got.metadata.last_seen == "2026-06-01T00:00:00.000Z"
    # kept: the user's decision, who made it, and when the pattern was first seen
    assert got.status == Status.APPROVED and got.metadata.approved_by == "ana"
    assert got.metadata.first_seen == "2026-01-01T00:00:00.000Z"
    assert len(store.variants("a")) == 1
    assert [e.code for e in store.examples("a")] == ["ok()"]
    last = store.history("a", limit=1)[0]
    assert last.action == "updated"
    assert last.old is not None and last.new is not None
    assert (last.old["name"], last.new["name"]) == ("Pattern a", "Renamed by detector")
    assert store.by_file("x.ts") == [] and [
        p.id for p in store.by_file("z.ts", include_disabled=True)
    ] == ["a"]


def test_a_moved_last_seen_alone_is_stored_but_not_a_change(
    store: driftstore.PatternStore, tmp_path: Path
) -> None:
    store.ingest(_scan(tmp_path, [entry("a", files=["x.ts"])]))
    again = entry("a", files=["x.ts"], last_seen="2026-09-09T09:09:09.000Z")
    report = store.ingest(_scan(tmp_path, [again]))
    assert (report.updated, report.unchanged) == (0, 1)
    got = store.get("a")
    assert got is not None and got.metadata.last_seen == "2026-09-09T09:09:09.000Z"
    assert [h.action for h in store.history("a")] == ["created"]


def test_absent_patterns_are_kept_unless_prune_and_prune_spares_decisions(
    store: driftstore.PatternStore, tmp_path: Path
) -> None:
    store.ingest(_scan(tmp_path, [entry(i, files=[f"{i}.ts"]) for i in ("a", "b", "c", "d")]))
    store.approve("b")
    store.ignore("c")
    report = store.ingest(_scan(tmp_path, [entry("a", files=["a.ts"])]))
    assert report.removed == 0 and store.count() == 4
    report = store.ingest(_scan(tmp_path, [entry("a", files=["a.ts"])]), prune=True)
    assert report.removed == 1
    assert sorted(s.id for s in store.query().patterns) == ["a", "b", "c"]
    assert store.history("d", limit=1)[0].action == "deleted"
    assert store.by_file("d.ts") == []


def test_a_bad_entry_anywhere_stores_nothing(
    store: driftstore.PatternStore, tmp_path: Path
) -> None:
    store.ingest(_scan(tmp_path, [entry("keep", files=["k.ts"])]))
    before = to_builtins(store.status())
    history_before = len(store.history())
    bad = entry("z", files=["x.ts"])
    bad["locations"][0]["line"] = -3
    scan = [entry(f"n{i}", files=["n.ts"]) for i in range(50)] + [bad]
    with pytest.raises(InvalidInputError, match=r"entry 50 \(id 'z'\): locations\[0\]\.line"):
        store.ingest(_scan(tmp_path, scan))
    assert to_builtins(store.status()) == before
    assert len(store.history()) == history_before
    assert store.by_file("n.ts") == []


def test_a_bad_entry_in_a_bulk_load_into_an_empty_store_leaves_it_usable(
    store: driftstore.PatternStore, tmp_path: Path
) -> None:
    bad = entry("z")
    bad["severity"] = "catastrophic"
    with pytest.raises(InvalidInputError, match="severity"):
        store.ingest(_scan(tmp_path, [entry("a", files=["a.ts"]), bad]))
    assert store.count() == 0
    if isinstance(store.engine, SqliteEngine):
        # the location indexes SQLite drops for a bulk load came back with the rollback
        names = {
            r[0] for r in database(store).query("SELECT name FROM sqlite_master WHERE type='index'")
        }
        assert {"idx_pattern_locations_file", "idx_pattern_locations_pattern"} <= names
    store.ingest(_scan(tmp_path, [entry("a", files=["a.ts"])]))
    assert [p.id for p in store.by_file("a.ts")] == ["a"]


def test_a_duplicate_id_in_one_scan_is_refused(
    store: driftstore.PatternStore, tmp_path: Path
) -> None:
    with pytest.raises(InvalidInputError, match="appears twice"):
        store.ingest(_scan(tmp_path, [entry("a"), entry("a")]))
    assert store.count() == 0


def test_ingest_of_pattern_objects_and_of_ndjson_from_a_stream(
    store: driftstore.PatternStore, tmp_path: Path
) -> None:
    from tests.factories import make_pattern

    report = store.ingest([make_pattern("obj", files=["o.ts"])])
    assert report.added == 1
    path = tmp_path / "scan.ndjson"
    path.write_text("\n".join(json.dumps(entry(f"s{i}")) for i in range(3)) + "\n")
    with path.open("rb") as stream:
        assert store.ingest(stream).added == 3
    assert store.count() == 4


@pytest.mark.sqlite_only
def test_bulk_load_indexes_exist_after_a_successful_first_ingest(
    store: driftstore.PatternStore, tmp_path: Path
) -> None:
    store.ingest(_scan(tmp_path, [entry(f"p{i}", files=[f"f{i % 7}.ts"]) for i in range(30)]))
    plan = " ".join(
        str(r)
        for r in database(store).query(
            "EXPLAIN QUERY PLAN SELECT pattern_id FROM pattern_locations WHERE file = ?", ("f1.ts",)
        )
    )
    assert "idx_pattern_locations_file" in plan
    assert len(store.by_file("f1.ts")) == len([i for i in range(30) if i % 7 == 1])


def test_prune_backs_up_only_when_it_will_delete_and_only_after_the_scan_checks_out(
    store: driftstore.PatternStore, tmp_path: Path
) -> None:
    store.ingest(_scan(tmp_path, [entry("a", files=["a.ts"]), entry("b", files=["b.ts"])]))
    bad = entry("z")
    bad["severity"] = "catastrophic"
    with pytest.raises(InvalidInputError):
        store.ingest(_scan(tmp_path, [entry("a", files=["a.ts"]), bad]), prune=True)
    assert store.backups() == []  # a refused scan leaves no backup behind
    nothing_to_delete = store.ingest(
        _scan(tmp_path, [entry("a", files=["a.ts"]), entry("b", files=["b.ts"])]), prune=True
    )
    assert nothing_to_delete.backup is None and store.backups() == []
    report = store.ingest(_scan(tmp_path, [entry("a", files=["a.ts"])]), prune=True)
    assert report.removed == 1 and report.backup is not None
    assert [b.id for b in store.backups()] == [report.backup]
    # the backup holds the state from before this ingest: b is still in it
    store.restore(report.backup)
    assert store.exists("b")
