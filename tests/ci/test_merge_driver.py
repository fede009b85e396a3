"""The shard merge driver in real git repositories: two branches, `git merge`."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

import driftstore
from driftstore.formats.shard_merge import merge_entry
from tests.clirun import run_cli
from tests.factories import make_pattern

DRIVER = f"{shlex.quote(sys.executable)} -m driftstore.cli.main"
ENV = {
    **os.environ,
    "GIT_AUTHOR_NAME": "t",
    "GIT_AUTHOR_EMAIL": "t@example.invalid",
    "GIT_COMMITTER_NAME": "t",
    "GIT_COMMITTER_EMAIL": "t@example.invalid",
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_CONFIG_NOSYSTEM": "1",
}


def git(root: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        ["git", "-C", str(root), *args], capture_output=True, text=True, env=ENV, timeout=60
    )
    if check and done.returncode != 0:
        raise AssertionError(f"git {' '.join(args)}: {done.stdout}{done.stderr}")
    return done


def decide(root: Path, **decisions: str) -> None:
    with driftstore.open(root) as store:
        for pid, status in decisions.items():
            (store.approve if status == "approved" else store.ignore)(pid, by="t")
        store.export()
    git(root, "add", "-A", ".drift/patterns", ".drift/indexes")
    git(root, "commit", "-q", "-m", f"decide {decisions}")


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    with driftstore.open(root) as store:
        store.ingest(
            [make_pattern(f"p{i}", files=[f"src/f{i}.ts", "src/shared.ts"]) for i in range(1, 6)]
            + [make_pattern("q1", category="auth", files=["src/auth.ts"])]
        )
        store.export()
    (root / ".gitignore").write_text(".drift/drift.db*\n.drift/backups/\n")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "scan")
    return root


def branches(repo: Path, ours: dict[str, str], theirs: dict[str, str]) -> None:
    git(repo, "checkout", "-q", "-b", "theirs")
    decide(repo, **theirs)
    git(repo, "checkout", "-q", "main")
    decide(repo, **ours)


def test_different_decisions_merge_cleanly_with_the_driver_and_conflict_without(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    branches(repo, {"p1": "approved"}, {"p2": "approved", "p3": "ignored"})
    # without the driver, git's line merge trips over the shard's header (counts, checksum)
    plain = git(repo, "merge", "-q", "theirs", "-m", "m", check=False)
    assert plain.returncode != 0 and "CONFLICT" in plain.stdout + plain.stderr
    git(repo, "merge", "--abort")

    setup = run_cli(capsys, repo, "git-setup", "--command", DRIVER, "--json")
    assert setup.code == 0, setup.err
    assert setup.json()["added"] and setup.json()["configured"]
    again = run_cli(capsys, repo, "git-setup", "--command", DRIVER, "--json").json()
    assert again["added"] == [] and again["configured"] is False  # idempotent
    assert (repo / ".gitattributes").read_text().count("merge=driftstore") == 2

    merged = git(repo, "merge", "-q", "theirs", "-m", "merge theirs", check=False)
    assert merged.returncode == 0, merged.stdout + merged.stderr
    shard = json.loads((repo / ".drift" / "patterns" / "api.json").read_text())
    statuses = {p["id"]: p["status"] for p in shard["patterns"]}
    assert statuses == {
        "p1": "approved",
        "p2": "approved",
        "p3": "ignored",
        "p4": "discovered",
        "p5": "discovered",
    }
    assert shard["statusCounts"] == {"discovered": 2, "approved": 2, "ignored": 1}
    # the merged files are what an export of the merged store writes: checksums hold
    other = repo.parent / "teammate"
    other.mkdir()
    with driftstore.open(other) as store:
        report = store.import_(repo / ".drift")
        assert report.forced_files == []
        assert store.verify().ok
        assert {
            p.id for p in store.query(driftstore.PatternFilter(statuses=["approved"])).patterns
        } == {
            "p1",
            "p2",
        }
        store.export()
    for name in ("patterns/api.json", "patterns/auth.json", "indexes/by-file.json"):
        assert (other / ".drift" / name).read_bytes() == (repo / ".drift" / name).read_bytes()


def test_two_different_decisions_on_one_pattern_are_a_marked_conflict(repo: Path) -> None:
    driftstore.git_setup(repo, DRIVER)
    git(repo, "add", ".gitattributes")
    git(repo, "commit", "-q", "-m", "driver")
    branches(repo, {"p4": "approved", "p1": "approved"}, {"p4": "ignored", "p2": "approved"})
    merged = git(repo, "merge", "-q", "theirs", "-m", "m", check=False)
    assert merged.returncode != 0
    text = (repo / ".drift" / "patterns" / "api.json").read_text()
    assert "<<<<<<< ours: pattern p4 is approved here" in text
    assert ">>>>>>> theirs: pattern p4 is ignored there" in text
    assert text.count("<<<<<<<") == 1, text  # p1 and p2 merged, only p4 is in conflict
    status = git(repo, "status", "--porcelain").stdout
    assert "UU .drift/patterns/api.json" in status
    # keeping either side's block leaves a well-formed shard
    for keep in ("ours", "theirs"):
        lines, inside = [], None
        for line in text.splitlines():
            if line.startswith("<<<<<<<"):
                inside = "ours"
            elif line.startswith("======="):
                inside = "theirs"
            elif line.startswith(">>>>>>>"):
                inside = None
            elif inside in (None, keep):
                lines.append(line)
        kept = json.loads("\n".join(lines))
        assert {p["id"]: p["status"] for p in kept["patterns"]}["p4"] == (
            "approved" if keep == "ours" else "ignored"
        )


def test_the_merge_is_deterministic(repo: Path, tmp_path: Path) -> None:
    base = (repo / ".drift" / "patterns" / "api.json").read_bytes()
    branches(repo, {"p1": "approved"}, {"p2": "approved"})
    ours = (repo / ".drift" / "patterns" / "api.json").read_bytes()
    theirs = git(repo, "show", "theirs:.drift/patterns/api.json").stdout.encode()
    results = []
    for _ in range(2):
        for name, data in (("O", base), ("A", ours), ("B", theirs)):
            (tmp_path / name).write_bytes(data)
        report = driftstore.merge_files(
            tmp_path / "O", tmp_path / "A", tmp_path / "B", ".drift/patterns/api.json"
        )
        assert report.conflicts == [] and report.kind == "shard"
        results.append((tmp_path / "A").read_bytes())
    assert results[0] == results[1]


def test_entry_rules() -> None:
    base = {"id": "p", "status": "discovered", "name": "a", "metadata": {"lastSeen": "1"}}
    approved = {**base, "status": "approved", "metadata": {"lastSeen": "1", "approvedAt": "5"}}
    rescanned = {**base, "name": "b", "metadata": {"lastSeen": "2"}}
    merged, problem = merge_entry(base, approved, rescanned)
    assert problem is None and merged is not None
    assert merged["status"] == "approved" and merged["name"] == "b"
    assert merged["metadata"] == {"lastSeen": "2", "approvedAt": "5"}
    ignored = {**base, "status": "ignored"}
    assert merge_entry(base, approved, ignored)[1] is not None
    assert merge_entry(base, None, approved) == (approved, None)  # changed beats deleted
    assert merge_entry(base, None, base) == (None, None)  # deleted, unchanged elsewhere


def test_files_that_are_not_ours_are_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in ("O", "A", "B"):
        (tmp_path / name).write_text("{}")
    result = run_cli(
        capsys, tmp_path, "merge-driver", *(str(tmp_path / n) for n in "OAB"), "README.md"
    )
    assert result.code == 2 and "not a driftstore shard" in result.err
    (tmp_path / "A").write_text("not json")
    bad = run_cli(
        capsys,
        tmp_path,
        "merge-driver",
        *(str(tmp_path / n) for n in "OAB"),
        ".drift/patterns/api.json",
    )
    assert bad.code == 2 and "not JSON" in bad.err
    assert run_cli(capsys, tmp_path, "git-setup").code == 2  # not a repository
