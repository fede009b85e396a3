"""The SQLite change log's limits (the contract suite covers the rest of changes_since):
generations older than the log keeps, and writes too large to list, answer "everything"."""

from __future__ import annotations

from pathlib import Path

import pytest

from driftstore.engine.base import ChangeSet, PatternWrite
from driftstore.engine.sqlite import changes
from driftstore.engine.sqlite.engine import SqliteEngine
from driftstore.engine.sqlite.location import SqliteLocation
from tests.factories import make_pattern


def _engine(tmp_path: Path) -> SqliteEngine:
    return SqliteLocation(tmp_path / ".drift").open(create=True, on_migration=None)


def _put(engine: SqliteEngine, *ids: str) -> None:
    with engine.write() as w:
        w.put_patterns([PatternWrite(make_pattern(pid), None, w.now) for pid in ids])


def test_a_generation_older_than_the_log_keeps_is_everything(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(changes, "KEEP_GENERATIONS", 3)
    engine = _engine(tmp_path)
    try:
        start = engine.generation()
        for i in range(5):
            _put(engine, f"p{i}")
        now = start + 5
        assert engine.changes_since(now - 3) == ChangeSet(now, frozenset({"p2", "p3", "p4"}))
        assert engine.changes_since(now - 4) == ChangeSet(now, None)
        assert engine.changes_since(start) == ChangeSet(now, None)
        # the log itself holds no more than it must
        kept = engine.db.query("SELECT DISTINCT generation FROM pattern_changes")
        assert sorted(g for (g,) in kept) == [now - 2, now - 1, now]
    finally:
        engine.close()


def test_a_write_too_large_to_list_is_everything(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(changes, "MAX_LISTED", 3)
    engine = _engine(tmp_path)
    try:
        _put(engine, "a")
        before = engine.generation()
        _put(engine, "b", "c", "d", "e")
        assert engine.changes_since(before) == ChangeSet(before + 1, None)
        _put(engine, "f")
        assert engine.changes_since(before + 1) == ChangeSet(before + 2, frozenset({"f"}))
    finally:
        engine.close()
