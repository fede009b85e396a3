"""End-to-end: every core command on a temp root, with the JSON shapes scripts rely on and
every error path's one line and exit code."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.cli.conftest import Runner
from tests.conftest import REPO
from tests.factories import entry

SAMPLE_SCAN = REPO / "samples" / "scan.json"


@pytest.fixture
def loaded(run: Runner) -> Runner:
    assert run("init").code == 0
    result = run("ingest", str(SAMPLE_SCAN), "--json")
    assert result.code == 0, result.err
    return run


def _first_id(run: Runner) -> str:
    return str(run("list", "--json", "--limit", "1").json()["patterns"][0]["id"])


def test_init_is_idempotent(run: Runner, root: Path, store_engine: str) -> None:
    assert run("init").code == 0
    database = run("init", "--json").json()["database"]
    if store_engine == "sqlite":
        assert database.endswith("drift.db") and (root / ".drift" / "drift.db").is_file()
    else:  # the project's rows are on the server; .drift/ marks the root
        assert database.startswith("postgresql://") and (root / ".drift").is_dir()


def test_ingest_reports_counts_and_a_second_ingest_changes_nothing(run: Runner) -> None:
    first = run("ingest", str(SAMPLE_SCAN), "--json").json()
    assert first["added"] > 20 and first["updated"] == first["removed"] == 0
    assert first["backup"] is None
    second = run("ingest", str(SAMPLE_SCAN), "--json").json()
    assert second == {
        "added": 0,
        "updated": 0,
        "unchanged": first["added"],
        "removed": 0,
        "backup": None,
    }


def test_ingest_from_stdin(root: Path) -> None:
    data = "\n".join(json.dumps(entry(f"s{i}", files=["a.ts"])) for i in range(3))
    result = subprocess.run(
        [sys.executable, "-m", "driftstore.cli.main", "ingest", "-", "--root", str(root), "--json"],
        input=data,
        capture_output=True,
        text=True,
        cwd=REPO,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["added"] == 3


def test_status_json_shape(loaded: Runner) -> None:
    status = loaded("status", "--json").json()
    assert set(status) >= {
        "totalPatterns",
        "byStatus",
        "byCategory",
        "byConfidence",
        "totalLocations",
        "totalOutliers",
    }
    assert set(status["byStatus"]) == {"discovered", "approved", "ignored"}
    assert set(status["byConfidence"]) == {"high", "medium", "low", "uncertain"}
    assert sum(status["byCategory"].values()) == status["totalPatterns"]
    assert loaded("status").code == 0


def test_list_json_shape_filters_and_paging(loaded: Runner) -> None:
    everything = loaded("list", "--json", "--limit", "1000").json()
    total = everything["total"]
    assert len(everything["patterns"]) == total and everything["hasMore"] is False
    keys = {
        "id", "name", "category", "subcategory", "status", "confidence",
        "confidenceLevel", "severity", "locationCount", "outlierCount",
    }  # fmt: skip
    assert keys <= set(everything["patterns"][0])
    page = loaded(
        "list", "--json", "--limit", "5", "--offset", "5", "--sort", "confidence", "--desc"
    ).json()
    scores = [p["confidence"] for p in page["patterns"]]
    assert scores == sorted(scores, reverse=True) and page["hasMore"] is True
    api = loaded("list", "--json", "--category", "api", "--limit", "1000").json()
    assert api["total"] == sum(1 for p in everything["patterns"] if p["category"] == "api")
    high = loaded("list", "--json", "--min-confidence", "0.85", "--limit", "1000").json()
    assert all(p["confidence"] >= 0.85 for p in high["patterns"])
    found = loaded("list", "--json", "--search", "async", "--limit", "1000").json()
    assert found["total"] >= 1
    assert loaded("list").code == 0


def test_show_json_is_a_v2_entry_with_extras(loaded: Runner) -> None:
    pid = _first_id(loaded)
    shown = loaded("show", pid, "--json").json()
    assert shown["id"] == pid
    for key in ("category", "status", "detectionMethod", "confidenceLevel", "detector",
                "confidence", "locations", "outliers", "metadata", "variants", "examples", "history"):  # fmt: skip
        assert key in shown, key
    assert shown["history"][0]["action"] == "created"
    assert loaded("show", pid).code == 0


def test_file_answers_for_a_backslash_or_dotted_path(loaded: Runner) -> None:
    listing = loaded("list", "--json", "--limit", "1").json()["patterns"][0]
    shown = loaded("show", listing["id"], "--json").json()
    path = shown["locations"][0]["file"]
    answer = loaded("file", "./" + path.replace("/", "\\"), "--json").json()
    assert answer["file"] == path
    hit = next(p for p in answer["patterns"] if p["id"] == listing["id"])
    assert {"line", "column", "isOutlier"} <= set(hit["locations"][0])
    assert set(hit["effective"]) >= {"severity", "enabled", "threshold", "config"}
    assert loaded("file", "no/such/file.ts", "--json").json() == {
        "file": "no/such/file.ts",
        "patterns": [],
    }


def test_approve_ignore_and_history(loaded: Runner) -> None:
    ids = [p["id"] for p in loaded("list", "--json", "--limit", "3").json()["patterns"]]
    result = loaded("approve", ids[0], ids[1], "--by", "ana", "--json")
    assert result.code == 0 and result.json()["ids"] == ids[:2]
    assert loaded("ignore", ids[0]).code == 0
    log = loaded("history", ids[0], "--json").json()
    assert [h["action"] for h in log] == ["ignored", "approved", "created"]
    assert log[1]["by"] == "ana"
    assert {"patternId", "action", "at", "by", "old", "new"} <= set(log[0])
    assert len(loaded("history", "--json", "--limit", "2").json()) == 2
    assert loaded("history", "--json", "--since", "2999-01-01T00:00:00Z").json() == []
    status = loaded("status", "--json").json()["byStatus"]
    assert (status["approved"], status["ignored"]) == (1, 1)


def test_a_batch_with_one_bad_move_changes_nothing(loaded: Runner) -> None:
    ids = [p["id"] for p in loaded("list", "--json", "--limit", "2").json()["patterns"]]
    assert loaded("approve", ids[0]).code == 0
    result = loaded("approve", ids[1], "nope")
    assert result.code == 2
    assert "'nope' not found" in result.err
    assert loaded("status", "--json").json()["byStatus"]["approved"] == 1
    again = loaded("approve", ids[1], ids[0])  # one already approved: a no-op, not an error
    assert again.code == 0 and f"already approved: {ids[0]}" in again.out


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (("show", "nope"), 2, "pattern 'nope' not found"),
        (("approve", "nope"), 2, "pattern 'nope' not found"),
        (("history", "nope"), 2, "pattern 'nope' not found"),
        (("ingest", "missing.json"), 2, "missing.json: no such file"),
        (("list", "--limit", "x"), 2, "'x' is not a valid integer"),
        (("list", "--status", "maybe"), 2, "'maybe' is not one of"),
        (("list", "--min-confidence", "7"), 2, "--min-confidence"),
        (("history", "--since", "yesterday"), 2, "ISO-8601"),
        (("frobnicate",), 2, "No such command 'frobnicate'"),
        (("approve",), 2, "give the IDs to approve, or filters"),
    ],
)
def test_errors_are_one_line_with_the_right_exit_code(
    loaded: Runner, args: tuple[str, ...], code: int, message: str
) -> None:
    result = loaded(*args)
    assert result.code == code, result
    assert message in result.err
    assert result.err.count("\n") == 1 and result.err.startswith("driftstore: ")
    assert "Traceback" not in result.err


def test_a_bad_scan_is_refused_whole_with_a_named_entry(loaded: Runner, tmp_path: Path) -> None:
    before = loaded("status", "--json").json()
    bad = [entry("fresh1", files=["a.ts"]), entry("fresh2", files=["b.ts"])]
    bad[1]["confidence"]["score"] = 3
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(bad))
    result = loaded("ingest", str(path))
    assert result.code == 2
    assert "entry 1 (id 'fresh2'): confidence.score" in result.err
    assert loaded("status", "--json").json() == before


@pytest.mark.sqlite_only
def test_a_non_sqlite_database_is_one_line(run: Runner, root: Path) -> None:
    (root / ".drift").mkdir()
    (root / ".drift" / "drift.db").write_text("garbage")
    result = run("status")
    assert result.code == 1 and "not a SQLite database" in result.err


def test_a_missing_root_is_one_line(run: Runner, tmp_path: Path) -> None:
    result = run("status", "--root", str(tmp_path / "nowhere"))
    assert result.code == 2 and "no such folder" in result.err


def test_every_command_has_help(run: Runner) -> None:
    from driftstore.cli.main import cli

    for name, command in cli.commands.items():
        assert command.help or command.short_help, f"{name} has no help"
        result = run(name, "--help", root_dir=None)
        assert (result.code == 0 and "--root" in result.out) or name in {
            "variant",
            "example",
            "backup",
        }
