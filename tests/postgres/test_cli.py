"""The CLI on a shared store: --store/--project (before or after the command word, or from
the environment), `projects`, `copy` between SQLite and PostgreSQL, writers that wait a
bounded time, and passwords that never show."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

import driftstore
from tests.conftest import REAL_DRIFT, REPO

EXE = [sys.executable, "-m", "driftstore.cli.main"]
SAMPLE_SCAN = REPO / "samples" / "scan.json"


def cli(
    *args: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("DRIFTSTORE_")}
    environment.update(env or {})
    return subprocess.run(
        [*EXE, *args], capture_output=True, text=True, cwd=cwd, env=environment, timeout=120,
        check=False,
    )  # fmt: skip


def _json(done: subprocess.CompletedProcess[str]) -> object:
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "web-app"
    root.mkdir()
    return root


def test_store_and_project_before_or_after_the_command_word_or_from_the_environment(
    url: str, repo: Path
) -> None:
    assert (
        cli("--store", url, "--project", "shop", "ingest", str(SAMPLE_SCAN), cwd=repo).returncode
        == 0
    )
    after = _json(cli("status", "--json", "--store", url, "--project", "shop", cwd=repo))
    env = _json(
        cli(
            "status",
            "--json",
            cwd=repo,
            env={"DRIFTSTORE_STORE": url, "DRIFTSTORE_PROJECT": "shop"},
        )
    )
    assert after == env and after["totalPatterns"] > 20  # type: ignore[index]
    # nothing went to a SQLite file, and the default project (the folder's name) is empty
    assert not (repo / ".drift" / "drift.db").exists()
    missing = cli("status", "--store", url, cwd=repo)
    assert missing.returncode == 2 and missing.stderr.count("\n") == 1
    assert "no driftstore store in" in missing.stderr
    assert "(project web-app); 'driftstore projects' lists" in missing.stderr


def test_the_default_project_is_the_root_folders_name_found_from_a_subfolder(
    url: str, repo: Path
) -> None:
    env = {"DRIFTSTORE_STORE": url}
    assert cli("ingest", str(SAMPLE_SCAN), cwd=repo, env=env).returncode == 0
    deep = repo / "src" / "api"
    deep.mkdir(parents=True)
    listed = _json(cli("list", "--json", cwd=deep, env=env))
    assert listed["total"] > 20  # type: ignore[index]
    assert not (deep / ".drift").exists()
    projects = _json(cli("projects", "--json", cwd=deep, env=env))
    assert [p["project"] for p in projects] == ["web-app"]  # type: ignore[union-attr,index]
    status = _json(cli("status", "--json", cwd=deep, env=env))
    [info] = projects  # type: ignore[misc]
    assert info["patterns"] == status["totalPatterns"]  # type: ignore[index]
    assert info["locations"] == status["totalLocations"]  # type: ignore[index]


def test_projects_on_a_sqlite_store_is_one_line(repo: Path) -> None:
    done = cli("projects", cwd=repo)
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "postgresql://" in done.stderr


def _with_password(url: str, password: str) -> str:
    scheme, rest = url.split("://", 1)
    user, _, host = rest.partition("@")
    return f"{scheme}://{user.split(':')[0]}:{password}@{host}"


def test_a_password_never_shows(url: str, repo: Path) -> None:
    secret = "hunter2-Secret-Word"
    with_password = _with_password(url, secret)  # the test server trusts local users
    assert cli("ingest", str(SAMPLE_SCAN), "--store", with_password, cwd=repo).returncode == 0
    outputs = [
        cli("status", "--store", with_password, cwd=repo),
        cli("status", "--json", "--store", with_password, cwd=repo),
        cli("init", "--json", "--store", with_password, cwd=repo),
        cli("projects", "--store", with_password, cwd=repo),
        cli("history", "--json", "--store", with_password, cwd=repo),
        cli("show", "nope", "--store", with_password, cwd=repo),
        # a server that is not there: the driver's error is passed on, without the password
        cli("status", "--store", f"postgresql://u:{secret}@127.0.0.1:1/db", cwd=repo),
        cli("status", "--store", f"postgresql://u@127.0.0.1:1/db?password={secret}", cwd=repo),
    ]
    for done in outputs:
        assert secret not in done.stdout + done.stderr
    unreachable = outputs[-2]
    assert unreachable.returncode == 1 and unreachable.stderr.count("\n") == 1
    assert "postgresql://u:***@127.0.0.1:1/db" in unreachable.stderr
    assert "Traceback" not in unreachable.stderr


def _export(root: Path, out: Path, store: str | None = None) -> dict[str, bytes]:
    args = ["export", "--out", str(out), "--root", str(root)] + (
        ["--store", store] if store else []
    )
    assert cli(*args, cwd=root).returncode == 0
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in sorted(out.rglob("*.json"))}


@pytest.mark.parametrize("folder", sorted(p.name for p in REAL_DRIFT.iterdir() if p.is_dir()))
def test_copy_to_postgresql_and_back_exports_the_same_bytes(
    url: str, tmp_path: Path, folder: str
) -> None:
    """A real drift project: migrated into SQLite, copied to PostgreSQL, copied back into a
    new SQLite file: the same v2 export from all three, and the same history."""
    first = tmp_path / folder
    shutil.copytree(REAL_DRIFT / folder / ".drift", first / ".drift")
    assert cli("migrate", "--root", str(first), cwd=tmp_path).returncode == 0
    assert cli(
        "approve", "--root", str(first), "--category", "api", "--by", "lead", cwd=tmp_path
    ).returncode in (0, 2)
    before = _export(first, tmp_path / "from-sqlite")
    copied = _json(
        cli(
            "copy",
            "--to",
            url,
            "--to-project",
            "team",
            "--json",
            "--root",
            str(first),
            cwd=tmp_path,
        )
    )
    assert copied["backup"] is None and "drift.db" in copied["source"]  # type: ignore[index]
    on_server = tmp_path / "server-view"
    on_server.mkdir()
    with driftstore.open(on_server, store=url, project="team", create=False) as team:
        team.export(tmp_path / "from-postgres")
        history = [
            (h.id, h.pattern_id, h.action, h.at, h.by, h.reason, h.old, h.new)
            for h in team.history()
        ]
    assert _files(tmp_path / "from-postgres") == before
    back = tmp_path / "back"
    back.mkdir()
    done = _json(
        cli(
            "copy",
            "--from",
            url,
            "--from-project",
            "team",
            "--json",
            "--root",
            str(back),
            cwd=tmp_path,
        )
    )
    assert done["patterns"] == copied["patterns"] > 300  # type: ignore[index]
    assert _export(back, tmp_path / "from-sqlite-again") == before
    with driftstore.open(back, create=False) as again:
        assert [
            (h.id, h.pattern_id, h.action, h.at, h.by, h.reason, h.old, h.new)
            for h in again.history()
        ] == history


def _files(out: Path) -> dict[str, bytes]:
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in sorted(out.rglob("*.json"))}


def test_copy_into_a_store_that_holds_patterns_needs_replace(url: str, repo: Path) -> None:
    assert cli("ingest", str(SAMPLE_SCAN), cwd=repo).returncode == 0
    assert (
        cli("ingest", str(SAMPLE_SCAN), "--store", url, "--project", "other", cwd=repo).returncode
        == 0
    )
    refused = cli("copy", "--to", url, "--to-project", "other", cwd=repo)
    assert refused.returncode == 2 and "--replace" in refused.stderr
    same = cli("copy", "--to", "sqlite", cwd=repo)
    assert same.returncode == 2 and "same store" in same.stderr
    done = _json(cli("copy", "--to", url, "--to-project", "other", "--replace", "--json", cwd=repo))
    assert done["backup"]  # type: ignore[index]
    backups = _json(cli("backup", "list", "--json", cwd=repo))
    assert done["backup"] in [b["id"] for b in backups]  # type: ignore[index,union-attr]


HOLD = """
import sys, time, driftstore
with driftstore.open(sys.argv[1], store=sys.argv[2]) as s, s.engine.write():
    print("held", flush=True)
    time.sleep(float(sys.argv[3]))
"""


def test_a_decision_waits_for_a_running_write_or_says_so_in_one_line(url: str, repo: Path) -> None:
    assert cli("ingest", str(SAMPLE_SCAN), "--store", url, cwd=repo).returncode == 0
    first = _json(cli("list", "--json", "--limit", "1", "--store", url, cwd=repo))["patterns"][0][
        "id"
    ]  # type: ignore[index]
    env = {k: v for k, v in os.environ.items() if not k.startswith("DRIFTSTORE_")}
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(repo), url, "3"], stdout=subprocess.PIPE, text=True, env=env
    )  # fmt: skip
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        busy = cli("approve", first, "--store", url, cwd=repo, env={"DRIFTSTORE_LOCK_WAIT": "0.5"})
        assert busy.returncode == 1 and busy.stderr.count("\n") == 1
        assert "another write held it" in busy.stderr and "DRIFTSTORE_LOCK_WAIT" in busy.stderr
        started = time.monotonic()
        waited = cli("approve", first, "--store", url, cwd=repo)  # default wait: 60 s
        assert waited.returncode == 0, waited.stderr
        assert time.monotonic() - started > 0.5  # it waited for the holder's commit
    finally:
        holder.wait(timeout=30)
    shown = _json(cli("show", first, "--json", "--store", url, cwd=repo))
    assert shown["status"] == "approved"  # type: ignore[index]
