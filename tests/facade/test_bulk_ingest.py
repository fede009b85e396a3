"""The bulk path of an ingest into an empty store (indexes rebuilt at the end, locations
written many per INSERT) must store exactly what the row-by-row merge stores."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import driftstore
from driftstore import InvalidInputError, Location, Pattern
from driftstore.engine.rows import LOCATION_COLUMNS, location_rows
from driftstore.engine.sqlite import patterns as pattern_sql
from driftstore.engine.sqlite.connection import Database
from tests.factories import entry, make_pattern
from tests.sqlite_access import database

#: these tests read and edit SQLite's own rows and indexes
pytestmark = pytest.mark.sqlite_only

_LOCATIONS = f"SELECT {', '.join(LOCATION_COLUMNS)} FROM pattern_locations WHERE pattern_id = ?"
_SCHEMA = "SELECT type, name, tbl_name, sql FROM sqlite_schema WHERE name NOT LIKE 'sqlite_%'"


def _patterns(sizes: list[tuple[int, int]]) -> list[Pattern]:
    """Patterns with the given (locations, outliers) counts; some locations carry the
    optional fields, so every column of a row is exercised."""
    out = []
    for index, (count, outliers) in enumerate(sizes):
        p = make_pattern(
            f"p{index}",
            files=[f"src/f{(index * 7 + i) % 13}.ts" for i in range(count)],
            outlier_files=[f"src/o{i}.ts" for i in range(outliers)],
        )
        for i, loc in enumerate(p.locations):
            if i % 5 == 1:
                loc.is_outlier = True
                loc.outlier_reason = "odd"
                loc.confidence = 0.25
            elif i % 5 == 3:
                loc.is_outlier = False
                loc.end_line = loc.line + 2
                loc.snippet = "call()"
        out.append(p)
    return out


def _stored(root: Path, ids: list[str]) -> dict[str, list[tuple[Any, ...]]]:
    """Each pattern's location rows in id order, as SQLite hands them back."""
    with driftstore.open(root) as store, database(store).reader() as conn:
        return {
            pid: [tuple(r) for r in conn.execute(_LOCATIONS + " ORDER BY id", (pid,))]
            for pid in ids
        }


def _schema(root: Path) -> set[tuple[Any, ...]]:
    with driftstore.open(root) as store:
        return {tuple(r) for r in database(store).query(_SCHEMA)}


sizes = st.lists(st.tuples(st.integers(0, 300), st.integers(0, 3)), min_size=1, max_size=8)


@settings(max_examples=15)
@given(sizes=sizes)
def test_a_bulk_load_stores_the_rows_a_merge_into_a_non_empty_store_stores(
    tmp_path_factory: pytest.TempPathFactory, sizes: list[tuple[int, int]]
) -> None:
    bulk_root = tmp_path_factory.mktemp("bulk")
    merge_root = tmp_path_factory.mktemp("merge")
    with driftstore.open(merge_root) as store:  # not empty: the row-by-row path
        store.ingest([make_pattern("seed", files=["seed.ts"])])
    for root in (bulk_root, merge_root):
        with driftstore.open(root) as store:
            report = store.ingest(_patterns(sizes))
        assert report.added == len(sizes)
    ids = [f"p{i}" for i in range(len(sizes))]
    assert _stored(bulk_root, ids) == _stored(merge_root, ids)
    with driftstore.open(bulk_root) as store:
        for p in _patterns(sizes):
            got = store.get(p.id)
            assert got is not None
            assert (got.locations, got.outliers) == (p.locations, p.outliers)
        assert [x.id for x in store.by_file("src/f1.ts")] == sorted(
            p.id for p in _patterns(sizes) if any(loc.file == "src/f1.ts" for loc in p.locations)
        )


@settings(max_examples=10)
@given(counts=st.lists(st.integers(0, 700), min_size=1, max_size=6), pending=st.integers(1, 400))
def test_bulk_rows_keep_their_order_across_statement_and_flush_boundaries(
    tmp_path_factory: pytest.TempPathFactory, counts: list[int], pending: int
) -> None:
    db = Database(tmp_path_factory.mktemp("engine") / "drift.db")
    try:
        patterns = _patterns([(n, n % 3) for n in counts])
        with db.transaction() as cur:
            bulk = pattern_sql.BulkLocations(cur, pending_rows=pending)
            for p in patterns:
                pattern_sql.insert_pattern(
                    cur, p, content_hash=None, created_at="t", updated_at="t", bulk=bulk
                )
            bulk.flush()
        with db.reader() as conn:
            ids = [r[0] for r in conn.execute("SELECT id FROM pattern_locations ORDER BY id")]
            assert ids == sorted(set(ids)) and len(ids) == sum(
                len(location_rows(p)) for p in patterns
            )
            for p in patterns:
                assert [tuple(r) for r in conn.execute(_LOCATIONS + " ORDER BY id", (p.id,))] == [
                    tuple(v) for v in location_rows(p)
                ]
    finally:
        db.close()


def test_after_a_bulk_load_every_index_is_back_as_it_was(tmp_path: Path) -> None:
    root = tmp_path / "project"
    root.mkdir()
    before = _schema(root)
    assert any(name.startswith("idx_patterns_sort_") for _t, name, _tb, _s in before)
    scan = tmp_path / "scan.ndjson"
    scan.write_text(
        "\n".join(json.dumps(entry(f"p{i}", files=[f"f{i % 3}.ts", "all.ts"])) for i in range(40))
    )
    with driftstore.open(root) as store:
        assert store.ingest(scan).added == 40
        plan = str(
            database(store).query(
                "EXPLAIN QUERY PLAN SELECT id FROM patterns ORDER BY name, id LIMIT 5 OFFSET 10"
            )
        )
        assert "idx_patterns_sort_name" in plan
        assert [p.id for p in store.query(sort="name", limit=3).patterns] == ["p0", "p1", "p10"]
        assert len(store.by_file("all.ts")) == 40
    assert _schema(root) == before


def test_a_failed_bulk_load_rolls_back_the_dropped_indexes_too(tmp_path: Path) -> None:
    root = tmp_path / "project"
    root.mkdir()
    before = _schema(root)
    bad = entry("z", files=["z.ts"])
    bad["locations"][0]["column"] = "left"
    scan = tmp_path / "scan.ndjson"
    scan.write_text(
        "\n".join(
            json.dumps(e) for e in [*(entry(f"p{i}", files=["a.ts"]) for i in range(300)), bad]
        )
    )
    with driftstore.open(root) as store:
        with pytest.raises(InvalidInputError, match=r"line 301 \(id 'z'\): locations\[0\]\.column"):
            store.ingest(scan)
        assert store.count() == 0 and store.history() == []
        assert database(store).query("SELECT count(*) FROM pattern_locations") == [(0,)]
    assert _schema(root) == before


def test_locations_with_every_optional_field_survive_the_bulk_path(
    store: driftstore.PatternStore,
) -> None:
    full = Location(
        file="a/b.ts",
        line=3,
        column=4,
        end_line=5,
        end_column=6,
        is_outlier=True,
        confidence=0.5,
        outlier_reason="why",
        reason="also",
        deviation_score=0.75,
        snippet="x()",
        original_file="a\\b.ts",
        extras={"vendor": [1, 2]},
    )
    p = make_pattern("full", files=[])
    p.locations = [full] * 130  # crosses one multi-row statement
    p.outliers = [Location(file="c.ts", line=1, column=0, outlier_reason="kept", extras={"k": 1})]
    store.ingest([p])
    got = store.get("full")
    assert got is not None
    assert got.locations == [full] * 130
    assert got.outliers == p.outliers
