"""Running out of room: a file-size limit on the child process (writes fail with EFBIG, as
on a full disk) or SQLite's own page-count limit. Each case asserts both halves: one line
naming the cause with exit code 1, and the store and every earlier file as they were; then
the same command succeeds once the limit is lifted.
"""

from __future__ import annotations

import json
import random
import shutil
from pathlib import Path

import pytest

import driftstore
from driftstore.formats import shards
from tests.faults import tally
from tests.faults.checks import State, db_path, open_and_check
from tests.faults.data import scan, write_scan
from tests.faults.harness import cli, one_line_error, run_worker

FULL_WORDS = ("no room", "disk is full", "size limit")


class Base:
    """A store holding scan A (folder `root`), scan B on disk, and the states A and B give."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.root = tmp / "base"
        self.root.mkdir()
        self.scan_a = write_scan(tmp / "a.json", scan("p", 1, patterns=300))
        self.scan_b = write_scan(tmp / "b.json", scan("p", 2, patterns=300))
        with driftstore.open(self.root) as store:
            store.ingest(self.scan_a)
        self.state_a = open_and_check(self.root)
        after = self.copy("after-b")
        with driftstore.open(after) as store:
            store.ingest(self.scan_b)
        self.state_b = open_and_check(after)
        self.size = db_path(self.root).stat().st_size

    def copy(self, name: str) -> Path:
        target = self.tmp / name
        shutil.copytree(self.root, target)
        return target


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Base:
    return Base(tmp_path_factory.mktemp("disk-full"))


def _limits(base: Base, cases: int) -> list[int]:
    """Limits below, at and a little above the database's size: a merge of scan B needs a
    few hundred KiB of WAL, so every one of these runs out of room somewhere."""
    rng = random.Random(tally.seed())
    fixed = [base.size // 2, base.size, base.size + 4096, base.size + 64 * 1024]
    return (fixed + [base.size + rng.randrange(0, 200_000) for _ in range(cases)])[:cases]


def _assert_state(root: Path, expected: tuple[State, int]) -> None:
    assert open_and_check(root) == expected


def test_ingest_out_of_room_under_a_file_size_limit(base: Base) -> None:
    cases = tally.count("DRIFTSTORE_DISK_FULL_CASES", 6, 40)
    refused = 0
    for n, limit in enumerate(_limits(base, cases)):
        root = base.copy(f"fsize-{n}")
        result = cli("ingest", str(base.scan_b), "--root", str(root), limit=limit)
        if result.returncode == 0:
            _assert_state(root, base.state_b)  # it fitted: then all of it is there
            continue
        one_line_error(result, 1, *FULL_WORDS)
        _assert_state(root, base.state_a)
        assert base.scan_b.read_text().startswith("[")  # the input file is untouched
        refused += 1
        tally.add("disk-full cases")
        # space is back: the same command now succeeds
        again = cli("ingest", str(base.scan_b), "--root", str(root))
        assert again.returncode == 0, again.stderr
        _assert_state(root, base.state_b)
    assert refused >= cases // 2, f"only {refused} of {cases} limits were hit"


def test_ingest_out_of_room_under_sqlites_page_limit(base: Base) -> None:
    for extra_pages in (0, 5, 40):
        root = base.copy(f"pages-{extra_pages}")
        outcome = run_worker(
            "ingest", root, str(base.scan_b), env={"DRIFTSTORE_TEST_EXTRA_PAGES": str(extra_pages)}
        )
        assert outcome.returncode == 1, outcome.stderr
        lines = outcome.stderr.strip().splitlines()
        assert len(lines) == 1 and any(w in lines[0] for w in FULL_WORDS), outcome.stderr
        _assert_state(root, base.state_a)
        tally.add("disk-full cases")
        assert run_worker("ingest", root, str(base.scan_b)).returncode == 0
        _assert_state(root, base.state_b)


def _shards(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted((folder / "patterns").glob("*.json"))}


def test_export_out_of_room_keeps_every_earlier_file(base: Base) -> None:
    """Each shard is written to a temp file and renamed: a write refused for lack of room
    leaves every shard either as it was or wholly new, and no temp file behind."""
    rng = random.Random(tally.seed() + 1)
    root = base.copy("export")
    out = root / "exported"
    first = cli("export", "--out", str(out), "--root", str(root))
    assert first.returncode == 0, first.stderr
    old = _shards(out)
    largest = max(len(data) for data in old.values())
    assert cli("ingest", str(base.scan_b), "--root", str(root)).returncode == 0
    cases = tally.count("DRIFTSTORE_DISK_FULL_CASES", 4, 30)
    # above 64 KiB, so the store opens (SQLite's -shm file needs 32 KiB) and the limit
    # strikes while a shard is being written
    floor = 64 * 1024
    assert largest > 2 * floor
    limits = [floor, largest // 2, *(rng.randrange(floor, largest) for _ in range(cases - 2))]
    for limit in limits:
        result = cli("export", "--out", str(out), "--root", str(root), limit=limit)
        one_line_error(result, 1, *FULL_WORDS)
        now = _shards(out)
        assert set(now) == set(old)
        for name, data in now.items():
            assert data == old[name] or _whole_new_shard(data), f"{name} is torn"
        assert not list(out.rglob("*.driftstore-tmp")), "a temp file was left behind"
        tally.add("disk-full cases")
    # room again: the export completes
    assert cli("export", "--out", str(out), "--root", str(root)).returncode == 0
    assert all(_whole_new_shard(data) for data in _shards(out).values())
    assert cli("verify", "--root", str(root)).returncode == 0


def _whole_new_shard(data: bytes) -> bool:
    doc = json.loads(data)
    names = {entry["name"] for entry in doc["patterns"]}
    return names == {"p gen 2"} and doc["checksum"] == shards.entries_checksum(doc["patterns"])


def test_backup_out_of_room_lists_no_partial_archive(base: Base) -> None:
    root = base.copy("backup")
    made = cli("backup", "create", "--root", str(root), "--json")
    assert made.returncode == 0, made.stderr
    backups = root / ".drift" / "backups"
    earlier = {p.name: p.read_bytes() for p in backups.iterdir()}
    archive_size = max(len(data) for data in earlier.values())
    state = open_and_check(root)
    for limit in (64 * 1024, max(64 * 1024, archive_size // 2), base.size // 2):
        result = cli("backup", "create", "--root", str(root), limit=limit)
        one_line_error(result, 1, *FULL_WORDS)
        assert {p.name: p.read_bytes() for p in backups.iterdir()} == earlier
        assert open_and_check(root) == state
        tally.add("disk-full cases")
    again = cli("backup", "create", "--root", str(root), "--json")
    assert again.returncode == 0, again.stderr
    assert len(list(backups.iterdir())) == len(earlier) + 1
