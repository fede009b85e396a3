"""Restore: the round trip, the safety backup, and failures that must change nothing."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import apsw
import pytest

import driftstore
from driftstore.engine.sqlite import restore as sqlite_restore
from driftstore.errors import (
    IntegrityError,
    NotADriftStoreError,
    SchemaTooNewError,
    StorageFullError,
)
from driftstore.facade import backups as backup_ops
from driftstore.formats import backups as fmt
from tests.backups.conftest import good_members, plant, state, tar_of, zst
from tests.factories import make_pattern
from tests.sqlite_access import db_path


def _change(store: driftstore.PatternStore) -> None:
    store.approve("p1", by="ana")
    store.delete("p2")
    store.add(make_pattern("new", files=["src/new.ts"]))


def _leftovers(store: driftstore.PatternStore) -> list[str]:
    return sorted(p.name for p in (store.drift_dir / "backups").iterdir() if p.is_dir())


def test_restore_brings_back_the_backed_up_state(filled: driftstore.PatternStore) -> None:
    before = state(filled)
    backup_id = filled.backup("before-change")
    _change(filled)
    changed = state(filled)
    assert [p.id for p in filled.by_file("src/new.ts")] == ["new"]  # the in-memory index
    report = filled.restore(backup_id)
    assert state(filled) == before
    assert filled.by_file("src/new.ts") == []
    # the replaced state was saved first, and restoring it undoes the restore
    assert report.restored == backup_id and report.backup is not None
    assert report.backup.endswith("-restore")
    filled.restore(report.backup)
    assert state(filled) == changed
    assert _leftovers(filled) == []


def test_the_store_keeps_working_after_a_restore(filled: driftstore.PatternStore) -> None:
    backup_id = filled.backup()
    filled.restore(backup_id)
    filled.approve("p3")
    assert filled.require("p3").status == driftstore.Status.APPROVED
    with driftstore.open(filled.root) as again:  # another connection sees the restored file
        assert again.require("p3").status == driftstore.Status.APPROVED


def test_a_restored_file_is_readable_by_any_sqlite_client(filled: driftstore.PatternStore) -> None:
    backup_id = filled.backup()
    filled.restore(backup_id)
    filled.close()
    with sqlite3.connect(db_path(filled)) as conn:
        assert conn.execute("SELECT count(*) FROM patterns").fetchone() == (20,)
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)


def test_unknown_or_path_like_ids_are_refused(filled: driftstore.PatternStore) -> None:
    before = state(filled)
    for bad in ("20200101T000000000Z-nope", "../drift.db", "/etc/passwd", ""):
        with pytest.raises(driftstore.BackupNotFoundError):
            filled.restore(bad)
    assert state(filled) == before


# --- failures half-way -----------------------------------------------------------------
def test_failure_while_checking_the_snapshot_changes_nothing(
    filled: driftstore.PatternStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    backup_id = filled.backup()
    _change(filled)
    before, listed = state(filled), filled.backups()

    def broken_check(path: Path, *, thorough: bool = False, label: str = "") -> None:
        raise IntegrityError(f"{path}: injected failure")

    monkeypatch.setattr(sqlite_restore, "check_snapshot", broken_check)
    with pytest.raises(IntegrityError, match="injected"):
        filled.restore(backup_id)
    assert state(filled) == before
    assert filled.backups() == listed  # the safety backup it had started is gone again
    assert _leftovers(filled) == []


def test_failure_during_the_copy_leaves_the_old_database(
    filled: driftstore.PatternStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The copy into the live database fails with every page but the last written: the
    copy is rolled back, its safety backup removed, and the store stays open and writable."""
    backup_id = filled.backup()
    _change(filled)
    before, listed = state(filled), filled.backups()
    real_copy = sqlite_restore.copy_into

    def failing_copy(dest: Any, snapshot: Path, *, path: Path, **hooks: Any) -> None:
        def fail() -> None:
            hooks["before_commit"]()
            raise StorageFullError(f"{path}: injected: no room")

        real_copy(dest, snapshot, path=path, **{**hooks, "before_commit": fail})

    monkeypatch.setattr(sqlite_restore, "copy_into", failing_copy)
    with pytest.raises(StorageFullError, match="injected"):
        filled.restore(backup_id)
    monkeypatch.undo()
    assert state(filled) == before
    assert filled.backups() == listed
    filled.approve("p5")  # and it is writable
    assert _leftovers(filled) == []
    assert filled.verify().ok


@pytest.mark.parametrize("cut", [0.3, 0.9])
def test_truncated_archive_is_refused_and_changes_nothing(
    filled: driftstore.PatternStore, cut: float
) -> None:
    backup_id = filled.backup()
    path = filled.drift_dir / "backups" / fmt.archive_name(backup_id)
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * cut)])
    _change(filled)
    before = state(filled)
    with pytest.raises(IntegrityError):
        filled.restore(backup_id)
    assert state(filled) == before


def test_snapshot_failing_sqlite_checks_is_refused(
    filled: driftstore.PatternStore, snapshot_bytes: bytes
) -> None:
    """Checksums match (the damage was there when it was archived), SQLite's check does not."""
    db = bytearray(snapshot_bytes)
    page = 4096
    for offset in range(2 * page, len(db) - page, page):  # scramble every b-tree page header
        db[offset : offset + 12] = b"\xff" * 12
    backup_id = plant(filled, zst(tar_of(*good_members(bytes(db)))))
    before = state(filled)
    with pytest.raises(IntegrityError, match=f"{backup_id}.tar.zst: the database in the backup"):
        filled.restore(backup_id)
    assert state(filled) == before


def _with_pragma(snapshot_bytes: bytes, tmp_path: Path, sql: str) -> bytes:
    path = tmp_path / "edited.db"
    path.write_bytes(snapshot_bytes)
    conn = apsw.Connection(str(path))
    conn.execute(sql)
    conn.close()
    return path.read_bytes()


def test_snapshot_from_a_newer_driftstore_is_refused(
    filled: driftstore.PatternStore, snapshot_bytes: bytes, tmp_path: Path
) -> None:
    db = _with_pragma(snapshot_bytes, tmp_path, "PRAGMA user_version = 99")
    backup_id = plant(filled, zst(tar_of(*good_members(db))))
    with pytest.raises(SchemaTooNewError, match="newer driftstore"):
        filled.restore(backup_id)
    assert filled.count() == 20


def test_snapshot_of_another_sqlite_database_is_refused(
    filled: driftstore.PatternStore, tmp_path: Path
) -> None:
    other = tmp_path / "other.db"
    conn = apsw.Connection(str(other))
    conn.execute("CREATE TABLE secrets(x)")
    conn.close()
    backup_id = plant(filled, zst(tar_of(*good_members(other.read_bytes()))))
    with pytest.raises(NotADriftStoreError):
        filled.restore(backup_id)
    assert filled.count() == 20


def test_a_reader_mid_read_keeps_its_snapshot_and_then_sees_the_restore(
    filled: driftstore.PatternStore,
) -> None:
    """No file is swapped under anyone: a read transaction open during the restore goes
    on reading the state it started with, and its next one sees the restored state."""
    backup_id = filled.backup()
    filled.delete("p2")
    other = apsw.Connection(str(db_path(filled)), flags=apsw.SQLITE_OPEN_READONLY)
    count = "SELECT count(*) FROM patterns"
    try:
        other.execute("BEGIN")
        assert other.execute(count).fetchall() == [(19,)]
        filled.restore(backup_id)
        assert other.execute(count).fetchall() == [(19,)]
        other.execute("COMMIT")
        assert other.execute(count).fetchall() == [(20,)]
    finally:
        other.close()
    assert filled.count() == 20


def test_a_second_store_object_in_this_process_sees_the_restore_and_writes_into_it(
    filled: driftstore.PatternStore,
) -> None:
    backup_id = filled.backup()
    with driftstore.open(filled.root) as second:
        assert [p.id for p in second.by_file("src/m0/f3.ts")] == ["p3"]  # builds its index
        filled.delete("p3")
        assert second.by_file("src/m0/f3.ts") == []
        filled.restore(backup_id)
        assert [p.id for p in second.by_file("src/m0/f3.ts")] == ["p3"]
        second.add(make_pattern("late", files=["src/late.ts"]))
    assert filled.count() == 21 and filled.exists("late")
    assert filled.verify().ok


def test_a_commit_made_while_the_restore_prepares_is_in_its_safety_backup(
    filled: driftstore.PatternStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another connection commits after the safety backup began but before the restore
    takes the write lock: the safety backup is taken again under the lock, so undoing the
    restore brings that commit back."""
    backup_id = filled.backup()
    real_prepare = sqlite_restore._checked_copyable

    def prepared_while_someone_writes(*args: Any, **kwargs: Any) -> Any:
        with driftstore.open(filled.root) as other:
            other.add(make_pattern("late", files=["src/late.ts"]))
        return real_prepare(*args, **kwargs)

    monkeypatch.setattr(sqlite_restore, "_checked_copyable", prepared_while_someone_writes)
    report = filled.restore(backup_id)
    monkeypatch.undo()
    assert not filled.exists("late") and filled.count() == 20
    assert [b.reason for b in filled.backups()].count("restore") == 1  # the stale one is gone
    assert report.backup is not None
    filled.restore(report.backup)
    assert filled.exists("late") and filled.count() == 21


# --- a database that cannot be opened ---------------------------------------------------
def test_restore_rescues_a_store_whose_database_is_garbage(
    filled: driftstore.PatternStore,
) -> None:
    before = state(filled)
    backup_id = filled.backup()
    filled.close()
    db_path(filled).write_bytes(b"this is not a database" * 100)
    with pytest.raises(NotADriftStoreError):
        driftstore.open(filled.root)
    report = driftstore.restore(filled.root, backup_id)
    assert report.backup is None and report.moved_aside is not None
    assert (Path(report.moved_aside) / "drift.db").read_bytes() == b"this is not a database" * 100
    with driftstore.open(filled.root) as store:
        assert state(store) == before


def test_restore_into_a_project_whose_database_was_deleted(
    filled: driftstore.PatternStore,
) -> None:
    before = state(filled)
    backup_id = filled.backup()
    filled.close()
    for suffix in ("", "-wal", "-shm"):
        Path(str(db_path(filled)) + suffix).unlink(missing_ok=True)
    report = driftstore.restore(filled.root, backup_id)
    assert report.moved_aside is None
    with driftstore.open(filled.root) as store:
        assert state(store) == before


# --- automatic backups -----------------------------------------------------------------
def test_ingest_with_prune_backs_up_first(filled: driftstore.PatternStore) -> None:
    before = state(filled)
    plain = filled.ingest([make_pattern("p0", files=["a.ts"])])
    assert plain.backup is None and filled.backups() == []
    report = filled.ingest([make_pattern("p0", files=["a.ts"])], prune=True, force=True)
    assert report.removed == 19
    assert report.backup is not None and report.backup.endswith("-ingest-prune")
    assert [b.id for b in filled.backups()] == [report.backup]
    filled.restore(report.backup)
    restored = state(filled)
    assert set(restored["patterns"]) == set(before["patterns"])


def test_a_schema_migration_backs_up_the_old_database_first(
    filled: driftstore.PatternStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    from driftstore.engine.sqlite import connection
    from driftstore.engine.sqlite import migrations as schema

    root = filled.root
    filled.close()
    extra = schema.Migration(
        schema.SCHEMA_VERSION + 1,
        "test: one more table",
        lambda cur: cur.execute("CREATE TABLE t2(x)"),
    )
    monkeypatch.setattr(connection, "MIGRATIONS", [*schema.MIGRATIONS, extra])
    monkeypatch.setattr(connection, "SCHEMA_VERSION", extra.version)
    with driftstore.open(root) as store:
        found = store.backups()
        assert [b.reason for b in found] == [f"schema-v{schema.SCHEMA_VERSION}"]
        assert store.count() == 20


def test_too_little_free_space_is_refused_before_writing(
    filled: driftstore.PatternStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    backup_id = filled.backup()
    _change(filled)
    before, listed = state(filled), filled.backups()
    real = backup_ops.shutil.disk_usage

    def nearly_full(path: str | Path) -> Any:
        usage = real(path)
        return usage._replace(free=backup_ops._FREE_MARGIN + 1000)

    monkeypatch.setattr(backup_ops.shutil, "disk_usage", nearly_full)
    with pytest.raises(StorageFullError, match="free disk space"):
        filled.restore(backup_id)
    assert state(filled) == before
    assert filled.backups() == listed
    assert _leftovers(filled) == []
