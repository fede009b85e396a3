"""`driftstore backup ...` end to end, on real drift data, through the real entry point."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from driftstore.formats import backups as fmt
from tests.backups.conftest import manifest_bytes, member, tar_of, zst
from tests.clirun import Result, run_cli
from tests.conftest import REAL_DRIFT

APPROVED = REAL_DRIFT / "jrmatherly__aionui" / ".drift" / "patterns" / "approved"


Run = Callable[..., Result]


@pytest.fixture
def run(capsys: pytest.CaptureFixture[str], root: Path) -> Run:
    def invoke(*args: str) -> Result:
        return run_cli(capsys, root, *args)

    return invoke


@pytest.fixture
def project(run: Run) -> Run:
    """A store holding real drift 0.9 data: the 455 approved patterns of one project."""
    for shard in sorted(APPROVED.glob("*.json")):
        assert run("ingest", str(shard)).code == 0
    assert run("status", "--json").json()["totalPatterns"] == 455
    return run


def _one_line_error(result: Result, code: int) -> str:
    assert result.code == code
    assert result.out == ""
    assert result.err.count("\n") == 1 and result.err.startswith("driftstore: ")
    return result.err


def test_backup_create_list_restore_prune(project: Run, root: Path) -> None:
    status = _content(project("status", "--json").json())
    created = project("backup", "create", "--reason", "before cleanup", "--json")
    assert created.code == 0
    info = created.json()
    assert set(info) == {"id", "createdAt", "reason", "bytes"}
    assert re.fullmatch(r"\d{8}T\d{9}Z-before-cleanup", info["id"])
    assert info["reason"] == "before-cleanup" and info["bytes"] > 0

    listed = project("backup", "list", "--json").json()
    assert listed == [info]

    # decisions, then a pruning scan that deletes every discovered pattern it did not see
    some = [p["id"] for p in project("list", "--json", "--limit", "3").json()["patterns"]]
    assert project("ignore", *some).code == 0
    shard = sorted(APPROVED.glob("*.json"))[0]
    scan = project("ingest", str(shard), "--prune", "--force", "--json").json()
    assert scan["removed"] > 100 and scan["backup"].endswith("-ingest-prune")
    assert project("status", "--json").json()["totalPatterns"] < 100

    restored = project("backup", "restore", info["id"], "--json")
    assert restored.code == 0, restored.err
    report = restored.json()
    assert report["restored"] == info["id"]
    assert report["backup"].endswith("-restore") and report["movedAside"] is None
    assert _content(project("status", "--json").json()) == status

    ids = [b["id"] for b in project("backup", "list", "--json").json()]
    assert len(ids) == 3 and ids == sorted(ids, reverse=True)
    pruned = project("backup", "prune", "--keep", "1", "--json").json()
    assert pruned == {"removedBackups": sorted(ids[1:]), "keep": 1}
    assert [b["id"] for b in project("backup", "list", "--json").json()] == ids[:1]


def test_human_output(project: Run) -> None:
    assert "no backups yet" in project("backup", "list").out
    made = project("backup", "create")
    assert made.code == 0 and made.out.startswith("backup ") and "-manual" in made.out
    backup_id = made.out.split()[1]
    assert backup_id in project("backup", "list").out
    restored = project("backup", "restore", backup_id)
    assert restored.code == 0 and f"restored {backup_id}" in restored.out


@pytest.mark.parametrize("bad", ["20200101T000000000Z-manual", "../../etc/passwd", "latest"])
def test_unknown_backup_id_is_one_line_and_exit_2(project: Run, bad: str) -> None:
    err = _one_line_error(project("backup", "restore", bad), 2)
    assert "backup list" in err


def test_hostile_archive_is_refused_with_one_line(project: Run, root: Path) -> None:
    status = _content(project("status", "--json").json())
    folder = root / ".drift" / "backups"
    folder.mkdir(exist_ok=True)
    backup_id = "20200101T000000000Z-planted"
    db = b"x" * 100
    evil = tar_of(member(fmt.MANIFEST, manifest_bytes(db)), member("../../drift.db", db))
    (folder / fmt.archive_name(backup_id)).write_bytes(zst(evil))
    err = _one_line_error(project("backup", "restore", backup_id), 1)
    assert backup_id in err
    assert _content(project("status", "--json").json()) == status
    assert [p.name for p in folder.iterdir()] == [fmt.archive_name(backup_id)]


def test_bad_reason_and_keep_are_usage_errors(project: Run) -> None:
    assert "reason" in _one_line_error(project("backup", "create", "--reason", "!!!"), 2)
    assert "--keep" in _one_line_error(project("backup", "prune", "--keep", "-1"), 2)
    assert "--keep" in _one_line_error(project("backup", "prune"), 2)


def test_restore_works_when_the_database_is_damaged(project: Run, root: Path) -> None:
    status = _content(project("status", "--json").json())
    backup_id = project("backup", "create", "--json").json()["id"]
    db = root / ".drift" / "drift.db"
    for suffix in ("-wal", "-shm"):
        Path(str(db) + suffix).unlink(missing_ok=True)
    db.write_bytes(b"\0" * 4096)
    assert project("status").code != 0
    assert [b["id"] for b in project("backup", "list", "--json").json()] == [backup_id]
    report = project("backup", "restore", backup_id, "--json")
    assert report.code == 0, report.err
    assert report.json()["movedAside"]
    assert _content(project("status", "--json").json()) == status


def _content(status: dict[str, Any]) -> dict[str, Any]:
    """What the store holds, without its generation (which a restore moves on)."""
    return {k: v for k, v in status.items() if k != "generation"}
