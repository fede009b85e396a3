"""Where a SQLite store lives: `<project>/.drift/drift.db`."""

from __future__ import annotations

import functools
import os
import stat
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from driftstore.engine.base import MigrationHook, SnapshotInfo, StoreLocation
from driftstore.engine.sqlite.emptied import refuse_emptied
from driftstore.errors import DriftStoreError, Remedy, StoreNotFoundError

if TYPE_CHECKING:
    from driftstore.engine.sqlite.engine import SqliteEngine

DB_NAME = "drift.db"
_SIDECARS = ("-wal", "-shm", "-journal")


class SqliteLocation(StoreLocation):
    def __init__(self, drift_dir: Path) -> None:
        self.drift_dir = drift_dir
        self.db_path = drift_dir / DB_NAME

    def describe(self) -> str:
        return str(self.db_path)

    def exists(self) -> bool:
        return self.db_path.is_file()

    def open(self, *, create: bool, on_migration: MigrationHook | None) -> SqliteEngine:
        from driftstore.engine.sqlite.connection import Database
        from driftstore.engine.sqlite.engine import SqliteEngine

        if not create and not self.exists():
            raise StoreNotFoundError(
                f"{self.db_path}: no store here", remedy=Remedy.CREATE_STORE, path=str(self.db_path)
            )
        if create:
            try:
                self.drift_dir.mkdir(exist_ok=True)
            except OSError as exc:
                raise DriftStoreError(
                    f"{self.drift_dir}: cannot create it ({exc.strerror})"
                ) from None
        refuse_emptied(self.db_path, self.drift_dir)
        snap = self._snapshot_before_upgrade
        hook = (
            None
            if on_migration is None
            else functools.partial(_call_hook, on_migration, snapshot=snap)
        )
        return SqliteEngine(Database(self.db_path, before_migration=hook))

    def _snapshot_before_upgrade(self, target: Path) -> SnapshotInfo:
        from driftstore.engine.sqlite.connection import DEFAULT_BUSY_TIMEOUT_MS
        from driftstore.engine.sqlite.snapshot import take_snapshot

        return take_snapshot(self.db_path, target, busy_timeout_ms=DEFAULT_BUSY_TIMEOUT_MS)

    def check_snapshot(
        self, snapshot: Path, *, thorough: bool = False, label: str | None = None
    ) -> SnapshotInfo:
        from driftstore.engine.sqlite.snapshot import check_snapshot

        return check_snapshot(snapshot, thorough=thorough, label=label)

    def replace_unopenable(self, snapshot: Path, aside: Path) -> str | None:
        present = [p for p in (self.db_path, *self._sidecars()) if p.exists()]
        moved: Path | None = None
        if present:
            aside.mkdir()
            for path in present:
                os.replace(path, aside / path.name)
            _fsync_dir(self.db_path.parent)
            moved = aside
        try:
            self._install(snapshot)
        except BaseException:
            if moved is not None:
                for path in moved.iterdir():
                    os.replace(path, self.db_path.parent / path.name)
                moved.rmdir()
            raise
        return None if moved is None else str(moved)

    def _sidecars(self) -> list[Path]:
        return [self.db_path.with_name(self.db_path.name + suffix) for suffix in _SIDECARS]

    def _install(self, snapshot: Path) -> None:
        """Swap the verified snapshot in with one rename; stale -wal/-shm files of the old
        database go first, since SQLite would replay an old WAL into the new file."""
        try:
            os.chmod(snapshot, stat.S_IMODE(self.db_path.stat().st_mode))
        except FileNotFoundError:
            os.chmod(snapshot, 0o644)
        for sidecar in self._sidecars():
            sidecar.unlink(missing_ok=True)
        os.replace(snapshot, self.db_path)
        _fsync_dir(self.db_path.parent)


def _call_hook(
    hook: MigrationHook, old: int, new: int, *, snapshot: Callable[[Path], SnapshotInfo]
) -> None:
    hook(old, new, snapshot)


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def versions() -> dict[str, str]:
    """The SQLite library's version and the schema version this code writes."""
    import apsw

    from driftstore.engine.sqlite.migrations import SCHEMA_VERSION

    return {"sqlite": apsw.sqlite_lib_version(), "schema": str(SCHEMA_VERSION)}
