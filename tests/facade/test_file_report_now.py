"""`file_report_now`: what a server's event loop answers itself. It must answer exactly
what `file_report` does when the index and the summaries are warm and current, and
refuse (None, nothing read) whenever answering would mean building, refreshing or
waiting."""

from __future__ import annotations

import threading

import driftstore
from tests.factories import make_pattern


def _fill(store: driftstore.PatternStore) -> None:
    store.ingest(
        [
            make_pattern("p1", files=["src/a.ts", "src/b.ts"]),
            make_pattern("p2", files=["src/a.ts"]),
        ]
    )


def test_cold_then_warm(store: driftstore.PatternStore) -> None:
    _fill(store)
    assert store.file_report_now("src/a.ts") is None  # nothing built yet
    expected = store.file_report("src/a.ts", indexed=True)
    assert [p.id for p in expected.patterns] == ["p1", "p2"]
    assert store.file_report_now("src/a.ts") == expected
    assert store.file_report_now("src/b.ts") == store.file_report("src/b.ts")
    assert store.file_report_now("nowhere.ts") == store.file_report("nowhere.ts")


def test_a_write_makes_it_wait_for_the_refresh(store: driftstore.PatternStore) -> None:
    _fill(store)
    store.file_report("src/a.ts", indexed=True)
    store.approve("p2")
    assert store.file_report_now("src/a.ts") is None  # the index is behind the store
    fresh = store.file_report("src/a.ts", indexed=True)
    assert [p.status for p in fresh.patterns] == ["discovered", "approved"]
    assert store.file_report_now("src/a.ts") == fresh


def test_it_never_waits_for_another_thread(store: driftstore.PatternStore) -> None:
    _fill(store)
    store.file_report("src/a.ts", indexed=True)
    index = store._file_index()
    held, release = threading.Event(), threading.Event()

    def hold() -> None:
        with index._lock:
            held.set()
            release.wait(10)

    worker = threading.Thread(target=hold)
    worker.start()
    try:
        assert held.wait(10)
        assert store.file_report_now("src/a.ts") is None
    finally:
        release.set()
        worker.join()
    assert store.file_report_now("src/a.ts") is not None
