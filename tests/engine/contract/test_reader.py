"""Reader: one pattern, many patterns, id lookups, per-pattern states, files, bookkeeping."""

from __future__ import annotations

from typing import Any

import pytest

from driftstore.engine.base import (
    EXPORT_FULL_COLUMNS,
    EXPORT_LEAN_COLUMNS,
    Engine,
    HistoryRecord,
    PatternState,
    ScanState,
)
from driftstore.model.enums import HistoryAction, Status
from driftstore.model.query import PatternFilter, Sort
from tests.engine.contract.data import as_stored, pattern, put, rich_pattern

FLAG_OUTLIERS_LIST = 1  # the `flag` column's bit for a row of the outliers list


def test_a_fresh_store_reads_empty(engine: Engine) -> None:
    with engine.read() as r:
        assert r.count() == 0
        assert r.patterns() == []
        assert r.pattern("p1") is None
        assert r.existing_ids(["p1"]) == set()
        assert r.known_ids(["p1"]) == set()
        assert r.ids_with_prefix("", limit=10) == []
        assert r.scan_states() == {}
        assert r.pattern_states() == {}
        assert r.ids_by_category() == {}
        assert r.pattern_files("p1") == []
        assert r.file_locations("src/a.ts") == []
        assert r.stats() == r.fresh_stats() == []
        assert r.history() == []
        assert r.variants() == r.examples() == []
        assert r.layouts() == {}
        assert r.export_states("v2") == {}
        assert r.category_patterns("api") == []
        assert list(r.category_rows("api", tuple)) == []
        assert r.location_runs() == []
        assert list(r.file_rowids()) == []
        assert r.row_problems() == []
        r.require_intact()
        page = r.query(PatternFilter(), Sort())
        assert (page.patterns, page.total, page.has_more, page.next_cursor) == ([], 0, False, None)
    assert engine.check_integrity() == []


def test_the_engine_keeps_its_own_bookkeeping_out_of_meta(engine: Engine) -> None:
    """meta() and put_meta() are the facade's: the engine's own values (its generation,
    its change log) are neither listed nor writable through them."""
    put(engine, pattern("p1"))
    with engine.read() as r:
        assert r.meta("") == {}
    generation = engine.generation()
    for key in ("generation", "changes-reset"):
        with pytest.raises(ValueError), engine.write() as w:
            w.put_meta(key, "0")
    assert engine.generation() == generation


def test_a_pattern_reads_back_as_written(engine: Engine) -> None:
    rich = rich_pattern("r1")
    plain = pattern("p2", files=["src/a.ts"], description="plain one")
    put(engine, rich, plain)
    with engine.read() as r:
        assert r.pattern("r1") == as_stored(rich)
        assert r.pattern("p2") == as_stored(plain)
        head = r.pattern("r1", with_locations=False)
    assert head is not None
    assert head.locations == [] and head.outliers == []
    expected = as_stored(rich)
    expected.locations, expected.outliers = [], []
    assert head == expected


def test_patterns_come_in_the_order_asked_and_skip_missing_ids(engine: Engine) -> None:
    put(engine, *(pattern(pid, files=[f"{pid}.ts"]) for pid in ("b", "c", "a")))
    with engine.read() as r:
        assert [p.id for p in r.patterns(["c", "missing", "a"])] == ["c", "a"]
        assert [p.id for p in r.patterns()] == ["a", "b", "c"]
        assert r.patterns([]) == []
        assert [len(p.locations) for p in r.patterns(["b", "a"])] == [1, 1]
        assert [p.locations for p in r.patterns(with_locations=False)] == [[], [], []]
        assert r.patterns(["a"]) == [r.pattern("a")]


def test_existing_ids_and_known_ids(engine: Engine) -> None:
    put(engine, pattern("kept"), pattern("gone"))
    with engine.write() as w:
        w.delete_patterns(["gone"])
        w.record_history(
            [
                HistoryRecord("gone", HistoryAction.DELETED, {"name": "gone"}, None, w.now),
                HistoryRecord("ghost", HistoryAction.CREATED, None, {"name": "x"}, w.now),
            ]
        )
    asked = ["kept", "gone", "ghost", "never"]
    with engine.read() as r:
        assert r.existing_ids(asked) == {"kept"}
        assert r.known_ids(asked) == {"kept", "gone", "ghost"}
        assert r.existing_ids([]) == r.known_ids([]) == set()


def test_many_ids_are_looked_up_at_once(engine: Engine) -> None:
    """Id lists longer than any one statement's parameter budget still work."""
    put(engine, *(pattern(f"p{i:04}") for i in range(0, 1500, 3)))
    asked = [f"p{i:04}" for i in range(1500)]
    with engine.read() as r:
        expected = {f"p{i:04}" for i in range(0, 1500, 3)}
        assert r.existing_ids(asked) == expected
        assert r.known_ids(asked) == expected
        assert [p.id for p in r.patterns(list(reversed(asked)), with_locations=False)] == sorted(
            expected, reverse=True
        )


def test_ids_with_prefix_is_sorted_limited_and_literal(engine: Engine) -> None:
    put(engine, *(pattern(pid) for pid in ("ab2", "ab1", "abc", "b", "a", "a.1", "ax")))
    with engine.read() as r:
        assert r.ids_with_prefix("ab", limit=10) == ["ab1", "ab2", "abc"]
        assert r.ids_with_prefix("ab", limit=2) == ["ab1", "ab2"]
        assert r.ids_with_prefix("", limit=3) == ["a", "a.1", "ab1"]
        assert r.ids_with_prefix("a", limit=100) == ["a", "a.1", "ab1", "ab2", "abc", "ax"]
        assert r.ids_with_prefix("abc", limit=5) == ["abc"]
        assert r.ids_with_prefix("zz", limit=5) == []
        # the prefix is text, not a pattern: no wildcard matches anything
        assert r.ids_with_prefix("a%", limit=5) == []
        assert r.ids_with_prefix("a_", limit=5) == []
        assert r.ids_with_prefix("a*", limit=5) == []


def test_count_scan_states_and_pattern_states(engine: Engine) -> None:
    first = pattern("p1", last_seen="2026-05-02T00:00:00.000Z")
    second = pattern("p2", first_seen="2026-04-01T00:00:00.000Z")
    put(engine, first, layout="legacy-layout")
    put(engine, second)
    with engine.write() as w:
        w.put_patterns([])  # an empty batch is allowed
    with engine.read() as r:
        assert r.count() == 2
        assert r.scan_states() == {
            "p1": ScanState("discovered", "hash-p1-Pattern p1", "2026-05-02T00:00:00.000Z"),
            "p2": ScanState("discovered", "hash-p2-Pattern p2", "2026-05-01T12:00:00.000Z"),
        }
        assert r.pattern_states() == {
            "p1": PatternState(
                "discovered",
                "hash-p1-Pattern p1",
                None,
                None,
                "2026-05-01T12:00:00.000Z",
                "2026-05-02T00:00:00.000Z",
                "legacy-layout",
            ),
            "p2": PatternState(
                "discovered",
                "hash-p2-Pattern p2",
                None,
                None,
                "2026-04-01T00:00:00.000Z",
                "2026-05-01T12:00:00.000Z",
                None,
            ),
        }


def test_ids_by_category_sorts_categories_and_ids(engine: Engine) -> None:
    put(
        engine,
        pattern("z1", category="auth"),
        pattern("b2", category="api"),
        pattern("a9", category="auth"),
        pattern("a1", category="api"),
        pattern("m", category="config"),
    )
    with engine.read() as r:
        found = r.ids_by_category()
    assert list(found) == ["api", "auth", "config"]
    assert found == {"api": ["a1", "b2"], "auth": ["a9", "z1"], "config": ["m"]}


def test_pattern_files_lists_each_file_once(engine: Engine) -> None:
    put(engine, rich_pattern("r1"), pattern("other", files=["src/zzz.ts"]))
    with engine.read() as r:
        files = r.pattern_files("r1")
        assert len(files) == len(set(files))
        assert set(files) == {"src/a.ts", "src/b.ts", "src/c.ts", "src/d.ts", "src/e.ts"}
        assert r.pattern_files("missing") == []


def test_file_locations_are_in_stored_order_with_their_list_kind(engine: Engine) -> None:
    one = pattern("one", files=["f.ts", "g.ts", "f.ts"], outlier_files=["f.ts"])
    two = pattern("two", files=["f.ts"])
    put(engine, one)
    put(engine, two)
    with engine.read() as r:
        found = r.file_locations("f.ts")
        assert [(pid, kind, loc.line) for pid, kind, loc in found] == [
            ("one", 0, 1),
            ("one", 0, 3),
            ("one", 1, 100),
            ("two", 0, 1),
        ]
        assert found[2][2].reason == "breaks it"
        assert [pid for pid, _, _ in r.file_locations("g.ts")] == ["one"]
        assert r.file_locations("F.ts") == []  # exact match, no case folding
    # rewriting a pattern's locations stores them anew, after the ones already there
    one.locations[0].line = 50
    put(engine, one)
    with engine.read() as r:
        assert [(pid, loc.line) for pid, _, loc in r.file_locations("f.ts")] == [
            ("two", 1),
            ("one", 50),
            ("one", 3),
            ("one", 100),
        ]


def test_file_locations_cover_every_shape_of_location(engine: Engine) -> None:
    rich = rich_pattern("r1")
    put(engine, rich)
    stored = as_stored(rich)
    with engine.read() as r:
        for file in {loc.file for loc in rich.all_locations()}:
            expected = [(("r1", 0, loc)) for loc in stored.locations if loc.file == file] + [
                ("r1", 1, loc) for loc in stored.outliers if loc.file == file
            ]
            assert r.file_locations(file) == expected


def test_layouts_export_states_and_meta(engine: Engine) -> None:
    put(engine, pattern("a"), layout='{"v": 1}')
    put(engine, pattern("b"))
    with engine.write() as w:
        w.put_export_state("api", "v2", "", "sum1", "2026-05-01T00:00:00.000Z")
        w.put_export_state("api", "v1", "approved", "sum2", "2026-05-02T00:00:00.000Z")
        w.put_export_state("auth", "v1", "approved", "sum3", "2026-05-03T00:00:00.000Z")
        w.put_meta("t:one", "1")
        w.put_meta("t:two/ü", "2")
        w.put_meta("other", "3")
    with engine.read() as r:
        assert r.layouts() == {"a": '{"v": 1}'}
        assert r.export_states("v2") == {("api", ""): ("sum1", "2026-05-01T00:00:00.000Z")}
        assert r.export_states("v1") == {
            ("api", "approved"): ("sum2", "2026-05-02T00:00:00.000Z"),
            ("auth", "approved"): ("sum3", "2026-05-03T00:00:00.000Z"),
        }
        assert r.export_states("v3") == {}
        assert r.meta("t:") == {"one": "1", "two/ü": "2"}
        assert r.meta("t:t") == {"wo/ü": "2"}
        assert r.meta("") == {"t:one": "1", "t:two/ü": "2", "other": "3"}
        assert r.meta("t%") == {}


def test_category_patterns_are_whole_and_by_id(engine: Engine) -> None:
    rich = rich_pattern("r2", category="api")
    plain = pattern("p1", category="api", files=["x.ts"])
    put(engine, rich, plain, pattern("z", category="auth"))
    with engine.read() as r:
        assert r.category_patterns("api") == [as_stored(plain), as_stored(rich)]
        assert [p.id for p in r.category_patterns("auth")] == ["z"]
        assert r.category_patterns("none") == []


def _rows(columns: tuple[str, ...]) -> Any:
    return lambda *values: dict(zip(columns, values, strict=True))


def test_category_rows_and_pattern_rows_give_the_stored_locations(engine: Engine) -> None:
    rich = rich_pattern("r2")
    plain = pattern("p1", files=["x.ts", "y.ts"], outlier_files=["x.ts"])
    put(engine, rich, plain, pattern("z", category="auth", files=["q.ts"]))
    with engine.read() as r:
        got = list(r.category_rows("api", _rows(EXPORT_LEAN_COLUMNS)))
        assert [p.id for p, _ in got] == ["p1", "r2"]
        for head, rows in got:
            stored = as_stored(rich if head.id == "r2" else plain)
            assert head.locations == [] and head.outliers == []
            assert head.name == stored.name and head.confidence == stored.confidence
            expected = [(loc, 0) for loc in stored.locations] + [
                (loc, 1) for loc in stored.outliers
            ]
            assert [(row["file"], row["line"], row["column"]) for row in rows] == [
                (loc.file, loc.line, loc.column) for loc, _ in expected
            ]
            assert [bool((row["flag"] or 0) & FLAG_OUTLIERS_LIST) for row in rows] == [
                kind == 1 for _, kind in expected
            ]
            full = r.pattern_rows(head.id, _rows(EXPORT_FULL_COLUMNS))
            assert [(row["file"], row["line"], row["column"]) for row in full] == [
                (loc.file, loc.line, loc.column) for loc, _ in expected
            ]
        full = r.pattern_rows("r2", _rows(EXPORT_FULL_COLUMNS))
        snippets = [(row["snippet"], row["end_line"], row["end_column"]) for row in full]
        assert ("go()", 9, 1) in snippets
        assert r.pattern_rows("missing", _rows(EXPORT_FULL_COLUMNS)) == []
        assert list(r.category_rows("none", tuple)) == []


def test_status_is_read_back_as_stored(engine: Engine) -> None:
    put(engine, pattern("p1", status=Status.IGNORED))
    with engine.read() as r:
        found = r.pattern("p1")
    assert found is not None and found.status == Status.IGNORED
