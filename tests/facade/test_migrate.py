"""Migrating drift 0.9 folders: real projects, the bundled sample, idempotence, dry run,
and nothing lost on the way back out (export --layout v1)."""

from __future__ import annotations

import itertools
import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import driftstore
from driftstore import to_builtins
from driftstore.errors import InvalidInputError
from driftstore.formats.canonical import compact_es, es_ready, pretty_es
from driftstore.formats.checksum import legacy_checksum
from tests.conftest import REAL_DRIFT, REPO
from tests.formats.strategies import legacy_entries, pattern_ids
from tests.store_rows import table_rows

SAMPLE = REPO / "samples" / "drift09"
_counter = itertools.count()


def _entries_by_id(folder: Path) -> dict[str, list[tuple[str, dict[str, Any]]]]:
    found: dict[str, list[tuple[str, dict[str, Any]]]] = {}
    for path in sorted(folder.glob("*/*.json")):
        for entry in json.loads(path.read_text())["patterns"]:
            found.setdefault(entry["id"], []).append((f"{path.parent.name}/{path.name}", entry))
    return found


def _db_snapshot(store: driftstore.PatternStore) -> list[Any]:
    return [
        table_rows(store, table)
        for table in ("patterns", "pattern_locations", "pattern_history", "export_state")
    ]


@pytest.mark.parametrize(
    ("folder", "status", "count"),
    [("jrmatherly__aionui", "approved", 455), ("fvnks__finanzsaas-chile", "discovered", 362)],
)
def test_real_folders_migrate_and_come_back_byte_for_byte(
    store: driftstore.PatternStore, folder: str, status: str, count: int
) -> None:
    source = REAL_DRIFT / folder
    report = store.migrate(source)
    assert (report.imported, report.updated, report.unchanged) == (count, 0, 0)
    assert report.by_status[status] == count and sum(report.by_status.values()) == count
    assert report.checksum_mismatches == [] and report.duplicates == []
    assert report.backup is not None
    assert to_builtins(store.status())["totalPatterns"] == count
    out = store.root / "v1"
    store.export(out, layout="v1")
    originals = sorted((source / ".drift" / "patterns").glob("*/*.json"))
    assert originals
    for original in originals:
        copy = out / "patterns" / original.parent.name / original.name
        assert copy.read_bytes() == original.read_bytes(), original.name
    again = store.migrate(source)
    assert (again.imported, again.updated, again.unchanged, again.backup) == (0, 0, count, None)


def test_windows_paths_are_normalised_for_queries(store: driftstore.PatternStore) -> None:
    store.migrate(REAL_DRIFT / "fvnks__finanzsaas-chile")
    assert store.by_file("pages/AdminPage.tsx")
    assert store.by_file("pages\\AdminPage.tsx")


def test_the_sample_has_every_shape_and_reports_it(store: driftstore.PatternStore) -> None:
    report = store.migrate(SAMPLE)
    assert report.checksum_mismatches == [".drift/patterns/ignored/styling.json"]
    assert [(s.path, s.reason) for s in report.skipped] == [
        (".drift/patterns/discovered/.backups", "per-file backup copies: history, not live data")
    ]
    assert [(d.statuses, d.kept) for d in report.duplicates] == [
        (["approved", "discovered"], "approved")
    ]
    assert report.lake_only == 1
    assert [(d.level, d.expected) for d in report.level_disagreements] == [("medium", "low")]
    assert report.by_category == {
        "api": 6,
        "auth": 4,
        "components": 5,
        "errors": 4,
        "logging": 3,
        "styling": 3,
    }
    assert sum(report.by_status.values()) == report.imported == 25
    # the older name in .backups/ is history, not live data
    assert all("(old name)" not in p.name for p in store.query().patterns)


def test_sample_comes_back_key_for_key(store: driftstore.PatternStore) -> None:
    store.migrate(SAMPLE)
    out = store.root / "v1"
    store.export(out, layout="v1")
    before = _entries_by_id(SAMPLE / ".drift" / "patterns")
    after = _entries_by_id(out / "patterns")
    for pid, copies in before.items():
        [(where, exported)] = after[pid]
        for origin, entry in copies:
            if origin == "discovered/api.json" and where == "approved/api.json":
                continue  # the duplicate: the approved copy is the one that comes back
            assert where == origin
            assert compact_es(es_ready(exported)) == compact_es(es_ready(entry)), pid
    for path in sorted((out / "patterns").glob("*/*.json")):
        doc = json.loads(path.read_text())
        assert doc["checksum"] == legacy_checksum(doc["patterns"]), path
    discovered = json.loads((out / "patterns/discovered/api.json").read_text())
    assert discovered["generator"] == "driftdetect 0.9.48"  # unknown file-level key kept
    # lake-only and unified patterns land in status files as drift 0.9 writes them
    assert "5a3c000759ea0860" not in before and any(
        e["detector"]["type"] == "unknown" for e in discovered["patterns"]
    )


def test_migrating_twice_changes_nothing(store: driftstore.PatternStore) -> None:
    first = store.migrate(SAMPLE)
    snapshot = _db_snapshot(store)
    backups = store.backups()
    second = store.migrate(SAMPLE)
    assert (second.imported, second.updated, second.unchanged) == (0, 0, first.imported)
    assert second.backup is None and store.backups() == backups
    assert _db_snapshot(store) == snapshot


def test_dry_run_reports_and_writes_nothing(store: driftstore.PatternStore) -> None:
    dry = store.migrate(SAMPLE, dry_run=True)
    assert dry.dry_run and dry.imported == 25 and dry.backup is None
    assert store.count() == 0 and store.history() == [] and store.backups() == []
    real = store.migrate(SAMPLE)
    assert (real.imported, real.by_status, real.checksum_mismatches) == (
        dry.imported,
        dry.by_status,
        dry.checksum_mismatches,
    )


def test_no_backup_option(store: driftstore.PatternStore) -> None:
    assert store.migrate(SAMPLE, backup=False).backup is None
    assert store.backups() == []


def test_a_decision_in_the_store_survives_a_second_migration(
    store: driftstore.PatternStore,
) -> None:
    store.migrate(SAMPLE)
    errors = [p.id for p in store.query().patterns if p.category == "errors"]
    store.ignore(errors[0], by="kim")
    again = store.migrate(SAMPLE)
    assert again.updated == 0
    assert store.require(errors[0]).status.value == "ignored"
    out = store.root / "v1"
    store.export(out, layout="v1")
    ignored = json.loads((out / "patterns/ignored/errors.json").read_text())
    assert [p["id"] for p in ignored["patterns"]] == [errors[0]]


def test_approving_after_migration_moves_the_entry_on_v1_export(
    store: driftstore.PatternStore,
) -> None:
    store.migrate(REAL_DRIFT / "fvnks__finanzsaas-chile")
    first = store.root / "v1"
    store.export(first, layout="v1")
    doc = json.loads((first / "patterns/discovered/api.json").read_text())
    pid = doc["patterns"][0]["id"]
    store.approve(pid, by="dana")
    store.export(first, layout="v1")
    approved = json.loads((first / "patterns/approved/api.json").read_text())
    [entry] = approved["patterns"]
    assert entry["metadata"]["approvedAt"] and entry["metadata"]["approvedBy"] == "dana"
    assert pid not in {
        p["id"]
        for p in json.loads((first / "patterns/discovered/api.json").read_text())["patterns"]
    }


def _write_legacy(root: Path, files: dict[tuple[str, str], list[dict[str, Any]]]) -> None:
    for (status, category), entries in files.items():
        doc = {
            "version": "1.0.0",
            "category": category,
            "patterns": entries,
            "lastUpdated": "2026-01-23T14:47:53.233Z",
            "checksum": legacy_checksum(entries),
        }
        path = root / ".drift" / "patterns" / status / f"{category}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(pretty_es(es_ready(doc), final_newline=False))


@st.composite
def legacy_trees(draw: st.DrawFn) -> dict[tuple[str, str], list[dict[str, Any]]]:
    ids = draw(st.lists(pattern_ids, min_size=1, max_size=6, unique=True))
    tree: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for pid in ids:
        status = draw(st.sampled_from(["discovered", "approved", "ignored"]))
        category = draw(st.sampled_from(["api", "types"]))
        tree.setdefault((status, category), []).append(draw(legacy_entries(pid, category)))
    return tree


@settings(max_examples=15)
@given(legacy_trees())
def test_any_legacy_tree_comes_back_byte_for_byte(
    tmp_path: Path, tree: dict[tuple[str, str], list[dict[str, Any]]]
) -> None:
    case = next(_counter)
    base = tmp_path / f"case{case}"
    source, target = base / "legacy", base / f"store{case}"  # one project per case
    source.mkdir(parents=True)
    target.mkdir()
    _write_legacy(source, tree)
    with driftstore.open(target) as store:
        try:
            report = store.migrate(source, backup=False)
        except InvalidInputError as exc:
            # PostgreSQL's text holds no NUL: refused in one line, nothing stored
            assert store.info().kind == "postgresql" and "NUL character" in str(exc)
            assert store.count() == 0
            shutil.rmtree(base)
            return
        assert report.checksum_mismatches == []
        store.export(base / "v1", layout="v1")
        for status, category in tree:
            name = f"{status}/{category}.json"
            original = (source / ".drift" / "patterns" / name).read_bytes()
            assert (base / "v1" / "patterns" / name).read_bytes() == original, name
        # and through v2 and back, the patterns survive as JSON values
        store.export(base / "v2")
    shutil.rmtree(base)


def test_an_unreadable_file_refuses_the_migration(
    store: driftstore.PatternStore, tmp_path: Path
) -> None:
    source = tmp_path / "legacy"
    shutil.copytree(SAMPLE / ".drift", source / ".drift")
    broken = source / ".drift" / "patterns" / "approved" / "auth.json"
    broken.chmod(0o644)
    broken.write_bytes(broken.read_bytes()[:200])
    with pytest.raises(InvalidInputError) as caught:
        store.migrate(source)
    assert str(caught.value).startswith(".drift/patterns/approved/auth.json: not valid JSON")
    assert store.count() == 0 and store.backups() == []


def test_a_folder_without_drift_files_is_refused(
    store: driftstore.PatternStore, tmp_path: Path
) -> None:
    with pytest.raises(InvalidInputError, match=r"no drift 0\.9"):
        store.migrate(tmp_path)
