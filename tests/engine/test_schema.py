"""The database as any SQLite client sees it, and the refusals when opening."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

import driftstore
from driftstore import NotADriftStoreError, SchemaTooNewError
from driftstore.engine.sqlite.connection import Database
from driftstore.engine.sqlite.migrations import SCHEMA_VERSION
from tests.sqlite_access import database, db_path

SEED_COLUMNS = {
    "patterns": [
        "id", "category", "subcategory", "name", "description", "status", "detection_method",
        "detector_id", "pattern_id", "confidence_frequency", "confidence_consistency",
        "confidence_age", "confidence_spread", "confidence_score", "confidence_level",
        "severity", "auto_fixable", "first_seen", "last_seen", "source", "tags",
        "created_at", "updated_at",
    ],
    "pattern_locations": [
        "id", "pattern_id", "file", "line", "column_num", "is_outlier", "confidence",
        "outlier_reason", "created_at",
    ],
    "pattern_variants": [
        "id", "pattern_id", "scope", "scope_path", "severity_override", "enabled_override",
        "threshold_override", "config_override", "expires_at", "created_at",
    ],
    "pattern_examples": [
        "id", "pattern_id", "file", "code", "line_start", "line_end", "is_positive", "created_at",
    ],
    "pattern_history": ["id", "pattern_id", "action", "old_value", "new_value", "created_at"],
}  # fmt: skip

SEED_INDEXES = {
    "idx_patterns_category": ("patterns", ["category"]),
    "idx_patterns_status": ("patterns", ["status"]),
    "idx_patterns_confidence": ("patterns", ["confidence_score"]),
    "idx_pattern_locations_file": ("pattern_locations", ["file"]),
    "idx_pattern_locations_pattern": ("pattern_locations", ["pattern_id"]),
    "idx_pattern_variants_pattern": ("pattern_variants", ["pattern_id"]),
    "idx_pattern_variants_scope": ("pattern_variants", ["scope", "scope_path"]),
}


def test_stdlib_sqlite3_finds_the_seed_tables_columns_and_indexes(root: Path) -> None:
    with driftstore.open(root):
        pass
    con = sqlite3.connect(root / ".drift" / "drift.db")
    try:
        for table, columns in SEED_COLUMNS.items():
            found = [row[1] for row in con.execute(f"PRAGMA table_info({table})")]
            assert found[: len(columns)] == columns, table
        for index, (table, columns) in SEED_INDEXES.items():
            row = con.execute(
                "SELECT tbl_name FROM sqlite_master WHERE type='index' AND name=?", (index,)
            ).fetchone()
            assert row == (table,), index
            assert [r[2] for r in con.execute(f"PRAGMA index_info({index})")] == columns
        fks = {
            (r[2], r[3], r[4]) for r in con.execute("PRAGMA foreign_key_list(pattern_locations)")
        }
        assert ("patterns", "pattern_id", "id") in fks
    finally:
        con.close()


def test_seed_readers_see_a_stored_pattern_as_the_seed_documents_it(
    store: driftstore.PatternStore,
) -> None:
    from tests.factories import make_pattern

    store.add(make_pattern("p1", files=["src/a.ts"], outlier_files=["src/b.ts"], tags=["x"]))
    con = sqlite3.connect(db_path(store))
    try:
        row = con.execute(
            "SELECT category, status, detection_method, detector_id, confidence_score, "
            "confidence_level, tags FROM patterns WHERE id = 'p1'"
        ).fetchone()
        assert row == ("api", "discovered", "regex", "api/routes", 0.9, "high", '["x"]')
        locs = con.execute(
            "SELECT file, line, column_num, is_outlier, outlier_reason FROM pattern_locations "
            "WHERE pattern_id = 'p1' ORDER BY id"
        ).fetchall()
        assert locs == [("src/a.ts", 1, 1, 0, None), ("src/b.ts", 100, 2, 1, "breaks it")]
    finally:
        con.close()


def test_pragmas_are_applied_and_read_back(store: driftstore.PatternStore) -> None:
    writer = database(store).writer
    assert writer.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert writer.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    assert writer.execute("PRAGMA synchronous").fetchone()[0] == 1  # NORMAL
    assert writer.execute("PRAGMA busy_timeout").fetchone()[0] >= 1000
    assert writer.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    with database(store).reader() as reader:
        assert reader.readonly("main")


def test_a_file_that_is_not_sqlite_is_refused_and_left_untouched(root: Path) -> None:
    db = root / ".drift" / "drift.db"
    db.parent.mkdir()
    db.write_bytes(b"this is not a database at all\n" * 100)
    before = db.read_bytes()
    with pytest.raises(NotADriftStoreError, match="not a SQLite database"):
        driftstore.open(root)
    assert db.read_bytes() == before
    assert not (root / ".drift" / "drift.db-wal").exists()


def test_a_foreign_sqlite_database_is_refused_and_left_untouched(root: Path) -> None:
    db = root / ".drift" / "drift.db"
    db.parent.mkdir()
    con = sqlite3.connect(db)
    con.execute("CREATE TABLE invoices (id INTEGER)")
    con.commit()
    con.close()
    before = db.read_bytes()
    with pytest.raises(NotADriftStoreError, match="not a driftstore one"):
        driftstore.open(root)
    assert db.read_bytes() == before


def test_a_database_from_a_newer_driftstore_is_refused(root: Path) -> None:
    with driftstore.open(root):
        pass
    db = root / ".drift" / "drift.db"
    con = sqlite3.connect(db)
    con.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    con.commit()
    con.close()
    with pytest.raises(SchemaTooNewError, match="newer driftstore"):
        driftstore.open(root)


def test_nested_transactions_become_savepoints(tmp_path: Path) -> None:
    db = Database(tmp_path / "x.db")
    try:
        with db.transaction() as cur:
            cur.execute("INSERT INTO store_meta VALUES ('a', '1')")
            with pytest.raises(RuntimeError), db.transaction() as inner:
                inner.execute("INSERT INTO store_meta VALUES ('b', '2')")
                raise RuntimeError("inner fails")
        assert db.query("SELECT key FROM store_meta WHERE key < 'b'") == [("a",)]
        with pytest.raises(RuntimeError), db.transaction() as cur:
            cur.execute("INSERT INTO store_meta VALUES ('c', '3')")
            raise RuntimeError("outer fails")
        assert db.query("SELECT key FROM store_meta WHERE key < 'b' OR key = 'c'") == [("a",)]
    finally:
        db.close()
