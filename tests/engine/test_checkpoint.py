"""A commit that grows the WAL past CHECKPOINT_PAGES does not fold it in itself: a
checkpoint runs beside it, on a connection of its own, and close waits for it."""

from __future__ import annotations

from pathlib import Path

import apsw
import pytest

from driftstore.engine.sqlite.connection import CHECKPOINT_PAGES, Database


def _grow(db: Database, pages: int) -> None:
    with db.transaction() as cur:
        cur.execute("CREATE TABLE IF NOT EXISTS filler (b BLOB)")
        cur.executemany("INSERT INTO filler VALUES (zeroblob(4000))", [()] * pages)


def _wal_state(path: Path) -> tuple[int, int]:
    """(frames in the WAL, frames already copied into the database)."""
    conn = apsw.Connection(str(path))
    try:
        _busy, frames, copied = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()[0]
        return int(frames), int(copied)
    finally:
        conn.close()


def test_a_big_commit_leaves_the_checkpoint_to_a_thread(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked: list[int] = []
    monkeypatch.setattr(Database, "fold_wal_soon", lambda self: asked.append(1))
    db = Database(tmp_path / "drift.db")
    try:
        _grow(db, CHECKPOINT_PAGES // 10)
        assert asked == []  # a small commit asks for nothing
        _grow(db, CHECKPOINT_PAGES * 2)
        assert asked == [1]
        with db.reader() as conn:  # the commit is visible at once
            assert conn.execute("SELECT count(*) FROM filler").fetchall()[0][0] > CHECKPOINT_PAGES
        # nothing was folded inside the commit: the pages are still only in the WAL
        assert (tmp_path / "drift.db").stat().st_size < CHECKPOINT_PAGES * 4000 // 4
        frames, copied = _wal_state(tmp_path / "drift.db")
        assert frames > CHECKPOINT_PAGES and copied == frames
        assert (tmp_path / "drift.db").stat().st_size > CHECKPOINT_PAGES * 4000
    finally:
        db.close()


def test_the_background_checkpoint_folds_the_wal_and_close_waits_for_it(tmp_path: Path) -> None:
    db = Database(tmp_path / "drift.db")
    try:
        _grow(db, CHECKPOINT_PAGES * 2)
        for thread in list(db._background):
            thread.join(timeout=30)
        # the thread copied the pages into the database file
        assert (tmp_path / "drift.db").stat().st_size > CHECKPOINT_PAGES * 4000
    finally:
        db.close()
    assert (
        not (tmp_path / "drift.db-wal").exists() or (tmp_path / "drift.db-wal").stat().st_size == 0
    )
    conn = apsw.Connection(str(tmp_path / "drift.db"))
    try:
        assert conn.execute("SELECT count(*) FROM filler").fetchall()[0][0] == CHECKPOINT_PAGES * 2
    finally:
        conn.close()
