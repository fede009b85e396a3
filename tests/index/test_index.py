"""The in-memory by-file index: same answers as SQL, kept current, cheap to keep current."""

from __future__ import annotations

import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import driftstore
from driftstore import Location, Severity
from driftstore.engine import packing
from driftstore.engine.base import PatternWrite
from driftstore.index import FileIndex
from tests.conftest import REAL_DRIFT, REPO
from tests.factories import make_pattern
from tests.sqlite_access import database

PROJECTS = {
    "fvnks": REAL_DRIFT / "fvnks__finanzsaas-chile" / ".drift" / "patterns" / "discovered",
    "aionui": REAL_DRIFT / "jrmatherly__aionui" / ".drift" / "patterns" / "approved",
}


def files_of(store: driftstore.PatternStore) -> list[str]:
    found: set[str] = set()
    for summary in store.query().patterns:
        pattern = store.require(summary.id)
        found.update(loc.file for loc in (*pattern.locations, *pattern.outliers))
    return sorted(found)


def assert_index_matches_sql(store: driftstore.PatternStore, files: list[str]) -> None:
    for f in files:
        for include in (False, True):
            assert store.by_file(f, include_disabled=include) == store.by_file(
                f, include_disabled=include, fresh=True
            ), f


def _without_effective(p: Any) -> dict[str, Any]:
    data: dict[str, Any] = driftstore.to_builtins(p)
    data.pop("effective", None)
    return data


@pytest.mark.parametrize("name", sorted(PROJECTS))
def test_answers_equal_whole_patterns_cut_to_the_file_on_real_data(
    name: str, store: driftstore.PatternStore
) -> None:
    for shard in sorted(PROJECTS[name].glob("*.json")):
        store.ingest(shard)
    files = files_of(store)
    assert len(files) > 20
    for f in files:
        got = store.by_file(f)
        assert got, f
        expected = []
        for p in got:
            whole = store.get(p.id)
            assert whole is not None
            whole.locations = [loc for loc in whole.locations if loc.file == f]
            whole.outliers = [loc for loc in whole.outliers if loc.file == f]
            expected.append(_without_effective(whole))
        assert [_without_effective(p) for p in got] == expected
        assert got == store.by_file(f, fresh=True)
    index = store._file_index()
    assert index.stats()["builds"] == 1


def test_the_packed_layout_is_the_one_the_hot_loop_spells_out() -> None:
    # RowTable.patterns_in writes these as literals for speed
    assert (packing.SIDE_BIT, packing.OUTLIER_SHIFT, packing.KIND_SHIFT, packing.BACKSLASH_BIT) == (
        1,
        1,
        3,
        16,
    )
    assert (packing.COLUMN_SHIFT, packing.COLUMN_MASK, packing.LINE_SHIFT, packing.LINE_MASK) == (
        5,
        0x1FFF,
        18,
        0xFFFFFF,
    )


def test_paths_are_normalised_before_the_lookup(store: driftstore.PatternStore) -> None:
    store.add(make_pattern("p1", files=["src\\api\\x.ts"]))
    answers = [store.by_file(p) for p in ("src/api/x.ts", "src\\api\\x.ts", "./src//api/x.ts")]
    assert answers[0] == answers[1] == answers[2]
    assert answers[0][0].locations[0].original_file == "src\\api\\x.ts"
    assert store.by_file("src/api/y.ts") == []


def test_rows_that_do_not_pack_come_back_whole(store: driftstore.PatternStore) -> None:
    p = make_pattern("p1", files=["a.ts"] * 5, outlier_files=["a.ts"])
    big, span, extra, odd, flagged = p.locations
    big.line, big.column = 2**40, 10**6
    span.end_line, span.end_column, span.snippet = 9, 4, "fetch(x)"
    extra.extras = {"customKey": [1, {"deep": True}]}
    odd.original_file = "A.TS"
    flagged.is_outlier, flagged.confidence, flagged.outlier_reason = True, 0.25, "sync"
    store.add(p)
    assert store.by_file("a.ts") == store.by_file("a.ts", fresh=True)
    got = store.by_file("a.ts")[0]
    assert got.locations[0].line == 2**40 and got.locations[2].extras == {
        "customKey": [1, {"deep": True}]
    }
    assert got.outliers[0].reason == "breaks it"


@pytest.mark.sqlite_only  # another tool writes a raw SQLite row
def test_rows_of_one_pattern_need_not_be_consecutive(store: driftstore.PatternStore) -> None:
    store.add(make_pattern("p1", files=["a.ts", "b.ts"]))
    store.add(make_pattern("p2", files=["a.ts"]))
    # another tool appends a row of p1 after p2's rows
    with database(store).transaction() as cur:
        cur.execute(
            "INSERT INTO pattern_locations (pattern_id, file, line, column_num) "
            "VALUES ('p1', 'a.ts', 77, 1)"
        )
    with driftstore.open(store.root) as other:
        answer = other.by_file("a.ts")
        assert [loc.line for loc in answer[0].locations] == [1, 77]
        assert answer == other.by_file("a.ts", fresh=True)


def test_this_process_writes_are_seen_without_a_rebuild(store: driftstore.PatternStore) -> None:
    store.add(make_pattern("p1", files=["a.ts", "b.ts"]))
    assert [p.id for p in store.by_file("a.ts")] == ["p1"]
    index = store._file_index()

    store.add(make_pattern("p2", files=["a.ts"], severity=Severity.ERROR))
    assert [p.id for p in store.by_file("a.ts")] == ["p1", "p2"]
    store.update("p1", locations=[Location(file="c.ts", line=3, column=1)])
    assert [p.id for p in store.by_file("a.ts")] == ["p2"]
    assert [p.id for p in store.by_file("c.ts")] == ["p1"]
    store.approve("p2")
    assert store.by_file("a.ts")[0].status == "approved"
    store.add_variant("p2", scope="file", path="a.ts", enabled=False)
    assert store.by_file("a.ts", include_disabled=False) == []
    assert [p.effective.enabled for p in store.by_file("a.ts", include_disabled=True)] == [False]
    store.delete("p1")
    assert store.by_file("c.ts") == []
    store.ingest([make_pattern("p3", files=["a.ts"])])
    assert [p.id for p in store.by_file("a.ts", include_disabled=False)] == ["p3"]
    assert [p.id for p in store.by_file("a.ts", include_disabled=True)] == ["p2", "p3"]
    assert index.stats()["builds"] == 1
    assert_index_matches_sql(store, ["a.ts", "b.ts", "c.ts"])


def test_a_quiet_last_seen_move_is_seen(store: driftstore.PatternStore) -> None:
    store.ingest([make_pattern("p1", files=["a.ts"])])
    assert store.by_file("a.ts")[0].metadata.last_seen == "2026-05-01T12:00:00.000Z"
    report = store.ingest(
        [make_pattern("p1", files=["a.ts"], last_seen="2026-06-01T00:00:00.000Z")]
    )
    assert report.unchanged == 1  # no history row for it
    assert store.by_file("a.ts")[0].metadata.last_seen == "2026-06-01T00:00:00.000Z"


WRITER = """
import json, sys
import driftstore
from tests.factories import entry
root, file = sys.argv[1], sys.argv[2]
with driftstore.open(root) as store:
    (store.root / "scan.json").write_text(json.dumps([entry("fromb", files=[file])]))
    store.ingest(store.root / "scan.json")
"""


def test_another_process_ingest_is_seen_on_the_next_call(store: driftstore.PatternStore) -> None:
    store.add(make_pattern("p1", files=["src/hot.ts"]))
    assert [p.id for p in store.by_file("src/hot.ts")] == ["p1"]
    done = subprocess.run(
        [sys.executable, "-c", WRITER, str(store.root), "src\\hot.ts"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    seen = store.by_file("src/hot.ts")
    assert [p.id for p in seen] == ["fromb", "p1"]
    assert seen[0].locations[0].original_file == "src\\hot.ts"
    assert store._file_index().stats()["builds"] == 1


def test_a_small_cache_evicts_but_answers_stay_right(store: driftstore.PatternStore) -> None:
    files = [f"f{i}.ts" for i in range(30)]
    store.add_many([make_pattern(f"p{i}", files=files[i : i + 5]) for i in range(25)])
    store._index = FileIndex(store.engine, cache_locations=8)
    for _ in range(2):
        assert_index_matches_sql(store, files)
    assert store._file_index().stats()["cachedLocations"] <= 8 + 5


def test_readers_in_threads_during_ingests_see_no_errors(store: driftstore.PatternStore) -> None:
    store.ingest(
        [make_pattern(f"p{i}", name="gen 0", files=["hot.ts", f"f{i}.ts"]) for i in range(20)]
    )
    errors: list[BaseException] = []
    stop = threading.Event()
    reads = [0]

    def reader() -> None:
        try:
            while not stop.is_set():
                found = store.by_file("hot.ts")
                assert len({p.name for p in found}) == 1  # never half a scan
                reads[0] += 1
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=reader) for _ in range(4)]
    for t in threads:
        t.start()
    for gen in range(8):
        store.ingest(
            [make_pattern(f"p{i}", name=f"gen {gen}", files=["hot.ts"]) for i in range(20)]
        )
    stop.set()
    for t in threads:
        t.join()
    assert errors == []
    assert reads[0] > 8
    assert {p.name for p in store.by_file("hot.ts")} == {"gen 7"}


def test_asking_a_closed_store_is_one_clear_error(root: Path) -> None:
    store = driftstore.open(root)
    store.add(make_pattern("p1", files=["a.ts"]))
    assert store.by_file("a.ts")
    store.close()
    with pytest.raises(driftstore.DriftStoreError, match="closed"):
        store.by_file("a.ts")


def test_a_restore_is_seen(store: driftstore.PatternStore) -> None:
    store.add(make_pattern("p1", files=["a.ts"]))
    backup_id = store.backup("before-p2")
    store.add(make_pattern("p2", files=["a.ts"]))
    assert [p.id for p in store.by_file("a.ts")] == ["p1", "p2"]
    store.restore(backup_id)
    assert [p.id for p in store.by_file("a.ts")] == ["p1"]


def test_a_big_rescan_rebuilds_instead_of_reloading_one_by_one(
    store: driftstore.PatternStore,
) -> None:
    files = [f"src/f{i % 7}.ts" for i in range(300)]
    store.ingest([make_pattern(f"p{i:03d}", files=[files[i]]) for i in range(300)])
    assert len(store.by_file("src/f0.ts")) == 43
    index = store._file_index()
    store.ingest([make_pattern(f"p{i:03d}", files=["src/g.ts"]) for i in range(300)])
    assert store.by_file("src/f0.ts") == []
    assert len(store.by_file("src/g.ts")) == 300
    assert index.stats()["builds"] == 2
    assert_index_matches_sql(store, ["src/f0.ts", "src/g.ts"])


def test_another_store_of_this_process_is_seen_at_once(store: driftstore.PatternStore) -> None:
    """Asks between SQLite checks (at most one a millisecond) still see a commit made by a
    second PatternStore of the same process on the same file."""
    store.add(make_pattern("p1", files=["a.ts"]))
    assert [p.id for p in store.by_file("a.ts")] == ["p1"]
    with driftstore.open(store.root) as other:
        other.add(make_pattern("p2", files=["a.ts"]))
        assert [p.id for p in store.by_file("a.ts")] == ["p1", "p2"]
        other.delete("p1")
        assert [p.id for p in store.by_file("a.ts")] == ["p2"]
    assert store._file_index().stats()["builds"] == 1


def test_patterns_rewritten_out_of_id_order_are_reloaded_not_rebuilt(
    store: driftstore.PatternStore,
) -> None:
    """A re-scan writes changed patterns in scan order, not id order: the index appends
    their new rows in rowid order instead of giving up and rebuilding."""
    ids = [f"p{i:02d}" for i in range(40)]
    store.ingest([make_pattern(pid, files=["a.ts", f"b{i}.ts"]) for i, pid in enumerate(ids)])
    assert len(store.by_file("a.ts")) == 40
    index = store._file_index()
    moved = list(reversed(ids[:8]))  # newest rowids for the smallest ids
    store.ingest([make_pattern(pid, files=["c.ts"]) for pid in moved])
    assert [p.id for p in store.by_file("c.ts")] == sorted(moved)
    assert len(store.by_file("a.ts")) == 32
    assert index.stats()["builds"] == 1
    assert_index_matches_sql(store, ["a.ts", "c.ts", "b0.ts", "b9.ts"])


_SHAPES = {
    "plain": lambda f, n: Location(file=f, line=n + 1, column=n % 7),
    "inline": lambda f, n: Location(
        file=f, line=n + 1, column=2, is_outlier=n % 5 == 0, confidence=(n % 10) / 10
    ),
    "windows": lambda f, n: Location(file=f.replace("/", "\\"), line=n + 1, column=1),
    "outlier": lambda f, n: Location(file=f, line=n + 1, column=3, outlier_reason="x"),
}


@given(
    shapes=st.lists(
        st.tuples(st.sampled_from(sorted(_SHAPES)), st.integers(1, 9), st.booleans()),
        min_size=1,
        max_size=6,
    )
)
@settings(max_examples=30, deadline=None)
def test_runs_of_one_shape_answer_like_sql(tmp_path_factory: Any, shapes: Any) -> None:
    """Runs whose rows share a shape are built in bulk: several rows per file, mixed with
    listed outliers (rows that do not pack), must still come out exactly as SQL has them."""
    root = tmp_path_factory.mktemp("shapes")
    files = ["src/a.ts", "src/sub/b.ts"]
    with driftstore.open(root) as store:
        found = []
        for i, (shape, count, listed) in enumerate(shapes):
            p = make_pattern(f"p{i}", files=[])
            p.locations = [_SHAPES[shape](files[n % 2], n) for n in range(count)]
            if listed:
                p.outliers = [Location(file=files[0], line=99, column=1, reason="r")]
            found.append(p)
        store.ingest(found)
        assert_index_matches_sql(store, files)


def test_a_write_landing_between_the_builds_two_snapshots_cannot_mix_them(
    store: driftstore.PatternStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    store.add(make_pattern("p1", files=["a.ts", "b.ts"]))
    engine = store.engine
    real_read = type(engine).read
    opened: list[int] = []

    @contextmanager
    def racing_read(self: Any) -> Iterator[Any]:
        opened.append(1)
        if len(opened) == 2:  # the build's second snapshot: a writer lands just before it
            with engine.write() as w:
                w.put_patterns([PatternWrite(make_pattern("p2", files=["a.ts"]), None, w.now)])
        with real_read(self) as r:
            yield r

    monkeypatch.setattr(type(engine), "read", racing_read)
    first = store.by_file("a.ts")
    monkeypatch.setattr(type(engine), "read", real_read)
    assert [(p.id, [loc.file for loc in p.locations]) for p in first] == [("p1", ["a.ts"])]
    assert [p.id for p in store.by_file("a.ts")] == ["p1", "p2"]
    assert store._file_index().stats()["builds"] == 1
    assert_index_matches_sql(store, ["a.ts", "b.ts"])
