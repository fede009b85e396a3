"""Export, import and verify through the store: determinism, round trips, refusals."""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import apsw
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import driftstore
from driftstore import ChecksumMismatchError, Pattern, to_builtins
from driftstore.engine.sqlite import integrity
from driftstore.errors import InvalidInputError
from driftstore.facade import export as exchange
from driftstore.facade.verify import VerifyReport
from driftstore.formats import atomic
from driftstore.formats.canonical import canonical_fast
from driftstore.formats.checksum import v2_checksum
from driftstore.formats.shards import v2_entry
from tests.factories import make_pattern
from tests.formats.strategies import patterns

_counter = itertools.count()


def _fill(store: driftstore.PatternStore) -> None:
    store.add_many(
        [
            make_pattern("a1", category="api", files=["src/a.ts", "src\\win\\b.ts"], score=1.0),
            make_pattern("a2", category="api", files=["src/a.ts"], outlier_files=["c.ts"]),
            make_pattern("u1", category="auth", files=["lib/über.ts"], tags=["auth"]),
        ]
    )


def _files(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*.json"))
        if p.is_file()
    }


@pytest.fixture
def filled(store: driftstore.PatternStore) -> driftstore.PatternStore:
    _fill(store)
    return store


@pytest.fixture
def other(tmp_path: Path) -> Iterator[driftstore.PatternStore]:
    root = tmp_path / "other"
    root.mkdir()
    with driftstore.open(root) as opened:
        yield opened


def _clock(monkeypatch: pytest.MonkeyPatch, stamp: str) -> None:
    monkeypatch.setattr(exchange, "now_iso", lambda: stamp)


def test_two_exports_of_an_unchanged_store_are_byte_identical(
    filled: driftstore.PatternStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = filled.root / "out"
    _clock(monkeypatch, "2026-06-01T00:00:00.000Z")
    first = filled.export(out)
    assert sorted(first.written) == sorted(
        [
            "out/patterns/api.json",
            "out/patterns/auth.json",
            "out/indexes/by-category.json",
            "out/indexes/by-file.json",
        ]
    )
    before = _files(out)
    _clock(monkeypatch, "2026-07-01T00:00:00.000Z")
    second = filled.export(out)
    assert second.written == [] and len(second.unchanged) == 4
    assert _files(out) == before
    api = json.loads(before["patterns/api.json"])
    assert api["lastUpdated"] == "2026-06-01T00:00:00.000Z"
    assert [p["id"] for p in api["patterns"]] == ["a1", "a2"]
    assert api["patterns"][0]["confidence"]["score"] == 1
    assert b'"score": 1,' in before["patterns/api.json"]  # JavaScript's spelling of 1.0
    assert api["checksum"] == v2_checksum(api["patterns"])
    by_file = json.loads(before["indexes/by-file.json"])
    assert by_file["patterns"]["src/a.ts"] == ["a1", "a2"] and "c.ts" in by_file["patterns"]
    assert set(by_file) == {"generatedAt", "patterns", "accessPoints", "functions"}


def test_last_updated_moves_only_for_the_category_that_changed(
    filled: driftstore.PatternStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = filled.root / "out"
    _clock(monkeypatch, "2026-06-01T00:00:00.000Z")
    filled.export(out)
    before = _files(out)
    filled.approve("a2")
    _clock(monkeypatch, "2026-07-01T00:00:00.000Z")
    report = filled.export(out)
    after = _files(out)
    assert "out/patterns/api.json" in report.written
    assert after["patterns/auth.json"] == before["patterns/auth.json"]
    api = json.loads(after["patterns/api.json"])
    assert api["lastUpdated"] == "2026-07-01T00:00:00.000Z"
    assert api["statusCounts"] == {"discovered": 1, "approved": 1, "ignored": 0}
    # the category index did not change, so its generatedAt did not move either
    assert after["indexes/by-category.json"] == before["indexes/by-category.json"]


def test_a_category_with_no_patterns_left_loses_its_shard(
    filled: driftstore.PatternStore, tmp_path: Path
) -> None:
    out = filled.root / "out"
    filled.export(out)
    foreign = out / "patterns" / "logging.json"
    foreign.write_text('{"version": "2.0.0", "category": "logging", "patterns": []}')
    filled.delete("u1")
    report = filled.export(out)
    assert report.removed == ["out/patterns/auth.json"]
    assert not (out / "patterns" / "auth.json").exists()
    assert foreign.exists()  # not a driftstore shard: left alone


def test_a_failed_write_leaves_whole_files_and_no_temp(
    filled: driftstore.PatternStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = filled.root / "out"
    real_replace = atomic.os.replace
    calls = itertools.count()

    def flaky(src: Any, dst: Any) -> None:
        if next(calls) == 1:
            raise OSError(28, "No space left on device")
        real_replace(src, dst)

    monkeypatch.setattr(atomic.os, "replace", flaky)
    with pytest.raises(OSError):
        filled.export(out)
    monkeypatch.setattr(atomic.os, "replace", real_replace)
    written = _files(out)
    assert list(written) == ["patterns/api.json"]
    json.loads(written["patterns/api.json"])  # whole, not half
    assert not [p for p in out.rglob("*") if p.name.endswith(atomic.TEMP_SUFFIX)]
    filled.export(out)
    assert len(_files(out)) == 4


def _add_children(store: driftstore.PatternStore, pattern_id: str) -> None:
    store.add_variant(
        pattern_id, scope="file", path="src/a.ts", severity="error", config={"max": 3}
    )
    (store.root / "src").mkdir(exist_ok=True)
    (store.root / "src" / "a.ts").write_text("export async function h() {}\n")
    store.add_example(pattern_id, "src/a.ts", "1-1")


def test_export_import_export_gives_identical_files_with_variants_and_examples(
    filled: driftstore.PatternStore, other: driftstore.PatternStore, tmp_path: Path
) -> None:
    _add_children(filled, "a1")
    first = tmp_path / "first"
    filled.export(first)
    report = other.import_(first)
    assert (report.imported, report.updated, report.unchanged) == (3, 0, 0)
    assert report.backup is not None
    second = tmp_path / "second"
    other.export(second)
    assert _files(second) == _files(first)
    assert [v.scope_path for v in other.variants("a1")] == ["src/a.ts"]
    assert [e.code for e in other.examples("a1")] == ["export async function h() {}"]
    again = other.import_(first)
    assert (again.imported, again.updated, again.unchanged) == (0, 0, 3)


@settings(max_examples=12)
@given(
    st.lists(
        st.sampled_from(["api", "auth", "types"]).flatmap(lambda c: patterns(category=c)),
        min_size=1,
        max_size=5,
        unique_by=lambda p: p.id,
    )
)
def test_round_trip_property(tmp_path: Path, items: list[Pattern]) -> None:
    case = next(_counter)
    base = tmp_path / f"case{case}"
    # folders named per case: on a shared server each folder's name is its project's
    (base / f"a{case}").mkdir(parents=True)
    (base / f"b{case}").mkdir()
    with (
        driftstore.open(base / f"a{case}") as source,
        driftstore.open(base / f"b{case}") as target,
    ):
        try:
            source.add_many(items)
        except InvalidInputError as exc:
            # PostgreSQL's text columns hold no NUL: refused in one line, nothing stored
            assert source.info().kind == "postgresql" and "NUL character" in str(exc)
            assert "\\u0000" in json.dumps([to_builtins(p) for p in items])
            assert source.count() == 0
            return
        source.export(base / "one")
        target.import_(base / "one")
        target.export(base / "two")
        assert _files(base / "two") == _files(base / "one")
        for p in items:
            copy, original = target.require(p.id), source.require(p.id)
            # equal as JSON (a float like 1e17 may come back as the int JavaScript writes)
            assert canonical_fast(v2_entry(copy)) == canonical_fast(v2_entry(original))


def _shard(folder: Path, name: str = "api") -> tuple[Path, dict[str, Any]]:
    path = folder / "patterns" / f"{name}.json"
    return path, json.loads(path.read_text())


def _unchanged(store: driftstore.PatternStore) -> None:
    assert store.count() == 0 and store.history() == [] and store.backups() == []


def test_a_tampered_shard_refuses_the_whole_import(
    filled: driftstore.PatternStore, other: driftstore.PatternStore, tmp_path: Path
) -> None:
    out = filled.root / "out"
    filled.export(out)
    path, doc = _shard(out, "auth")
    doc["patterns"][0]["name"] = "edited by hand"
    path.write_text(json.dumps(doc, indent=2))
    with pytest.raises(ChecksumMismatchError) as caught:
        other.import_(out)
    message = str(caught.value)
    assert message.startswith("out/patterns/auth.json: checksum mismatch") or (
        "auth.json: checksum mismatch" in message
    )
    assert "force the import" in message and caught.value.remedy == driftstore.Remedy.FORCE_IMPORT
    _unchanged(other)
    forced = other.import_(out, force=True)
    assert forced.forced_files and forced.forced_files[0].endswith("auth.json")
    assert other.require("u1").name == "edited by hand"
    reasons = {h.pattern_id: h.reason for h in other.history()}
    assert reasons == {"u1": "import --force", "a1": "import", "a2": "import"}


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda text: text[: len(text) // 2], "not valid JSON"),
        (lambda text: text.replace('"version": "2.0.0"', '"version": "9.0.0"'), "'9.0.0'"),
        (lambda text: text.replace('"category": "auth"', '"category": "sales"'), "'sales'"),
    ],
)
def test_damaged_shards_are_refused_and_nothing_changes(
    filled: driftstore.PatternStore,
    other: driftstore.PatternStore,
    tmp_path: Path,
    damage: Any,
    message: str,
) -> None:
    out = filled.root / "out"
    filled.export(out)
    path = out / "patterns" / "auth.json"
    path.write_text(damage(path.read_text()))
    with pytest.raises(InvalidInputError, match=message) as caught:
        other.import_(out)
    assert "auth.json" in str(caught.value)
    _unchanged(other)


def test_an_unknown_category_file_is_refused(
    filled: driftstore.PatternStore, other: driftstore.PatternStore, tmp_path: Path
) -> None:
    out = filled.root / "out"
    filled.export(out)
    (out / "patterns" / "auth.json").rename(out / "patterns" / "sales.json")
    with pytest.raises(InvalidInputError, match="'sales' is not one of drift's categories"):
        other.import_(out)
    _unchanged(other)


def test_a_bad_entry_in_a_later_shard_rolls_back_the_earlier_ones(
    filled: driftstore.PatternStore, other: driftstore.PatternStore, tmp_path: Path
) -> None:
    out = filled.root / "out"
    filled.export(out)
    path, doc = _shard(out, "auth")
    doc["patterns"][0]["locations"][0]["column"] = "first"
    doc["checksum"] = v2_checksum(doc["patterns"])  # a valid checksum over bad content
    path.write_text(json.dumps(doc, indent=2))
    with pytest.raises(InvalidInputError) as caught:
        other.import_(out)
    text = str(caught.value)
    assert "auth.json" in text and "'u1'" in text and "locations[0].column" in text
    assert other.count() == 0 and other.history() == []


def test_import_is_authoritative_for_the_patterns_it_holds(
    filled: driftstore.PatternStore, other: driftstore.PatternStore, tmp_path: Path
) -> None:
    out = filled.root / "out"
    filled.export(out)
    other.add(make_pattern("a1", category="api", files=["old.ts"]))
    other.approve("a1")
    other.add(make_pattern("z9", category="types"))
    report = other.import_(out)
    assert (report.imported, report.updated, report.unchanged) == (2, 1, 0)
    a1 = other.require("a1")
    assert a1.status.value == "discovered" and [loc.file for loc in a1.locations] == [
        "src/a.ts",
        "src/win/b.ts",
    ]
    assert other.exists("z9")  # in no shard: kept
    assert other.history("a1", limit=1)[0].reason == "import"


def test_import_of_a_missing_or_empty_folder_is_refused(
    other: driftstore.PatternStore, tmp_path: Path
) -> None:
    with pytest.raises(InvalidInputError, match="no such folder"):
        other.import_(tmp_path / "nope")
    (tmp_path / "empty").mkdir()
    with pytest.raises(InvalidInputError, match="no v2 shards"):
        other.import_(tmp_path / "empty")


def test_verify_checks_database_and_every_file(filled: driftstore.PatternStore, root: Path) -> None:
    filled.export()
    assert filled.verify() == VerifyReport(ok=True, problems=[])
    shard = root / ".drift" / "patterns" / "api.json"
    shard.write_text(shard.read_text().replace('"name": "Pattern a1"', '"name": "Pattern X"'))
    legacy = root / ".drift" / "patterns" / "approved" / "auth.json"
    legacy.parent.mkdir()
    legacy.write_text('{"version": "1.0.0", "category": "auth", "patterns": [], "checksum": "0"}')
    broken = root / ".drift" / "lake" / "patterns" / "types.json"
    broken.parent.mkdir(parents=True)
    broken.write_text('{"version": "1.0.0", "patterns": [')
    report = filled.verify()
    assert not report.ok
    found = {p.path: p.problem for p in report.problems}
    assert found[".drift/patterns/api.json"].startswith("checksum mismatch")
    assert found[".drift/patterns/approved/auth.json"].startswith("checksum mismatch")
    assert "not valid JSON" in found[".drift/lake/patterns/types.json"]


@pytest.mark.sqlite_only
def test_verify_reports_database_problems(filled: driftstore.PatternStore, root: Path) -> None:
    raw = apsw.Connection(str(root / ".drift" / "drift.db"))
    raw.execute("PRAGMA foreign_keys = OFF")
    raw.execute(
        "INSERT INTO pattern_locations (pattern_id, file, line, column_num) VALUES ('ghost', 'x', 1, 1)"
    )
    raw.close()
    report = filled.verify()
    assert not report.ok
    assert report.problems[0].path == ".drift/drift.db"
    assert "missing patterns row" in report.problems[0].problem


def _nested(depth: int) -> Any:
    value: Any = "deep"
    for _ in range(depth):
        value = {"x": value}
    return value


@pytest.mark.parametrize(
    ("entry_change", "message"),
    [
        (lambda e: e.__setitem__("xDeep", _nested(40)), "nests deeper than 32 levels"),
        (lambda e: e["locations"][0].__setitem__("xDeep", _nested(40)), r"locations\[0\]: a"),
    ],
)
def test_absurdly_nested_values_are_refused(
    filled: driftstore.PatternStore,
    other: driftstore.PatternStore,
    entry_change: Any,
    message: str,
) -> None:
    out = filled.root / "out"
    filled.export(out)
    path, doc = _shard(out, "auth")
    entry_change(doc["patterns"][0])
    doc["checksum"] = v2_checksum(doc["patterns"])
    path.write_text(json.dumps(doc))
    with pytest.raises(InvalidInputError, match=message):
        other.import_(out)
    assert other.count() == 0


def test_json_nested_beyond_the_parser_is_one_clear_error(
    filled: driftstore.PatternStore, other: driftstore.PatternStore
) -> None:
    filled.export()
    shard = filled.drift_dir / "patterns" / "auth.json"
    shard.write_text('{"version": "2.0.0", "x": ' + "[" * 100_000 + "]" * 100_000 + "}")
    with pytest.raises(InvalidInputError, match=r"auth\.json: not valid JSON"):
        other.import_(filled.drift_dir)
    [problem] = filled.verify().problems  # listed as a problem, not a crash
    assert problem.path == ".drift/patterns/auth.json" and "recursion" in problem.problem


@pytest.mark.sqlite_only
def test_export_refuses_a_category_that_would_name_a_file_elsewhere(
    filled: driftstore.PatternStore, root: Path
) -> None:
    raw = apsw.Connection(str(root / ".drift" / "drift.db"))
    with raw:  # a deliberate edit: its digests are renewed, or export would refuse it
        raw.execute("UPDATE patterns SET category = '../../escape' WHERE id = 'u1'")
        integrity.fill_digests(raw.cursor())
    raw.close()
    with pytest.raises(driftstore.IntegrityError, match=r"'\.\./\.\./escape'"):
        filled.export(root / "out")
    assert not (root.parent / "escape.json").exists()
