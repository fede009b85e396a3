"""`driftstore variant ...` and `driftstore file` end to end, on real drift 0.9 data."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.clirun import run_cli
from tests.conftest import REAL_DRIFT
from tests.variants.cli_helper import assert_one_line_error

FVNKS = REAL_DRIFT / "fvnks__finanzsaas-chile" / ".drift" / "patterns" / "discovered"


@pytest.fixture
def project(root: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    """A store holding the real api patterns of a project scanned on Windows."""
    result = run_cli(capsys, root, "ingest", str(FVNKS / "api.json"), "--json")
    assert result.code == 0, result.err
    return root


def _ids_in(capsys: pytest.CaptureFixture[str], root: Path, path: str, *flags: str) -> list[str]:
    result = run_cli(capsys, root, "file", path, "--json", *flags)
    assert result.code == 0, result.err
    return [p["id"] for p in result.json()["patterns"]]


def test_variant_add_list_remove_and_file(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    page = "pages\\AdminPage.tsx"  # as the Windows scan spelled it
    answer = run_cli(capsys, project, "file", page, "--json").json()
    assert answer["file"] == "pages/AdminPage.tsx"
    first = answer["patterns"][0]
    assert set(first) >= {"id", "name", "status", "severity", "locations", "effective"}
    assert first["effective"] == {
        "severity": first["severity"],
        "enabled": True,
        "threshold": None,
        "config": None,
        "variantIds": [],
    }
    assert all(set(loc) == {"line", "column", "isOutlier"} for loc in first["locations"])
    target = first["id"]

    added = run_cli(
        capsys,
        project,
        "variant",
        "add",
        target,
        "--scope",
        "directory",
        "--path",
        "pages",
        "--severity",
        "error",
        "--config",
        '{"maxDepth": 2}',
        "--json",
    )
    assert added.code == 0, added.err
    dir_id = added.json()["id"]
    off = run_cli(
        capsys,
        project,
        "variant",
        "add",
        target,
        "--scope",
        "file",
        "--path",
        page,
        "--disable",
        "--json",
    )
    assert off.code == 0, off.err
    file_id = off.json()["id"]

    assert target not in _ids_in(capsys, project, page)
    shown = run_cli(capsys, project, "file", page, "--include-disabled", "--json").json()
    mine = next(p for p in shown["patterns"] if p["id"] == target)
    assert mine["effective"] == {
        "severity": "error",
        "enabled": False,
        "threshold": None,
        "config": {"maxDepth": 2},
        "variantIds": [file_id, dir_id],
    }

    listed = run_cli(capsys, project, "variant", "list", target, "--json").json()
    assert [(v["id"], v["scope"], v["scopePath"], v["expired"]) for v in listed] == [
        (dir_id, "directory", "pages", False),
        (file_id, "file", "pages/AdminPage.tsx", False),
    ]
    human = run_cli(capsys, project, "variant", "list")
    assert human.code == 0 and "pages" in human.out

    assert run_cli(capsys, project, "variant", "remove", str(file_id), "--json").code == 0
    assert target in _ids_in(capsys, project, page)
    history = run_cli(capsys, project, "history", target, "--json").json()
    assert [h["reason"] for h in history[:3]] == [
        "variant removed",
        "variant added",
        "variant added",
    ]

    shown = run_cli(capsys, project, "show", target, "--json").json()
    assert [v["id"] for v in shown["variants"]] == [dir_id]
    assert shown["relatedTotal"] == len(shown["related"]) > 0
    assert all(r["id"] != target for r in shown["related"])


@pytest.mark.parametrize(
    ("args", "code", "needle"),
    [
        (
            ("variant", "add", "nope", "--scope", "global", "--severity", "error"),
            2,
            "'nope' not found",
        ),
        (("variant", "add", "{id}", "--scope", "galaxy"), 2, "galaxy"),
        (
            (
                "variant",
                "add",
                "{id}",
                "--scope",
                "directory",
                "--path",
                "../../etc/passwd",
                "--disable",
            ),
            2,
            "outside the project",
        ),
        (
            ("variant", "add", "{id}", "--scope", "file", "--path", "/etc/passwd", "--disable"),
            2,
            "outside the project",
        ),
        (("variant", "add", "{id}", "--scope", "global", "--config", "{oops"), 2, "not valid JSON"),
        (("variant", "remove", "999"), 2, "variant 999 not found"),
        (("variant", "list", "nope"), 2, "'nope' not found"),
    ],
)
def test_bad_variant_input_is_one_line_and_changes_nothing(
    project: Path, capsys: pytest.CaptureFixture[str], args: tuple[str, ...], code: int, needle: str
) -> None:
    target = _ids_in(capsys, project, "App.tsx")[0]
    before = run_cli(capsys, project, "history", "--json").json()
    result = run_cli(capsys, project, *(a.replace("{id}", target) for a in args))
    assert_one_line_error(result, code, needle)
    assert run_cli(capsys, project, "variant", "list", "--json").json() == []
    assert run_cli(capsys, project, "history", "--json").json() == before


def test_status_shows_health_and_categories(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    summary = run_cli(capsys, project, "status", "--json").json()
    assert 0 <= summary["health"] <= 100
    assert summary["categories"]["api"]["total"] == summary["totalPatterns"]
    assert set(summary["healthFactors"]) == {
        "livePatterns",
        "approvalRatio",
        "meanConfidence",
        "outlierRate",
    }
    human = run_cli(capsys, project, "status")
    assert human.code == 0 and f"{summary['health']}/100" in human.out
