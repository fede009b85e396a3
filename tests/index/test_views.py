"""`by_file` answers are views: each pattern's rows in the file are built when first read,
exactly as they were when the answer was made, whatever the store did since."""

from __future__ import annotations

import threading
import time

import msgspec
import pytest

import driftstore
from driftstore import Location, Pattern
from tests.factories import make_pattern


def _lines(locations: list[Location]) -> list[int]:
    return [loc.line for loc in locations]


def _two_patterns(store: driftstore.PatternStore) -> None:
    store.add(make_pattern("p1", files=["a.ts", "a.ts", "b.ts"], outlier_files=["a.ts"]))
    store.add(make_pattern("p2", files=["a.ts"]))


def _move_p1(store: driftstore.PatternStore, line: int) -> None:
    store.update("p1", locations=[Location(file="a.ts", line=line, column=3)], outliers=[])


def test_an_answer_keeps_the_rows_it_was_made_with(store: driftstore.PatternStore) -> None:
    _two_patterns(store)
    before = store.by_file("a.ts")  # nothing read from it yet
    _move_p1(store, 50)
    after = store.by_file("a.ts")
    assert _lines(before[0].locations) == [1, 2] and _lines(before[0].outliers) == [100]
    assert _lines(after[0].locations) == [50] and after[0].outliers == []
    assert after == store.by_file("a.ts", fresh=True)


def test_an_answer_made_after_a_refresh_keeps_its_rows_too(
    store: driftstore.PatternStore,
) -> None:
    """The second ask is answered from the rows (the file has rows added since the
    build), the first from what the build noted: both must hold still."""
    _two_patterns(store)
    store.by_file("a.ts")
    _move_p1(store, 50)
    middle = store.by_file("a.ts")
    _move_p1(store, 60)
    assert _lines(middle[0].locations) == [50]
    assert _lines(store.by_file("a.ts")[0].locations) == [60]
    assert [p.id for p in middle] == ["p1", "p2"] and _lines(middle[1].locations) == [1]


def test_an_answer_outlives_a_rebuild_of_the_index(store: driftstore.PatternStore) -> None:
    _two_patterns(store)
    backup = store.backup("before the move")
    _move_p1(store, 50)
    moved = store.by_file("a.ts")
    store.restore(backup)  # the change log cannot say what changed: built afresh
    restored = store.by_file("a.ts")
    assert _lines(moved[0].locations) == [50]
    assert _lines(restored[0].locations) == [1, 2]


def test_a_view_gives_a_whole_pattern_cut_to_its_file(store: driftstore.PatternStore) -> None:
    _two_patterns(store)
    view = store.by_file("a.ts")[0]
    whole = store.require("p1")
    cut = view.to_pattern()
    assert isinstance(cut, Pattern)
    assert cut == msgspec.structs.replace(
        whole,
        locations=[loc for loc in whole.locations if loc.file == "a.ts"],
        outliers=[loc for loc in whole.outliers if loc.file == "a.ts"],
    )
    # every Pattern attribute reads through
    assert (view.id, view.name, view.status, view.confidence, view.severity) == (
        whole.id,
        whole.name,
        whole.status,
        whole.confidence,
        whole.severity,
    )
    assert (view.location_count, view.outlier_count, view.level) == (2, 1, whole.level)


def test_a_view_encodes_through_to_builtins_and_never_as_something_else(
    store: driftstore.PatternStore,
) -> None:
    """driftstore.to_builtins gives the pattern cut to the file plus `effective`; msgspec
    alone refuses the view (it would otherwise write the view's parts, not a pattern)."""
    _two_patterns(store)
    view = store.by_file("a.ts")[0]
    data = driftstore.to_builtins(view)
    assert data == {
        **driftstore.to_builtins(view.to_pattern()),
        "effective": {
            "severity": "info",
            "enabled": True,
            "threshold": None,
            "config": None,
            "variantIds": [],
        },
    }
    assert driftstore.to_builtins(store.by_file("a.ts"))[0] == data
    with pytest.raises(TypeError):
        msgspec.json.encode(view)
    assert "p1" in repr(view)


def test_rows_read_late_match_their_answer_while_others_refresh(
    store: driftstore.PatternStore,
) -> None:
    """Two readers ask and read their rows late, while this process rewrites the pattern
    (each version's name names its line): every answer's rows are its own version's,
    whichever refreshes or rebuilds happened in between."""
    store.add(make_pattern("p1", name="gen 1", files=["a.ts"]))
    mismatches: list[str] = []
    done = threading.Event()

    def reader() -> None:
        while not done.is_set():
            answer = store.by_file("a.ts")
            time.sleep(0.002)  # let the writer and the other reader move on first
            for view in answer:
                lines = _lines(view.locations)
                if [f"gen {line}" for line in lines] != [view.name]:
                    mismatches.append(f"{view.name}: {lines}")

    readers = [threading.Thread(target=reader) for _ in range(2)]
    for t in readers:
        t.start()
    try:
        for n in range(2, 120):
            store.update("p1", name=f"gen {n}", locations=[Location(file="a.ts", line=n, column=1)])
    finally:
        done.set()
        for t in readers:
            t.join()
    assert mismatches == []
    assert _lines(store.by_file("a.ts")[0].locations) == [119]
