"""`SqliteEngine`: a driftstore SQLite file behind the engine interface."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import apsw

from driftstore.engine.base import (
    Engine,
    EngineInfo,
    Reader,
    SnapshotInfo,
    Writer,
)
from driftstore.engine.sqlite import bookkeeping, changes, restore, snapshot
from driftstore.engine.sqlite.connection import Database
from driftstore.engine.sqlite.errors import translate
from driftstore.engine.sqlite.migrations import SCHEMA_VERSION
from driftstore.engine.sqlite.reader import SqliteReader
from driftstore.engine.sqlite.writer import SqliteWriter
from driftstore.model.clock import now_iso

#: another process's commit is seen within this long by `generation()`; this process's
#: own commits, and anything a read of this process may already have seen, at once
CHECK_INTERVAL_S = 0.001


class SqliteEngine(Engine):
    def __init__(self, db: Database) -> None:
        self.db = db
        self._local = threading.local()
        self._probe_lock = threading.Lock()
        self._probe: apsw.Connection | None = None
        self._probe_version = -1
        self._generation = -1
        #: `Database.local_marks()` when the generation was last read, and when to look again
        self._marks = -1
        self._next_check = 0.0

    @property
    def path(self) -> Path:
        return self.db.path

    def info(self) -> EngineInfo:
        return EngineInfo(
            kind="sqlite",
            location=str(self.db.path),
            server_version=apsw.sqlite_lib_version(),
            schema_version=SCHEMA_VERSION,
        )

    # --- units of work -----------------------------------------------------------------
    @contextmanager
    def read(self) -> Iterator[Reader]:
        with self.db.reader() as conn:
            yield SqliteReader(conn)

    @contextmanager
    def write(self) -> Iterator[Writer]:
        active: SqliteWriter | None = getattr(self._local, "writer", None)
        if active is not None:  # a write inside a write of this thread joins it
            yield active
            return
        with self.db.transaction() as cur:
            writer = SqliteWriter(cur, now=now_iso())
            self._local.writer = writer
            try:
                yield writer
                writer.finish()
            finally:
                self._local.writer = None

    # --- the change signal -------------------------------------------------------------
    def generation(self) -> int:
        marks = self.db.local_marks()
        if marks == self._marks and time.monotonic() < self._next_check:
            return self._generation
        with self._probe_lock:
            try:
                if self._probe is None:
                    self._probe = self.db.connect_reader()
                version = int(self._probe.execute("PRAGMA data_version").get)
                if version != self._probe_version or marks != self._marks:
                    self._generation = changes.current(self._probe)
                    self._probe_version = version
            except apsw.Error as exc:
                raise translate(exc, self.db.path) from None
            self._marks = marks
            self._next_check = time.monotonic() + CHECK_INTERVAL_S
            return self._generation

    # --- snapshots ---------------------------------------------------------------------
    def snapshot_to(
        self, target: Path, *, on_step: Callable[[int, int], None] | None = None
    ) -> SnapshotInfo:
        return snapshot.take_snapshot(
            self.db.path, target, busy_timeout_ms=self.db.busy_timeout_ms, on_step=on_step
        )

    def restore_from(
        self,
        snapshot_file: Path,
        *,
        label: str,
        thorough: bool,
        save_current: Callable[[], str],
        discard: Callable[[str], None],
    ) -> str:
        return restore.restore_live(
            self.db,
            snapshot_file,
            label=label,
            thorough=thorough,
            save_current=save_current,
            discard=discard,
        )

    # --- checks and the end --------------------------------------------------------------
    def check_integrity(self) -> list[str]:
        with self.db.reader() as conn:
            return bookkeeping.integrity_problems(conn)

    def close(self) -> None:
        with self._probe_lock:
            if self._probe is not None:
                self._probe.close()
                self._probe = None
        self.db.close()
