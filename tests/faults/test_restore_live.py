"""A restore seen by processes that hold the store open; a truncated (0-byte) database; the
work folders a killed backup leaves behind."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

import driftstore
from driftstore.facade import backup_work
from tests.factories import make_pattern
from tests.faults.checks import db_path
from tests.faults.harness import cli, one_line_error, worker


class Holder:
    """A child process keeping the store open (`workers.holder`), asked one line at a time."""

    def __init__(self, root: Path) -> None:
        self.proc = worker("holder", root)
        assert self.ask_raw() == "ready"

    def ask_raw(self) -> str:
        assert self.proc.stdout is not None
        return self.proc.stdout.readline().strip()

    def ask(self, command: str) -> str:
        assert self.proc.stdin is not None
        self.proc.stdin.write(command + "\n")
        self.proc.stdin.flush()
        return self.ask_raw()

    def close(self) -> str:
        _out, err = self.proc.communicate("quit\n", timeout=60)
        return err


def _project(root: Path, count: int) -> None:
    with driftstore.open(root) as store:
        store.add_many(make_pattern(f"p{i}", files=[f"src/p{i}.ts"]) for i in range(count))


def test_a_process_holding_the_store_open_reads_and_writes_the_restored_database(
    tmp_path: Path,
) -> None:
    """Process A has the store open (its connections, its by-file index); process B
    restores a backup. A's next read sees the restored state and A's next write lands in
    it: nothing is written to a replaced file that nobody reads any more."""
    root = tmp_path / "project"
    root.mkdir()
    _project(root, 5)
    with driftstore.open(root) as store:
        backup_id = store.backup("five")
        store.add_many(make_pattern(f"q{i}", files=["src/p1.ts"]) for i in range(5))
    holder = Holder(root)
    try:
        assert holder.ask("count") == "10"
        assert holder.ask("file src/p1.ts") == "p1,q0,q1,q2,q3,q4"
        restored = cli("backup", "restore", backup_id, "--root", str(root))
        assert restored.returncode == 0, restored.stderr
        assert holder.ask("count") == "5"
        assert holder.ask("file src/p1.ts") == "p1"
        assert holder.ask("add fromA") == "added"
        assert holder.ask("count") == "6"
    finally:
        err = holder.close()
    assert holder.proc.returncode == 0 and "Traceback" not in err, err
    with driftstore.open(root) as store:
        assert store.count() == 6 and store.exists("fromA") and not store.exists("q0")
        assert store.verify().ok
        assert [b.reason for b in store.backups()] == ["restore", "five"]


def test_an_emptied_database_beside_backups_is_refused_not_opened_as_new(
    tmp_path: Path,
) -> None:
    root = tmp_path / "project"
    root.mkdir()
    _project(root, 3)
    with driftstore.open(root) as store:
        backup_id = store.backup("three")
    for suffix in ("-wal", "-shm"):
        Path(f"{db_path(root)}{suffix}").unlink(missing_ok=True)
    db_path(root).write_bytes(b"")
    for command in (["status"], ["list", "--json"], ["verify"]):
        line = one_line_error(cli(*command, "--root", str(root)), 1, "empty")
        assert "0 bytes" in line and "backup restore" in line and "delete the file" in line
    with pytest.raises(driftstore.IntegrityError, match="truncated"):
        driftstore.open(root)
    assert db_path(root).read_bytes() == b""  # untouched
    restored = cli("backup", "restore", backup_id, "--root", str(root))
    assert restored.returncode == 0, restored.stderr
    with driftstore.open(root) as store:
        assert store.count() == 3


def test_an_emptied_database_beside_shards_is_refused(tmp_path: Path) -> None:
    root = tmp_path / "project"
    root.mkdir()
    _project(root, 2)
    with driftstore.open(root) as store:
        store.export()
    for suffix in ("-wal", "-shm"):
        Path(f"{db_path(root)}{suffix}").unlink(missing_ok=True)
    db_path(root).write_bytes(b"")
    with pytest.raises(driftstore.IntegrityError, match="shards"):
        driftstore.open(root)
    db_path(root).unlink()  # the way out the message names: start afresh, then import
    with driftstore.open(root) as store:
        store.import_()
        assert store.count() == 2


def test_an_empty_database_with_nothing_beside_it_is_a_new_store(tmp_path: Path) -> None:
    root = tmp_path / "project"
    (root / ".drift").mkdir(parents=True)
    db_path(root).write_bytes(b"")
    with driftstore.open(root) as store:
        assert store.count() == 0


def _work(backups: Path, name: str, age: float) -> Path:
    folder = backups / f"{backup_work.PREFIX}{name}"
    folder.mkdir(parents=True)
    (folder / "drift.db").write_bytes(b"half a snapshot")
    moment = time.time() - age
    os.utime(folder, (moment, moment))
    return folder


def test_work_folders_of_killed_runs_go_at_the_next_backup_live_ones_stay(
    tmp_path: Path,
) -> None:
    root = tmp_path / "project"
    root.mkdir()
    _project(root, 2)
    backups = root / ".drift" / "backups"
    dead = _work(backups, "dead", 3600)
    young = _work(backups, "young", 5)
    # a live owner: another process holding the folder's lock, however old the folder
    live = _work(backups, "live", 3600)
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import fcntl, os, sys; fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT); "
            "fcntl.flock(fd, fcntl.LOCK_EX); print('locked', flush=True); sys.stdin.read()",
            str(live / backup_work.OWNER),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        os.utime(live, (time.time() - 3600,) * 2)
        with driftstore.open(root) as store:
            store.backup("next")
        assert not dead.exists()
        assert young.exists() and live.exists()
    finally:
        holder.communicate("", timeout=30)
    with driftstore.open(root) as store:
        os.utime(live, (time.time() - 3600,) * 2)
        store.prune_backups(keep=5)  # its owner is gone now
    assert not live.exists() and young.exists()


def test_the_folder_of_a_killed_owner_goes_at_the_next_backup(tmp_path: Path) -> None:
    """A process killed inside its work folder (SIGKILL: no cleanup runs) leaves it behind,
    its lock gone with it; the next backup removes it once it is a minute old."""
    root = tmp_path / "project"
    root.mkdir()
    _project(root, 2)
    backups = root / ".drift" / "backups"
    backups.mkdir(parents=True, exist_ok=True)
    owner = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys; from pathlib import Path; "
            "from driftstore.facade.backup_work import work_folder\n"
            "with work_folder(Path(sys.argv[1])) as work:\n"
            "    (work / 'drift.db').write_bytes(b'half'); print(work, flush=True)\n"
            "    sys.stdin.read()",
            str(backups),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert owner.stdout is not None
    left = Path(owner.stdout.readline().strip())
    owner.kill()
    owner.communicate(timeout=30)
    assert (left / "drift.db").exists()
    with driftstore.open(root) as store:
        store.backup("too-soon")
        assert left.exists()  # younger than a minute: its owner may not have locked it yet
        os.utime(left, (time.time() - 120,) * 2)
        store.backup("after")
    assert not left.exists()
    assert not list(backups.glob(f"{backup_work.PREFIX}*"))
