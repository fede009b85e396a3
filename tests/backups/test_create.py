"""Creating, listing and pruning backups; consistency under load; a full disk."""

from __future__ import annotations

import errno
import os
import resource
import signal
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

import driftstore
from driftstore.engine.sqlite import snapshot as snapshot_mod
from driftstore.engine.sqlite import snapshot as sqlite_snapshot
from driftstore.errors import InvalidInputError, StorageFullError
from driftstore.facade import backups as backup_ops
from driftstore.formats import backups as fmt
from tests.backups.conftest import fill, state
from tests.factories import make_pattern
from tests.sqlite_access import database


def _contents(archive_dir: Path, backup_id: str, tmp_path: Path) -> dict[str, Any]:
    """The state stored in a backup, read through a store of its own."""
    project = tmp_path / f"view-{backup_id}"
    (project / ".drift").mkdir(parents=True)
    fmt.read_archive(
        archive_dir / fmt.archive_name(backup_id), project / ".drift", room_bytes=1 << 30
    )
    with driftstore.open(project) as view:
        return state(view)


def test_backup_holds_the_current_state(filled: driftstore.PatternStore, tmp_path: Path) -> None:
    backup_id = filled.backup("Before big refactor")
    assert backup_id.endswith("-before-big-refactor")
    info = filled.backups()[0]
    assert info.id == backup_id and info.reason == "before-big-refactor"
    assert info.bytes == (filled.drift_dir / "backups" / fmt.archive_name(backup_id)).stat().st_size
    assert abs(fmt.parse_backup_id(backup_id)[0] - datetime.now(UTC)).total_seconds() < 60
    assert _contents(filled.drift_dir / "backups", backup_id, tmp_path) == state(filled)
    assert not [p for p in (filled.drift_dir / "backups").iterdir() if p.is_dir()]


def test_ids_stay_unique_within_one_millisecond(
    filled: driftstore.PatternStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    frozen = datetime(2026, 5, 1, 12, 0, 0, 123000, tzinfo=UTC)

    class Frozen(datetime):
        @classmethod
        def now(cls, tz: Any = None) -> Frozen:  # type: ignore[override]
            return cls.fromtimestamp(frozen.timestamp(), tz)

    monkeypatch.setattr(backup_ops, "datetime", Frozen)
    ids = [filled.backup("same") for _ in range(3)]
    assert ids == [
        "20260501T120000123Z-same",
        "20260501T120000124Z-same",
        "20260501T120000125Z-same",
    ]
    assert [b.id for b in filled.backups()] == ids[::-1]


def test_list_is_newest_first_and_ignores_other_files(
    filled: driftstore.PatternStore,
) -> None:
    first = filled.backup("one")
    second = filled.backup("two")
    folder = filled.drift_dir / "backups"
    (folder / "notes.txt").write_text("mine")
    (folder / "../x.tar.zst").write_text("not here")
    (folder / "20260101T000000000Z-Bad.tar.zst").write_text("bad name")
    os.symlink("/etc/passwd", folder / "20260101T000000000Z-link.tar.zst")
    assert [b.id for b in filled.backups()] == [second, first]


def test_prune_keeps_the_newest(filled: driftstore.PatternStore) -> None:
    ids = [filled.backup(f"n{i}") for i in range(4)]
    folder = filled.drift_dir / "backups"
    (folder / "notes.txt").write_text("mine")
    stale = folder / ".tmp-crashed"
    stale.mkdir()
    old = time.time() - 7 * 3600
    os.utime(stale, (old, old))
    fresh = folder / ".tmp-running"
    fresh.mkdir()
    assert filled.prune_backups(2) == ids[:2]
    assert [b.id for b in filled.backups()] == ids[:1:-1]
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        [fmt.archive_name(i) for i in ids[2:]] + ["notes.txt", ".tmp-running"]
    )
    assert filled.prune_backups(5) == []
    assert filled.prune_backups(0) == ids[2:]
    with pytest.raises(InvalidInputError, match="--keep"):
        filled.prune_backups(-1)


def test_readers_and_writers_keep_working_while_a_backup_runs(
    filled: driftstore.PatternStore, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The snapshot holds one read transaction: while it is paused half-way, another
    thread reads and commits; the backup holds the state from before that commit."""
    monkeypatch.setattr(snapshot_mod, "PAGES_PER_STEP", 1)
    before = state(filled)
    done: dict[str, Any] = {}
    steps: list[int] = []
    real = sqlite_snapshot.take_snapshot

    def others() -> None:
        done["read"] = filled.count()
        filled.add(make_pattern("during", files=["src/during.ts"]))
        done["wrote"] = filled.exists("during")

    def paused(source: Path, target: Path, **kwargs: Any) -> Any:
        def on_step(pages: int, total: int) -> None:
            steps.append(pages)
            if len(steps) == 1:
                worker = threading.Thread(target=others)
                worker.start()
                worker.join(timeout=20)
                assert not worker.is_alive(), "a reader or writer waited for the backup"

        return real(source, target, **{**kwargs, "on_step": on_step})

    monkeypatch.setattr(sqlite_snapshot, "take_snapshot", paused)
    backup_id = filled.backup("under-load")
    assert done == {"read": 20, "wrote": True}
    assert len(steps) > 5 and steps[0] < steps[-1]
    assert _contents(filled.drift_dir / "backups", backup_id, tmp_path) == before
    assert filled.exists("during")


def test_full_disk_while_archiving_changes_nothing(
    filled: driftstore.PatternStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    existing = filled.backup("kept")

    def full(out: Any, manifest: Any, snapshot: Path, **kwargs: Any) -> None:
        out.write(b"partial archive")
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(backup_ops, "write_archive", full)
    with pytest.raises(StorageFullError) as caught:
        filled.backup("doomed")
    assert "\n" not in str(caught.value) and "full" in str(caught.value)
    assert [b.id for b in filled.backups()] == [existing]
    assert sorted(p.name for p in (filled.drift_dir / "backups").iterdir()) == [
        fmt.archive_name(existing)
    ]
    filled.approve("p1")  # the store is untouched and writable


def _limit_file_size(limit: int) -> Any:
    def apply() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)

    return apply


def test_full_disk_while_taking_the_snapshot_gives_one_line(root: Path) -> None:
    """A real write failure from the OS (a file-size limit stands in for a full disk)."""
    with driftstore.open(root) as store:
        fill(store, count=300, files=40)
        (pages,), (page_size,) = database(store).query("PRAGMA page_count") + database(store).query(
            "PRAGMA page_size"
        )
        size = pages * page_size
        before = state(store)
    assert size > 1 << 20
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2] / "src")}
    proc = subprocess.run(
        [sys.executable, "-m", "driftstore.cli.main", "backup", "create", "--root", str(root)],
        capture_output=True,
        text=True,
        env=env,
        preexec_fn=_limit_file_size(size // 2),
        timeout=60,
        check=False,
    )
    assert proc.returncode == 1, proc.stderr
    assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr
    assert "no room to write a backup" in proc.stderr
    with driftstore.open(root) as store:
        assert state(store) == before
        assert store.backups() == []
        assert not list((store.drift_dir / "backups").iterdir())
