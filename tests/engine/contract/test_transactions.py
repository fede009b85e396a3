"""Units of work: a write is all or nothing, reads are consistent snapshots."""

from __future__ import annotations

import threading
import time

import pytest

from driftstore.engine.base import Engine, HistoryRecord, PatternWrite, StatusChange
from driftstore.errors import DriftStoreError
from driftstore.model.enums import HistoryAction, Scope, Status
from driftstore.model.query import PatternFilter, Sort
from driftstore.model.records import Example, Variant
from tests.engine.contract.data import content, pattern, put, rich_pattern, same_stats
from tests.engine.contract.kits import TABLES, EngineKit


def _seed(engine: Engine) -> dict[str, int]:
    put(engine, rich_pattern("a"), pattern("b", files=["b.ts"]))
    with engine.write() as w:
        variant = w.add_variant(Variant(pattern_id="a", scope=Scope.GLOBAL))
        example = w.add_example(Example(pattern_id="a", file="a.ts", code="a"))
        w.record_history([HistoryRecord("a", HistoryAction.CREATED, None, {"n": 1}, w.now)])
        w.put_export_state("api", "v2", "", "sum", "t")
        w.put_meta("t:k", "v")
    assert variant.id is not None and example.id is not None
    return {"variant": variant.id, "example": example.id}


def _everything(w: object, ids: dict[str, int]) -> None:
    """One of each write, on the seeded store."""
    from driftstore.engine.base import Writer

    assert isinstance(w, Writer)
    w.put_patterns([PatternWrite(rich_pattern("new"), "h", w.now)])
    w.put_patterns([PatternWrite(pattern("b", name="B", files=["x.ts"]), "h", w.now)])
    w.set_statuses([StatusChange("a", Status.APPROVED, w.now, "ana")])
    w.touch_last_seen([("a", "2030-01-01T00:00:00.000Z")])
    w.record_history([HistoryRecord("a", HistoryAction.APPROVED, None, None, w.now)])
    w.add_variant(Variant(pattern_id="b", scope=Scope.FILE, scope_path="b.ts"))
    w.remove_variant(ids["variant"])
    w.add_example(Example(pattern_id="b", file="b.ts", code="b"))
    w.remove_example(ids["example"])
    w.replace_children("new", [Variant(pattern_id="new", scope=Scope.GLOBAL)], [])
    w.put_export_state("api", "v2", "", "other", "t2")
    w.put_meta("t:k", "changed")
    w.put_meta("t:added", "1")
    w.delete_patterns(["a"])


def test_an_exception_in_a_write_leaves_nothing_changed(engine: Engine, kit: EngineKit) -> None:
    ids = _seed(engine)
    before = content(engine)
    counts = {table: kit.raw_count(engine, table) for table in TABLES}
    generation = engine.generation()

    class Stop(Exception):
        pass

    with pytest.raises(Stop), engine.write() as w:
        _everything(w, ids)
        assert w.pattern("a") is None and w.count() == 2
        raise Stop  # the caller's own exception comes out unchanged
    assert content(engine) == before
    assert {table: kit.raw_count(engine, table) for table in TABLES} == counts
    assert engine.generation() == generation
    assert engine.changes_since(generation).ids == frozenset()
    # and the store goes on working: the same writes now commit
    with engine.write() as w:
        _everything(w, ids)
    assert engine.generation() == generation + 1
    assert content(engine) != before


def test_a_failed_engine_write_rolls_back_the_writes_before_it(engine: Engine) -> None:
    _seed(engine)
    before = content(engine)
    generation = engine.generation()
    with pytest.raises(DriftStoreError), engine.write() as w:
        w.put_patterns([PatternWrite(pattern("c"), None, w.now)])
        w.add_variant(Variant(pattern_id="nobody", scope=Scope.GLOBAL))
    assert content(engine) == before
    assert engine.generation() == generation


def test_reads_inside_a_write_see_its_own_writes(engine: Engine) -> None:
    _seed(engine)
    with engine.write() as w:
        w.put_patterns([PatternWrite(pattern("c", files=["b.ts"], category="auth"), None, w.now)])
        w.set_statuses([StatusChange("b", Status.IGNORED, w.now)])
        w.record_history([HistoryRecord("c", HistoryAction.CREATED, None, None, w.now)])
        w.put_meta("t:in", "1")
        assert w.count() == 3
        assert w.existing_ids(["c"]) == {"c"}
        assert [pid for pid, _, _ in w.file_locations("b.ts")] == ["b", "c"]
        page = w.query(PatternFilter(statuses=[Status.IGNORED]), Sort())
        assert [s.id for s in page.patterns] == ["b"]
        assert w.history("c")[0].action == HistoryAction.CREATED
        assert w.meta("t:") == {"k": "v", "in": "1"}
        assert w.ids_by_category()["auth"] == ["c"]
        assert same_stats(w.stats(), w.fresh_stats())
        # other units of work do not see it before the commit
        with engine.read() as r:
            assert r.count() == 2


def test_a_reader_never_sees_an_uncommitted_write(engine: Engine) -> None:
    put(engine, pattern("a"))
    inside, release = threading.Event(), threading.Event()

    def hold() -> None:
        with engine.write() as w:
            w.put_patterns([PatternWrite(pattern("b"), None, w.now)])
            w.delete_patterns(["a"])
            inside.set()
            assert release.wait(10)

    thread = threading.Thread(target=hold)
    thread.start()
    try:
        assert inside.wait(10)
        with engine.read() as r:  # reads do not wait for the write
            assert [p.id for p in r.patterns()] == ["a"]
    finally:
        release.set()
        thread.join()
    with engine.read() as r:
        assert [p.id for p in r.patterns()] == ["b"]


def test_a_read_is_one_snapshot_while_writes_commit(engine: Engine) -> None:
    put(engine, pattern("a", files=["f.ts"]))
    with engine.read() as r:
        first = (r.count(), r.generation(), r.file_locations("f.ts"), r.stats())
        thread = threading.Thread(
            target=lambda: put(engine, pattern("b", files=["f.ts"]), pattern("c"))
        )
        thread.start()
        thread.join()
        assert (r.count(), r.generation(), r.file_locations("f.ts"), r.stats()) == first
        assert r.pattern("b") is None


def test_concurrent_readers_never_see_half_a_write(engine: Engine) -> None:
    """Each write stores a pair of patterns, two history rows and a counter; a reader in
    another thread must always find whole pairs that agree with the counter."""
    writes = 40
    stop = threading.Event()
    problems: list[str] = []
    seen: set[int] = set()
    start = engine.generation()

    def write() -> None:
        try:
            for i in range(writes):
                with engine.write() as w:
                    w.put_patterns(
                        [
                            PatternWrite(pattern(f"x{i:03}", files=["shared.ts"]), None, w.now),
                            PatternWrite(pattern(f"y{i:03}", files=["shared.ts"]), None, w.now),
                        ]
                    )
                    w.record_history(
                        [
                            HistoryRecord(f"x{i:03}", HistoryAction.CREATED, None, None, w.now),
                            HistoryRecord(f"y{i:03}", HistoryAction.CREATED, None, None, w.now),
                        ]
                    )
                    w.put_meta("t:done", str(i + 1))
        finally:
            stop.set()

    def read() -> None:
        while not stop.is_set():
            with engine.read() as r:
                done = int(r.meta("t:").get("done", "0"))
                count = r.count()
                shared = len(r.file_locations("shared.ts"))
                history = len(r.history())
                generation = r.generation()
            seen.add(done)
            if not count == shared == history == 2 * done or generation != start + done:
                problems.append(f"{done=} {count=} {shared=} {history=} {generation=}")

    readers = [threading.Thread(target=read) for _ in range(2)]
    for thread in readers:
        thread.start()
    writer = threading.Thread(target=write)
    writer.start()
    writer.join(60)
    for thread in readers:
        thread.join(60)
    assert problems == []
    assert len(seen) > 1, "the readers should have overlapped the writes"
    assert engine.generation() == start + writes


def test_writes_from_threads_take_turns(engine: Engine) -> None:
    """A read-modify-write inside write() is never interleaved with another's."""
    with engine.write() as w:
        w.put_meta("t:n", "0")
    start = engine.generation()

    def bump() -> None:
        for _ in range(15):
            with engine.write() as w:
                n = int(w.meta("t:")["n"])
                time.sleep(0.0005)
                w.put_meta("t:n", str(n + 1))

    threads = [threading.Thread(target=bump) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    with engine.read() as r:
        assert r.meta("t:") == {"n": "45"}
    assert engine.generation() == start + 45
