"""The store generation and changes_since: one signal, moved by every committed change."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from driftstore.engine.base import (
    ChangeSet,
    Engine,
    HistoryRecord,
    PatternWrite,
    StatusChange,
    Writer,
)
from driftstore.model.enums import HistoryAction, Scope, Status
from driftstore.model.records import Example, Variant
from tests.engine.contract.conftest import Stores
from tests.engine.contract.data import pattern, put
from tests.engine.contract.kits import EngineKit

REPO = Path(__file__).resolve().parents[3]
#: how long another Engine of the same store may take to see a commit
SEEN_WITHIN_S = 1.0


def _seeded(engine: Engine) -> dict[str, int]:
    """Patterns a..d, a variant and an example of a, export state and meta; their ids."""
    put(engine, pattern("a", files=["a.ts"]), pattern("b"), pattern("c"), pattern("d"))
    with engine.write() as w:
        variant = w.add_variant(Variant(pattern_id="a", scope=Scope.GLOBAL))
        example = w.add_example(Example(pattern_id="a", file="a.ts", code="a"))
        w.put_export_state("api", "v2", "", "sum", "t")
        w.put_meta("t:k", "v")
    assert variant.id is not None and example.id is not None
    return {"variant": variant.id, "example": example.id}


#: (name, a write that changes something, the pattern ids it changes)
CHANGES: list[tuple[str, Callable[[Writer, dict[str, int]], None], set[str]]] = [
    ("put new", lambda w, ids: w.put_patterns([PatternWrite(pattern("n"), None, w.now)]), {"n"}),
    (
        "put existing",
        lambda w, ids: w.put_patterns([PatternWrite(pattern("b", name="B"), None, w.now)]),
        {"b"},
    ),
    (
        "put without locations",
        lambda w, ids: w.put_patterns(
            [PatternWrite(pattern("a", name="A", files=["a.ts"]), None, w.now, locations=False)]
        ),
        {"a"},
    ),
    ("delete", lambda w, ids: w.delete_patterns(["d", "ghost"]), {"d"}),
    (
        "status",
        lambda w, ids: w.set_statuses([StatusChange("c", Status.APPROVED, w.now, "ana")]),
        {"c"},
    ),
    ("touch", lambda w, ids: w.touch_last_seen([("b", "2027-01-01T00:00:00.000Z")]), {"b"}),
    (
        "history",
        lambda w, ids: w.record_history(
            [HistoryRecord("a", HistoryAction.UPDATED, None, {"x": 1}, w.now)]
        ),
        set(),
    ),
    (
        "add variant",
        lambda w, ids: w.add_variant(Variant(pattern_id="b", scope=Scope.GLOBAL)),
        {"b"},
    ),
    ("remove variant", lambda w, ids: w.remove_variant(ids["variant"]), {"a"}),
    (
        "add example",
        lambda w, ids: w.add_example(Example(pattern_id="c", file="c.ts", code="c")),
        {"c"},
    ),
    ("remove example", lambda w, ids: w.remove_example(ids["example"]), {"a"}),
    ("replace children", lambda w, ids: w.replace_children("b", [], []), {"b"}),
    ("export state", lambda w, ids: w.put_export_state("auth", "v2", "", "s", "t"), set()),
    ("drop export state", lambda w, ids: w.drop_export_state("api", "v2", ""), set()),
    ("meta", lambda w, ids: w.put_meta("t:other", "1"), set()),
    ("drop meta", lambda w, ids: w.put_meta("t:k", None), set()),
]


@pytest.mark.parametrize(("name", "change", "touched"), CHANGES, ids=[c[0] for c in CHANGES])
def test_a_committed_change_moves_the_generation_by_one(
    engine: Engine,
    name: str,
    change: Callable[[Writer, dict[str, int]], None],
    touched: set[str],
) -> None:
    ids = _seeded(engine)
    before = engine.generation()
    with engine.write() as w:
        change(w, ids)
    assert engine.generation() == before + 1
    with engine.read() as r:
        assert r.generation() == before + 1
    assert engine.changes_since(before) == ChangeSet(before + 1, frozenset(touched))


#: writes that change nothing
NOTHING: list[tuple[str, Callable[[Writer, dict[str, int]], None]]] = [
    ("empty", lambda w, ids: None),
    ("reads only", lambda w, ids: (w.patterns(), w.count(), w.history())),
    (
        "empty batches",
        lambda w, ids: (
            w.put_patterns([]),
            w.delete_patterns([]),
            w.set_statuses([]),
            w.touch_last_seen([]),
            w.remember_echoes([]),
            w.record_history([]),
        ),
    ),
    ("delete missing", lambda w, ids: w.delete_patterns(["ghost", "gone"])),
    (
        "status of missing",
        lambda w, ids: w.set_statuses([StatusChange("ghost", Status.IGNORED, w.now)]),
    ),
    ("touch missing", lambda w, ids: w.touch_last_seen([("ghost", "2027-01-01T00:00:00.000Z")])),
    ("remember echoes", lambda w, ids: w.remember_echoes([("a", "e1 h1"), ("ghost", "e2 h2")])),
    ("remove missing variant", lambda w, ids: w.remove_variant(ids["variant"] + 1000)),
    ("remove missing example", lambda w, ids: w.remove_example(ids["example"] + 1000)),
    ("drop missing export state", lambda w, ids: w.drop_export_state("none", "v2", "")),
    ("drop missing meta", lambda w, ids: w.put_meta("t:none", None)),
]


@pytest.mark.parametrize(("name", "change"), NOTHING, ids=[c[0] for c in NOTHING])
def test_a_write_that_changes_nothing_keeps_the_generation(
    engine: Engine, name: str, change: Callable[[Writer, dict[str, int]], None]
) -> None:
    ids = _seeded(engine)
    before = engine.generation()
    with engine.write() as w:
        change(w, ids)
    assert engine.generation() == before
    assert engine.changes_since(before) == ChangeSet(before, frozenset())


def test_a_rolled_back_write_keeps_the_generation(engine: Engine) -> None:
    ids = _seeded(engine)
    before = engine.generation()
    with pytest.raises(KeyError), engine.write() as w:
        for _, change, _ in CHANGES:
            change(w, ids)
        raise KeyError("no")
    assert engine.generation() == before
    assert engine.changes_since(before) == ChangeSet(before, frozenset())


def test_many_changes_in_one_write_move_it_once(engine: Engine) -> None:
    ids = _seeded(engine)
    before = engine.generation()
    with engine.write() as w:
        for _, change, _ in CHANGES:
            change(w, ids)
    assert engine.generation() == before + 1
    found = engine.changes_since(before)
    assert found == ChangeSet(before + 1, frozenset({"a", "b", "c", "d", "n"}))


def test_changes_since_names_the_ids_changed_after_a_generation(engine: Engine) -> None:
    ids = _seeded(engine)
    start = engine.generation()
    marks = [start]
    for _, change, _ in CHANGES:
        with engine.write() as w:
            change(w, ids)
        marks.append(engine.generation())
    assert marks == list(range(start, start + len(CHANGES) + 1))
    for i, mark in enumerate(marks):
        expected = set().union(*(touched for _, _, touched in CHANGES[i:]))
        assert engine.changes_since(mark) == ChangeSet(marks[-1], frozenset(expected))
        with engine.read() as r:
            assert r.changes_since(mark) == ChangeSet(marks[-1], frozenset(expected))
    # a generation this store never had cannot be answered by ids
    assert engine.changes_since(marks[-1] + 5) == ChangeSet(marks[-1], None)


def test_a_read_sees_the_generation_of_its_snapshot(engine: Engine) -> None:
    put(engine, pattern("a"))
    before = engine.generation()
    with engine.read() as r:
        assert r.generation() == before

        def write() -> None:
            put(engine, pattern("b"))

        thread = threading.Thread(target=write)
        thread.start()
        thread.join()
        assert engine.generation() == before + 1  # this process's commit, seen at once
        assert r.generation() == before  # the snapshot stays where it began
        assert r.changes_since(before) == ChangeSet(before, frozenset())
        assert r.count() == 1
    with engine.read() as r:
        assert r.generation() == before + 1
        assert r.changes_since(before) == ChangeSet(before + 1, frozenset({"b"}))


def _wait_for(engine: Engine, generation: int) -> float:
    """Seconds until `engine` reports `generation` (fails after SEEN_WITHIN_S)."""
    start = time.monotonic()
    while engine.generation() != generation:
        assert engine.generation() < generation
        if time.monotonic() - start > SEEN_WITHIN_S:
            raise AssertionError(f"generation {generation} not seen within {SEEN_WITHIN_S} s")
        time.sleep(0.002)
    return time.monotonic() - start


def test_another_engine_of_the_store_sees_the_new_generation(stores: Stores) -> None:
    one = stores.open("shared")
    two = stores.open("shared", create=False)
    put(one, pattern("a"))
    generation = one.generation()
    _wait_for(two, generation)
    with two.read() as r:
        assert r.generation() == generation
        assert [p.id for p in r.patterns()] == ["a"]
    assert two.changes_since(generation - 1) == ChangeSet(generation, frozenset({"a"}))
    put(two, pattern("b"))
    _wait_for(one, generation + 1)
    assert one.changes_since(generation) == ChangeSet(generation + 1, frozenset({"b"}))


def _worker(kit: EngineKit, folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    return subprocess.run(
        [sys.executable, "-m", "tests.engine.contract.worker", kit.name, str(folder), *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )


def test_another_process_sees_this_ones_commits_and_the_reverse(
    stores: Stores, kit: EngineKit
) -> None:
    engine = stores.open("shared")
    put(engine, pattern("a"))
    before = engine.generation()
    assert engine.generation() == before  # asked again: cached, still right
    done = _worker(kit, stores.folder("shared"), "put", "p1", "p2")
    assert int(done.stdout.split()[-1]) == before + 1
    _wait_for(engine, before + 1)
    assert engine.changes_since(before) == ChangeSet(before + 1, frozenset({"p1", "p2"}))
    with engine.read() as r:
        assert r.existing_ids(["p1", "p2"]) == {"p1", "p2"}

    # the other way: a process waiting on the generation sees this process's commit
    waiting = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.engine.contract.worker",
            kit.name,
            str(stores.folder("shared")),
            "wait-generation",
            str(before + 2),
        ],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        time.sleep(0.3)
        put(engine, pattern("z"))
        out, _ = waiting.communicate(timeout=60)
    finally:
        if waiting.poll() is None:
            waiting.kill()
            waiting.wait()
    generation, ids = out.split()
    assert int(generation) == before + 2
    assert ids.split(",") == ["a", "p1", "p2", "z"]
