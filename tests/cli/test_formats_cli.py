"""End to end: migrate, export, import and verify from the command line, on the bundled
drift 0.9 sample and a real project, with the JSON shapes and exit codes of interface.md."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.cli.conftest import Runner
from tests.conftest import REAL_DRIFT, REPO

SAMPLE = REPO / "samples" / "drift09"


def test_migrate_json_has_the_contract_keys(run: Runner) -> None:
    result = run("migrate", "--from", str(SAMPLE), "--json")
    assert result.code == 0, result.err
    report = result.json()
    for key in (
        "imported",
        "updated",
        "unchanged",
        "byStatus",
        "byCategory",
        "checksumMismatches",
        "skipped",
        "backup",
    ):
        assert key in report
    assert report["imported"] == 25 and report["backup"]
    assert report["checksumMismatches"] == [".drift/patterns/ignored/styling.json"]
    assert report["skipped"][0]["path"].endswith(".backups")
    assert "changedIds" not in report
    again = run("migrate", "--from", str(SAMPLE), "--json").json()
    assert (again["imported"], again["updated"], again["backup"]) == (0, 0, None)


def test_migrate_dry_run_and_no_backup(run: Runner, root: Path) -> None:
    dry = run("migrate", "--from", str(SAMPLE), "--dry-run", "--json").json()
    assert dry["dryRun"] is True and dry["imported"] == 25
    assert not (root / ".drift").exists()  # not even an empty database
    nothing = run("status")
    assert (
        nothing.code == 2 and "'driftstore migrate' brings in the drift 0.9 data" not in nothing.err
    )
    assert "no driftstore store" in nothing.err and not (root / ".drift").exists()
    text = run("migrate", "--from", str(SAMPLE), "--dry-run")
    assert text.code == 0 and text.out.startswith("would import 25")
    assert "checksum mismatch (imported anyway): .drift/patterns/ignored/styling.json" in text.out
    real = run("migrate", "--from", str(SAMPLE), "--no-backup", "--json").json()
    assert real["backup"] is None and real["imported"] == 25


def test_migrate_export_v1_gives_the_real_files_back(run: Runner, root: Path) -> None:
    source = REAL_DRIFT / "jrmatherly__aionui"
    assert run("migrate", "--from", str(source)).code == 0
    result = run("export", "--layout", "v1", "--out", str(root / "legacy"), "--json")
    assert result.code == 0, result.err
    assert result.json()["patternCount"] == 455
    for original in sorted((source / ".drift" / "patterns" / "approved").glob("*.json")):
        assert (root / "legacy/patterns/approved" / original.name).read_bytes() == (
            original.read_bytes()
        )


def test_export_import_verify_round_trip(run: Runner, root: Path, tmp_path: Path) -> None:
    assert run("migrate", "--from", str(SAMPLE)).code == 0
    first = run("export", "--json").json()
    assert first["layout"] == "v2" and first["patternCount"] == 25
    assert (root / ".drift/patterns/api.json").is_file()
    assert run("export", "--json").json()["writtenFiles"] == []
    assert run("verify", "--json").json() == {"ok": True, "problems": []}
    assert run("verify").out.startswith("ok")

    other = tmp_path / "teammate"
    other.mkdir()
    imported = run("import", str(root / ".drift"), "--json", root_dir=other)
    assert imported.code == 0, imported.err
    assert imported.json()["imported"] == 25
    assert run("export", "--json", root_dir=other).code == 0
    for shard in sorted((root / ".drift/patterns").glob("*.json")):
        assert (other / ".drift/patterns" / shard.name).read_bytes() == shard.read_bytes()


def test_a_tampered_shard_is_refused_then_forced(run: Runner, root: Path, tmp_path: Path) -> None:
    assert run("migrate", "--from", str(SAMPLE)).code == 0
    assert run("export").code == 0
    shard = root / ".drift/patterns/auth.json"
    shard.write_text(shard.read_text().replace("Middleware Detector", "Middleware (edited)"))

    bad = run("verify", "--json")
    assert bad.code == 1
    assert bad.json()["problems"][0]["path"] == ".drift/patterns/auth.json"
    assert run("verify").code == 1

    other = tmp_path / "teammate"
    other.mkdir()
    refused = run("import", str(root / ".drift"), root_dir=other)
    assert refused.code == 2 and refused.out == ""
    assert refused.err.count("\n") == 1 and "auth.json: checksum mismatch" in refused.err
    assert "Traceback" not in refused.err
    assert run("status", "--json", root_dir=other).json()["totalPatterns"] == 0
    forced = run("import", str(root / ".drift"), "--force", "--json", root_dir=other)
    assert forced.code == 0 and forced.json()["forcedFiles"] == [str(shard)]


def test_bad_input_is_one_line_and_exit_2(run: Runner, root: Path, tmp_path: Path) -> None:
    missing = run("import", str(tmp_path / "nowhere"))
    assert missing.code == 2 and "no such folder" in missing.err and missing.err.count("\n") == 1
    assert run("migrate", "--from", str(tmp_path)).code == 2
    assert run("export", "--layout", "v3").code == 2
    broken = root / ".drift/patterns/discovered/api.json"
    broken.parent.mkdir(parents=True, exist_ok=True)
    broken.write_text('{"version": "1.0.0", "patterns": [{"id": "x"')
    result = run("migrate")
    assert result.code == 2 and result.err.startswith("driftstore: .drift/patterns/discovered/")
    assert "Traceback" not in result.err


def test_export_and_verify_need_a_store(run: Runner) -> None:
    for command in ("export", "verify"):
        result = run(command)
        assert result.code == 2 and "driftstore init" in result.err


def test_as_a_real_process(root: Path) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "driftstore.cli.main",
            "migrate",
            "--from",
            str(SAMPLE),
            "--json",
            "--root",
            str(root),
        ],
        capture_output=True,
        text=True,
        cwd=REPO,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["imported"] == 25
