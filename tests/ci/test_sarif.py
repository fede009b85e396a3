"""`driftstore sarif`: SARIF 2.1.0 that the official schema accepts and that stays within
GitHub code scanning's limits."""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

import driftstore
from driftstore import Location, Severity
from driftstore.formats import sarif as sarif_format
from tests.clirun import run_cli
from tests.conftest import REAL_DRIFT, REPO, SHARED
from tests.factories import make_pattern

SCHEMA = json.loads((SHARED / "data" / "sarif" / "sarif-schema-2.1.0.json").read_text())
VALIDATOR = jsonschema.Draft4Validator(SCHEMA)
PROJECTS = [
    *sorted(p for p in REAL_DRIFT.iterdir() if (p / ".drift").is_dir()),
    REPO / "samples" / "drift09",
]


def valid(log: dict[str, Any]) -> dict[str, Any]:
    errors = sorted(VALIDATOR.iter_errors(log), key=lambda e: list(e.path))
    assert not errors, [f"{list(e.path)}: {e.message}" for e in errors[:5]]
    return log


@pytest.mark.parametrize("project", PROJECTS, ids=lambda p: p.name)
def test_sarif_of_real_drift_projects_validates(project: Path, tmp_path: Path) -> None:
    root = tmp_path / "p"
    root.mkdir()
    with driftstore.open(root) as store:
        store.migrate(project)
        ids = [s.id for s in store.query(limit=None).patterns]
        undecided = [
            s.id
            for s in store.query(
                driftstore.PatternFilter(statuses=["discovered"]), limit=None
            ).patterns
        ]
        if undecided:
            store.approve(undecided[: len(undecided) // 2])
            store.ignore(undecided[len(undecided) // 2 :])
        data, summary = store.sarif_log(include_suppressed=True, statuses=["approved"])
    log = valid(json.loads(data))
    run = log["runs"][0]
    assert summary.results == len(run["results"]) and summary.omitted == 0
    assert len(data) == summary.bytes and summary.gzip_bytes < sarif_format.MAX_GZIP_BYTES
    rules = run["tool"]["driver"]["rules"]
    assert {r["id"] for r in rules} <= set(ids)
    for r in rules:  # what GitHub requires of a rule, and driftstore's extras
        assert r["shortDescription"]["text"] and r["fullDescription"]["text"]
        assert r["help"]["text"] and r["help"]["markdown"]
        assert r["properties"]["precision"] in {"very-high", "high", "medium", "low"}
        assert len(r["properties"]["tags"]) <= sarif_format.MAX_TAGS
    for result in run["results"]:
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
        assert set(result["partialFingerprints"]) == {"driftstoreOutlier/v1"}
        assert (
            result["locations"][0]["physicalLocation"]["artifactLocation"]["uriBaseId"]
            == "%SRCROOT%"
        )
        assert not result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"].startswith(
            "/"
        )
    suppressed = [r for r in run["results"] if "suppressions" in r]
    if undecided:
        assert suppressed, "ignored patterns' outliers are marked suppressed"
    assert run["originalUriBaseIds"]["%SRCROOT%"]["uri"].startswith("file://")
    assert run["automationDetails"]["id"] == "driftstore/all/"


def test_ignored_patterns_are_left_out_unless_asked(store: driftstore.PatternStore) -> None:
    store.ingest(
        [make_pattern("p1", outlier_files=["a.ts"]), make_pattern("p2", outlier_files=["b.ts"])]
    )
    store.approve("p1")
    store.ignore("p2")
    plain = json.loads(store.sarif_log()[0])["runs"][0]["results"]
    assert [r["ruleId"] for r in plain] == ["p1"]
    both = json.loads(store.sarif_log(include_suppressed=True)[0])["runs"][0]["results"]
    assert sorted((r["ruleId"], "suppressions" in r) for r in both) == [("p1", False), ("p2", True)]


def _many(store: driftstore.PatternStore, count: int) -> None:
    loud = make_pattern("loud", severity=Severity.ERROR)
    loud.outliers = [Location(file="l.ts", line=i + 1, column=0, reason="r") for i in range(50)]
    quiet = make_pattern("quiet", severity=Severity.HINT)
    quiet.outliers = [
        Location(file=f"q{i % 97}.ts", line=i + 1, column=0, reason="r") for i in range(count)
    ]
    store.ingest([loud, quiet])
    store.approve(["loud", "quiet"])


def test_more_than_25000_results_keep_the_most_severe_and_say_so(
    store: driftstore.PatternStore,
) -> None:
    _many(store, 25_100)
    data, summary = store.sarif_log()
    log = valid(json.loads(data))
    run = log["runs"][0]
    assert len(run["results"]) == sarif_format.MAX_RESULTS == summary.results
    assert summary.omitted == 150 == run["properties"]["driftstoreOmittedResults"]
    assert sum(r["ruleId"] == "loud" for r in run["results"]) == 50  # every error kept
    notes = run["invocations"][0]["toolExecutionNotifications"]
    assert notes[0]["level"] == "warning" and "150" in notes[0]["message"]["text"]


def test_the_gzipped_size_limit_is_kept(
    store: driftstore.PatternStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    _many(store, 3000)
    full, _ = store.sarif_log()
    limit = len(gzip.compress(full)) // 2
    monkeypatch.setattr(sarif_format, "MAX_GZIP_BYTES", limit)
    data, summary = store.sarif_log()
    assert len(gzip.compress(data, compresslevel=6)) <= limit
    assert summary.omitted > 0
    results = valid(json.loads(data))["runs"][0]["results"]
    assert sum(r["ruleId"] == "loud" for r in results) == 50


def test_the_cli_writes_sarif_to_a_file_or_stdout(
    store: driftstore.PatternStore, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store.ingest([make_pattern("p1", outlier_files=["a.ts"], category="security")])
    store.approve("p1")
    out = tmp_path / "scan.sarif"
    written = run_cli(capsys, store.root, "sarif", "--out", str(out), "--json")
    assert written.code == 0 and written.json()["results"] == 1
    valid(json.loads(out.read_text()))
    printed = run_cli(capsys, store.root, "sarif", "--category", "security")
    assert (
        valid(json.loads(printed.out))["runs"][0]["automationDetails"]["id"]
        == "driftstore/security/"
    )
    assert run_cli(capsys, store.root, "sarif", "--min-severity", "error").code == 0
    assert run_cli(capsys, store.root, "sarif", "--status", "nope").code == 2
