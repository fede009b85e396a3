"""Writer: every write method, as a user of the interface sees its effect."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

from driftstore.engine.base import Engine, HistoryRecord, PatternWrite, StatusChange
from driftstore.model.clock import now_iso, parse_iso
from driftstore.model.enums import HistoryAction, Scope, Status
from driftstore.model.records import Example, Variant
from tests.engine.contract.conftest import Stores
from tests.engine.contract.data import as_stored, content, pattern, put, rich_pattern
from tests.engine.contract.kits import EngineKit


def test_put_inserts_then_replaces(engine: Engine, kit: EngineKit) -> None:
    first = rich_pattern("r1")
    created = put(engine, first)
    assert kit.raw_stamp(engine, "r1", "created_at") == created
    assert kit.raw_stamp(engine, "r1", "updated_at") == created
    second = pattern("r1", name="Renamed", files=["only.ts"], description="new")
    updated = put(engine, second)
    with engine.read() as r:
        assert r.count() == 1
        assert r.pattern("r1") == as_stored(second)
        assert [pid for pid, _, _ in r.file_locations("src/a.ts")] == []
        assert r.pattern_files("r1") == ["only.ts"]
        assert r.scan_states()["r1"].content_hash == "hash-r1-Renamed"
    # created_at=None keeps the stored creation time; updated_at is the write's
    assert kit.raw_stamp(engine, "r1", "created_at") == created
    assert kit.raw_stamp(engine, "r1", "updated_at") == updated
    put(engine, second, created_at="2020-01-01T00:00:00.000Z")
    assert kit.raw_stamp(engine, "r1", "created_at") == "2020-01-01T00:00:00.000Z"


def test_a_new_pattern_without_created_at_is_created_at_its_update_time(
    engine: Engine, kit: EngineKit
) -> None:
    with engine.write() as w:
        w.put_patterns([PatternWrite(pattern("p"), None, "2026-03-03T00:00:00.000Z")])
    assert kit.raw_stamp(engine, "p", "created_at") == "2026-03-03T00:00:00.000Z"
    with engine.read() as r:
        assert r.scan_states()["p"].content_hash is None


def test_echoes_are_kept_with_the_pattern_until_a_write_without_one(engine: Engine) -> None:
    with engine.write() as w:
        w.put_patterns(
            [
                PatternWrite(pattern("e1"), "h1", w.now, echo="echo-1 h1"),
                PatternWrite(pattern("e2"), "h2", w.now),
            ]
        )
        w.remember_echoes([("e2", "echo-2 h2"), ("ghost", "echo-3 h3")])
    with engine.read() as r:
        states = r.scan_states()
        assert (states["e1"].echo, states["e2"].echo) == ("echo-1 h1", "echo-2 h2")
        assert "ghost" not in states
    with engine.write() as w:  # a write from anywhere but a scan file replaces it
        w.put_patterns([PatternWrite(pattern("e1", name="Renamed"), "h9", w.now)])
        w.touch_last_seen([("e2", "2027-01-01T00:00:00.000Z")])
    with engine.read() as r:
        states = r.scan_states()
        assert states["e1"].echo is None
        assert states["e2"] == ("discovered", "h2", "2027-01-01T00:00:00.000Z", "echo-2 h2")


def test_a_location_summary_lasts_exactly_as_long_as_its_rows(engine: Engine) -> None:
    first = rich_pattern("s1")
    with engine.write() as w:
        w.put_patterns([PatternWrite(first, "h1", w.now, locations_hash="lh1")])
        w.put_patterns([PatternWrite(pattern("s2"), "h2", w.now)])
    with engine.read() as r:
        found = r.location_summaries(["s1", "s2", "ghost"])
    outliers = len(first.outliers) + sum(1 for x in first.locations if x.is_outlier is True)
    assert found == {"s1": ("lh1", len(first.locations), outliers)}
    renamed = rich_pattern("s1")
    renamed.name = "Renamed"
    with engine.write() as w:  # rows kept: so is their summary
        w.put_patterns([PatternWrite(renamed, "h3", w.now, locations=False)])
    with engine.read() as r:
        assert r.location_summaries(["s1"]) == found
    with engine.write() as w:  # rows written again without a hash: no summary
        w.put_patterns([PatternWrite(pattern("s1", files=["x.ts"]), "h4", w.now)])
    with engine.read() as r:
        assert r.location_summaries(["s1"]) == {}


def test_put_without_locations_keeps_the_stored_rows(engine: Engine) -> None:
    original = rich_pattern("r1")
    put(engine, original)
    with engine.read() as r:
        before = r.file_locations("src/a.ts")
    renamed = rich_pattern("r1")
    renamed.name = "Renamed"
    renamed.status = Status.APPROVED
    renamed.locations = renamed.locations[:1]  # what it carries is not written
    put(engine, renamed, locations=False)
    with engine.read() as r:
        got = r.pattern("r1")
        assert r.file_locations("src/a.ts") == before
    assert got is not None
    assert (got.name, got.status) == ("Renamed", Status.APPROVED)
    assert got.locations == as_stored(original).locations
    assert got.outliers == as_stored(original).outliers


def test_the_layout_is_stored_with_the_row(engine: Engine) -> None:
    put(engine, pattern("a"), layout='{"keys": ["id"]}')
    with engine.read() as r:
        assert r.layouts() == {"a": '{"keys": ["id"]}'}
        assert r.pattern_states()["a"].layout == '{"keys": ["id"]}'
    put(engine, pattern("a"))  # a rewrite without one keeps none
    with engine.read() as r:
        assert r.layouts() == {}


def test_a_batch_may_name_one_id_twice_and_the_last_one_wins(engine: Engine) -> None:
    put(engine, pattern("old"))
    put(
        engine,
        pattern("new", name="first", files=["1.ts"]),
        pattern("old", name="first"),
        pattern("new", name="second", files=["2.ts"]),
        pattern("old", name="second"),
    )
    with engine.read() as r:
        assert [(p.id, p.name) for p in r.patterns()] == [("new", "second"), ("old", "second")]
        assert r.pattern_files("new") == ["2.ts"]
        assert r.file_locations("1.ts") == []
        assert r.count() == 2


def test_delete_removes_children_and_keeps_history(engine: Engine, kit: EngineKit) -> None:
    put(engine, rich_pattern("gone"), pattern("kept", files=["src/a.ts"]))
    with engine.write() as w:
        w.add_variant(Variant(pattern_id="gone", scope=Scope.GLOBAL))
        w.add_example(Example(pattern_id="gone", file="g.ts", code="g"))
        kept_v = w.add_variant(Variant(pattern_id="kept", scope=Scope.GLOBAL))
        w.record_history([HistoryRecord("gone", HistoryAction.CREATED, None, {"x": 1}, w.now)])
    with engine.write() as w:
        w.delete_patterns(["gone", "never-there"])
        w.delete_patterns([])
        assert w.pattern("gone") is None  # visible inside the write already
    with engine.read() as r:
        assert [p.id for p in r.patterns()] == ["kept"]
        assert [pid for pid, _, _ in r.file_locations("src/a.ts")] == ["kept"]
        assert r.pattern_files("gone") == []
        assert r.variants() == [kept_v]
        assert r.examples() == []
        assert [e.pattern_id for e in r.history()] == ["gone"]
        assert r.known_ids(["gone"]) == {"gone"}
    assert kit.raw_count(engine, "patterns") == 1
    assert kit.raw_count(engine, "pattern_locations") == 1
    assert kit.raw_count(engine, "pattern_variants") == 1
    assert kit.raw_count(engine, "pattern_examples") == 0
    assert kit.raw_count(engine, "pattern_history") == 1


def test_a_deleted_id_can_be_stored_again(engine: Engine) -> None:
    put(engine, rich_pattern("p"))
    with engine.write() as w:
        w.delete_patterns(["p"])
        w.put_patterns([PatternWrite(pattern("p", files=["z.ts"]), "h", w.now)])
    with engine.read() as r:
        assert r.pattern_files("p") == ["z.ts"]
        assert r.file_locations("src/a.ts") == []


def test_status_moves_and_approval_stamps(engine: Engine, kit: EngineKit) -> None:
    put(engine, pattern("a"), pattern("b"), pattern("c"))
    with engine.write() as w:
        w.set_statuses(
            [
                StatusChange("a", Status.APPROVED, "2026-05-05T05:05:05.005Z", approved_by="ana"),
                StatusChange("b", Status.IGNORED, "2026-05-05T05:05:05.005Z"),
            ]
        )
        w.set_statuses([])
    with engine.read() as r:
        states = r.pattern_states()
        a, b, c = r.patterns(["a", "b", "c"])
    assert (states["a"].status, states["a"].approved_at, states["a"].approved_by) == (
        "approved",
        "2026-05-05T05:05:05.005Z",
        "ana",
    )
    assert (a.status, a.metadata.approved_at, a.metadata.approved_by) == (
        Status.APPROVED,
        "2026-05-05T05:05:05.005Z",
        "ana",
    )
    assert (states["b"].status, states["b"].approved_at, states["b"].approved_by) == (
        "ignored",
        None,
        None,
    )
    assert b.status == Status.IGNORED and c.status == Status.DISCOVERED
    assert kit.raw_stamp(engine, "a", "updated_at") == "2026-05-05T05:05:05.005Z"
    with engine.write() as w:  # an approval without a name stamps the time alone
        w.set_statuses([StatusChange("b", Status.APPROVED, "2026-06-06T00:00:00.000Z")])
    with engine.read() as r:
        state = r.pattern_states()["b"]
        assert (state.status, state.approved_at, state.approved_by) == (
            "approved",
            "2026-06-06T00:00:00.000Z",
            None,
        )


def test_touch_last_seen_changes_only_last_seen(engine: Engine) -> None:
    rich = rich_pattern("r")
    put(engine, rich, pattern("other"))
    with engine.write() as w:
        w.touch_last_seen([("r", "2026-09-09T09:09:09.009Z")])
        w.touch_last_seen([])
    with engine.read() as r:
        got = r.pattern("r")
        assert r.scan_states()["r"].last_seen == "2026-09-09T09:09:09.009Z"
        assert r.scan_states()["other"].last_seen == "2026-05-01T12:00:00.000Z"
    expected = as_stored(rich)
    expected.metadata.last_seen = "2026-09-09T09:09:09.009Z"
    assert got == expected


def test_export_state_and_meta_are_set_replaced_and_dropped(engine: Engine) -> None:
    with engine.write() as w:
        w.put_export_state("api", "v2", "", "c1", "t1")
        w.put_export_state("api", "v2", "", "c2", "t2")
        w.put_export_state("auth", "v2", "", "c3", "t3")
        w.put_meta("t:a", "1")
        w.put_meta("t:a", "2")
        w.put_meta("t:b", "x")
    with engine.read() as r:
        assert r.export_states("v2") == {("api", ""): ("c2", "t2"), ("auth", ""): ("c3", "t3")}
        assert r.meta("t:") == {"a": "2", "b": "x"}
    with engine.write() as w:
        w.drop_export_state("api", "v2", "")
        w.drop_export_state("api", "v9", "")  # nothing there: nothing happens
        w.put_meta("t:b", None)
        w.put_meta("t:none", None)
    with engine.read() as r:
        assert r.export_states("v2") == {("auth", ""): ("c3", "t3")}
        assert r.meta("t:") == {"a": "2"}


def _load(engine: Engine, bulk: bool) -> None:
    batch = [rich_pattern(f"r{i:03}", category=["api", "auth"][i % 2]) for i in range(120)]
    batch += [pattern(f"p{i:03}", files=[f"f{i % 7}.ts"] * (i % 4)) for i in range(300)]
    with engine.write() as w:
        stored = w.count()
        if bulk:
            w.bulk_load()
            w.bulk_load()  # saying it twice is harmless
        for start in range(0, len(batch), 50):
            w.put_patterns(
                [
                    PatternWrite(p, f"h{p.id}", w.now, created_at="t")
                    for p in batch[start : start + 50]
                ]
            )
        # a bulk load's writes are visible to reads inside it, like any other
        assert w.count() == stored + len(batch)
        assert [pid for pid, _, _ in w.file_locations("f3.ts")][:1] == ["p003"]
        assert w.pattern("r007") == as_stored(rich_pattern("r007", category="auth"))


def _index_view(engine: Engine) -> dict[str, Any]:
    with engine.read() as r:
        return {
            "runs": [(pid, count) for pid, _, count in r.location_runs()],
            "files": sorted(file for file, _ in r.file_rowids()),
        }


def test_a_bulk_load_reads_back_like_ordinary_puts(stores: Stores) -> None:
    plain, bulk = stores.open("plain"), stores.open("bulk")
    _load(plain, bulk=False)
    _load(bulk, bulk=True)
    assert content(bulk) == content(plain)
    assert _index_view(bulk) == _index_view(plain)
    assert bulk.check_integrity() == []
    with bulk.read() as r:
        assert r.row_problems() == []
    # and the store goes on like any other: replace, delete
    put(bulk, pattern("r001", files=["x.ts"]))
    put(plain, pattern("r001", files=["x.ts"]))
    assert content(bulk) == content(plain)


def test_a_bulk_load_may_put_an_id_twice(engine: Engine) -> None:
    with engine.write() as w:
        w.bulk_load()
        w.put_patterns([PatternWrite(rich_pattern("a"), "h1", w.now)])
        w.put_patterns([PatternWrite(pattern("a", name="again", files=["z.ts"]), "h2", w.now)])
    with engine.read() as r:
        got = r.pattern("a")
        assert r.file_locations("src/a.ts") == []
        assert r.row_problems() == []
    assert got == as_stored(pattern("a", name="again", files=["z.ts"]))


def test_a_bulk_load_rolls_back_whole(engine: Engine, kit: EngineKit) -> None:
    expected = content(engine)
    generation = engine.generation()
    with pytest.raises(RuntimeError), engine.write() as w:
        w.bulk_load()
        w.put_patterns([PatternWrite(rich_pattern(f"r{i}"), None, w.now) for i in range(50)])
        raise RuntimeError("stop")
    assert content(engine) == expected
    assert engine.generation() == generation
    assert kit.raw_count(engine, "patterns") == kit.raw_count(engine, "pattern_locations") == 0
    _load(engine, bulk=True)  # and a bulk load after it works as the first would have
    with engine.read() as r:
        assert r.count() == 420
        assert r.row_problems() == []
    assert engine.check_integrity() == []


def test_now_is_taken_inside_the_transaction(engine: Engine) -> None:
    before = now_iso()
    with engine.write() as w:
        now = w.now
        assert w.now == now  # one moment for the whole transaction
    after = now_iso()
    assert before <= now <= after
    assert parse_iso(now).tzinfo is not None

    # a write that waits for another one gets a moment after the other one's end
    holding = threading.Event()
    ended: list[str] = []

    def first() -> None:
        with engine.write() as w:
            w.put_patterns([PatternWrite(pattern("first"), None, w.now)])
            holding.set()
            time.sleep(0.05)
            ended.append(now_iso())

    thread = threading.Thread(target=first)
    thread.start()
    assert holding.wait(5)
    with engine.write() as w:
        second = w.now
    thread.join()
    assert second >= ended[0]
