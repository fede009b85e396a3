"""Snapshot files: taken, checked, restored (as one commit that moves the generation on)."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path
from typing import Any

import pytest

from driftstore.engine.base import ChangeSet, Engine, HistoryRecord, StatusChange
from driftstore.errors import (
    DriftStoreError,
    IntegrityError,
    NotADriftStoreError,
    SchemaTooNewError,
)
from driftstore.model.enums import HistoryAction, Scope, Status
from driftstore.model.records import Example, Variant
from tests.engine.contract.conftest import Stores
from tests.engine.contract.data import content, pattern, put, rich_pattern, snapshot_saver


def _fill(engine: Engine) -> None:
    put(engine, rich_pattern("a"), pattern("b", files=["b.ts"]), layout='{"l": 1}')
    with engine.write() as w:
        w.add_variant(Variant(pattern_id="a", scope=Scope.DIRECTORY, scope_path="src"))
        w.add_example(Example(pattern_id="b", file="b.ts", code="b()"))
        w.set_statuses([StatusChange("a", Status.APPROVED, w.now, "ana")])
        w.record_history(
            [HistoryRecord("a", HistoryAction.APPROVED, {"s": "d"}, {"s": "a"}, w.now, "ana")]
        )
        w.put_export_state("api", "v2", "", "sum", "t")
        w.put_meta("t:k", "v")


def _change(engine: Engine) -> None:
    put(engine, pattern("c", files=["b.ts"]))
    with engine.write() as w:
        w.delete_patterns(["a"])
        w.set_statuses([StatusChange("b", Status.IGNORED, w.now)])
        w.add_variant(Variant(pattern_id="b", scope=Scope.GLOBAL))
        w.record_history([HistoryRecord("a", HistoryAction.DELETED, {}, None, w.now)])
        w.put_meta("t:k", "changed")
        w.drop_export_state("api", "v2", "")


def test_a_snapshot_is_a_checked_file_of_the_committed_state(
    engine: Engine, stores: Stores, tmp_path: Path
) -> None:
    _fill(engine)
    steps: list[tuple[int, int]] = []
    target = tmp_path / "snap.db"
    info = engine.snapshot_to(target, on_step=lambda done, total: steps.append((done, total)))
    assert info.bytes == target.stat().st_size > 0
    assert info.schema_version == engine.info().schema_version
    assert steps and steps[-1][0] == steps[-1][1]
    assert all(0 <= done <= total for done, total in steps)
    assert stores.location().check_snapshot(target) == info
    assert stores.location().check_snapshot(target, thorough=True) == info


def test_restore_brings_back_exactly_the_snapshot(
    engine: Engine, stores: Stores, tmp_path: Path
) -> None:
    _fill(engine)
    saved = content(engine)
    engine.snapshot_to(tmp_path / "snap.db")
    _change(engine)
    replaced = content(engine)
    assert replaced != saved
    before = engine.generation()
    save, made = snapshot_saver(engine, tmp_path)
    discarded: list[str] = []
    backup = engine.restore_from(
        tmp_path / "snap.db",
        label="snap",
        thorough=False,
        save_current=save,
        discard=discarded.append,
    )
    assert content(engine) == saved
    assert backup in made and discarded == [] and len(made) == 1
    # one commit: the generation moves on by one, never back, and nothing can be listed
    assert engine.generation() == before + 1
    assert engine.changes_since(before) == ChangeSet(before + 1, None)
    assert engine.changes_since(0) == ChangeSet(before + 1, None)
    assert engine.changes_since(before + 1) == ChangeSet(before + 1, frozenset())
    # the store goes on: the next write moves the generation and is listed
    put(engine, pattern("after"))
    assert engine.changes_since(before + 1) == ChangeSet(before + 2, frozenset({"after"}))
    with engine.read() as r:
        assert r.row_problems() == []
    assert engine.check_integrity() == []
    # save_current's backup holds the state the restore replaced
    other = stores.open("other")
    (tmp_path / "unused").mkdir()
    other.restore_from(
        tmp_path / f"{backup}.db",
        label=backup,
        thorough=True,
        save_current=snapshot_saver(other, tmp_path / "unused")[0],
        discard=lambda _: None,
    )
    assert content(other) == replaced


def test_restore_is_seen_by_another_engine_of_the_store(stores: Stores, tmp_path: Path) -> None:
    one = stores.open("shared")
    two = stores.open("shared", create=False)
    _fill(one)
    saved = content(one)
    one.snapshot_to(tmp_path / "snap.db")
    _change(one)
    with two.read() as r:  # two has a read snapshot of the changed store open
        assert r.pattern("a") is None
    before = one.generation()
    (tmp_path / "safety").mkdir()
    one.restore_from(
        tmp_path / "snap.db",
        label="snap",
        thorough=False,
        save_current=snapshot_saver(one, tmp_path / "safety")[0],
        discard=lambda _: None,
    )
    assert content(two) == saved
    end = time.monotonic() + 1.0
    while two.generation() != before + 1:
        assert time.monotonic() < end, "the other engine did not see the restore's generation"
        time.sleep(0.005)
    assert two.changes_since(before).ids is None


def test_a_snapshot_restores_into_another_store(
    engine: Engine, stores: Stores, tmp_path: Path
) -> None:
    _fill(engine)
    engine.snapshot_to(tmp_path / "snap.db")
    other = stores.open("other")
    put(other, pattern("unrelated"))
    before = other.generation()
    other.restore_from(
        tmp_path / "snap.db",
        label="snap",
        thorough=True,
        save_current=snapshot_saver(other, tmp_path)[0],
        discard=lambda _: None,
    )
    assert content(other) == content(engine)
    assert other.generation() == before + 1


def _garbage(path: Path) -> None:
    path.write_bytes(b"this is not a database at all\n" * 200)


def _foreign_sqlite(path: Path) -> None:
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)")
    conn.execute("INSERT INTO notes (body) VALUES ('hello')")
    conn.commit()
    conn.close()


def _empty_file(path: Path) -> None:
    path.write_bytes(b"")


def _truncated(engine: Engine, path: Path) -> None:
    engine.snapshot_to(path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2 + 100])


def _too_new(engine: Engine, path: Path) -> None:
    engine.snapshot_to(path)
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {engine.info().schema_version + 1}")
    conn.commit()
    conn.close()


def _damaged_pages(engine: Engine, path: Path) -> None:
    engine.snapshot_to(path)
    data = bytearray(path.read_bytes())
    page = int.from_bytes(data[16:18], "big")
    for start in range(page, len(data), page):  # every page after the first
        data[start : start + 64] = b"\xa5" * 64
    path.write_bytes(bytes(data))


#: (name, make a bad snapshot file, the error class check_snapshot must raise)
BAD: list[tuple[str, Any, type[DriftStoreError]]] = [
    ("garbage", lambda engine, path: _garbage(path), IntegrityError),
    ("foreign sqlite", lambda engine, path: _foreign_sqlite(path), NotADriftStoreError),
    ("empty file", lambda engine, path: _empty_file(path), NotADriftStoreError),
    ("truncated", _truncated, IntegrityError),
    ("damaged pages", _damaged_pages, IntegrityError),
    ("too new", _too_new, SchemaTooNewError),
]


@pytest.mark.parametrize(("name", "make", "error"), BAD, ids=[b[0] for b in BAD])
def test_check_snapshot_refuses_what_cannot_be_restored(
    engine: Engine,
    stores: Stores,
    tmp_path: Path,
    name: str,
    make: Any,
    error: type[DriftStoreError],
) -> None:
    _fill(engine)
    path = tmp_path / "bad.db"
    make(engine, path)
    with pytest.raises(error) as raised:
        stores.location().check_snapshot(path, label="backup-42.tar.zst")
    assert "backup-42.tar.zst" in str(raised.value)
    assert "\n" not in str(raised.value)


@pytest.mark.parametrize(("name", "make", "error"), BAD, ids=[b[0] for b in BAD])
def test_a_restore_of_a_bad_snapshot_changes_nothing(
    engine: Engine,
    tmp_path: Path,
    name: str,
    make: Any,
    error: type[DriftStoreError],
) -> None:
    _fill(engine)
    path = tmp_path / "bad.db"
    make(engine, path)
    before = content(engine)
    generation = engine.generation()
    save, made = snapshot_saver(engine, tmp_path)
    discarded: list[str] = []
    with pytest.raises(error):
        engine.restore_from(
            path, label="bad", thorough=False, save_current=save, discard=discarded.append
        )
    assert content(engine) == before
    assert engine.generation() == generation
    assert engine.changes_since(generation) == ChangeSet(generation, frozenset())
    assert sorted(discarded) == sorted(made)  # a safety backup it began is not left behind
    put(engine, pattern("still-works"))
    assert engine.generation() == generation + 1
