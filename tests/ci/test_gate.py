"""`driftstore check`: the CI gate over outliers of approved patterns, compared by identity."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import msgspec
import pytest

import driftstore
from driftstore import Location, Severity
from driftstore.formats.scan import ScanEntry
from tests.clirun import run_cli
from tests.factories import make_pattern


def _scan(path: Path, patterns: list[driftstore.Pattern]) -> Path:
    path.write_bytes(msgspec.json.encode([driftstore.to_builtins(p) for p in patterns]))
    return path


def _outliers(p: driftstore.Pattern, spots: list[tuple[str, int, str]]) -> driftstore.Pattern:
    p.outliers = [Location(file=f, line=line, column=4, reason=reason) for f, line, reason in spots]
    return p


@pytest.fixture
def gated(store: driftstore.PatternStore) -> driftstore.PatternStore:
    base = [
        _outliers(make_pattern("p1", files=["a.ts"]), [("a.ts", 10, "sync"), ("a.ts", 30, "sync")]),
        _outliers(make_pattern("p2", files=["b.ts"]), [("b.ts", 5, "raw sql")]),
        _outliers(make_pattern("p3", files=["c.ts"]), [("c.ts", 7, "not decided")]),
    ]
    store.ingest(base)
    store.approve(["p1", "p2"])  # p3 stays discovered: it gates nothing
    return store


def test_an_unchanged_scan_passes_with_everything_unchanged(gated: driftstore.PatternStore) -> None:
    report = gated.check(
        [
            _outliers(
                make_pattern("p1", files=["a.ts"]), [("a.ts", 10, "sync"), ("a.ts", 30, "sync")]
            ),
            _outliers(make_pattern("p2", files=["b.ts"]), [("b.ts", 5, "raw sql")]),
        ]
    )
    assert (report.new, report.unchanged, report.absent, report.failed) == (0, 3, 0, False)
    assert {o.pattern_id for o in report.outliers} == {"p1", "p2"}


def test_unrelated_line_moves_keep_identities_and_a_new_outlier_fails(
    gated: driftstore.PatternStore,
) -> None:
    moved = _outliers(
        make_pattern("p1", files=["a.ts"]),
        [("a.ts", 14, "sync"), ("a.ts", 34, "sync"), ("a.ts", 60, "blocking io")],
    )
    fixed = _outliers(make_pattern("p2", files=["b.ts"]), [])
    report = gated.check([moved, fixed])
    states = sorted((o.pattern_id, o.line, o.state) for o in report.outliers)
    assert states == [
        ("p1", 14, "unchanged"),
        ("p1", 34, "unchanged"),
        ("p1", 60, "new"),
        ("p2", 5, "absent"),
    ]
    assert report.failed and report.new == 1
    assert gated.check([moved, fixed], min_severity=Severity.WARNING).failed is False  # info only


def test_a_pattern_missing_from_the_scan_reports_its_outliers_absent(
    gated: driftstore.PatternStore,
) -> None:
    report = gated.check([])
    assert (report.new, report.unchanged, report.absent) == (0, 0, 3)
    assert not report.failed
    assert gated.check([], fail_on="any").failed is False  # nothing present


def test_check_writes_nothing_unless_asked(gated: driftstore.PatternStore, tmp_path: Path) -> None:
    before = gated.generation
    scan = _scan(tmp_path / "scan.json", [make_pattern("p9", files=["z.ts"])])
    gated.check(scan)
    assert gated.generation == before and not gated.exists("p9")
    report = gated.check(scan, ingest=True)
    assert report.ingest is not None and report.ingest.added == 1 and gated.exists("p9")


def test_a_disabled_file_gives_nothing_there(gated: driftstore.PatternStore) -> None:
    gated.add_variant("p1", scope="file", path="a.ts", enabled=False)
    assert [o.pattern_id for o in gated.check().outliers] == ["p2"]


def test_the_cli_gates_with_exit_codes(
    gated: driftstore.PatternStore, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = gated.root
    same = _scan(
        tmp_path / "same.json",
        [
            _outliers(
                make_pattern("p1", files=["a.ts"]), [("a.ts", 10, "sync"), ("a.ts", 30, "sync")]
            ),
            _outliers(make_pattern("p2", files=["b.ts"]), [("b.ts", 5, "raw sql")]),
        ],
    )
    worse = _scan(
        tmp_path / "worse.json",
        [_outliers(make_pattern("p1", files=["a.ts"]), [("a.ts", 1, "new thing")])],
    )
    ok = run_cli(capsys, root, "check", str(same))
    assert ok.code == 0 and "check passed" in ok.out
    bad = run_cli(capsys, root, "check", str(worse), "--json")
    assert bad.code == 1
    data = bad.json()
    assert data["failed"] is True and data["new"] == 1 and data["identity"] == "v1"
    assert run_cli(capsys, root, "check", "--fail-on", "any").code == 1
    assert run_cli(capsys, root, "check", "--fail-on", "sometimes").code == 2
    sarif = run_cli(capsys, root, "check", str(worse), "--format", "sarif")
    assert sarif.code == 1
    states = {r["baselineState"] for r in json.loads(sarif.out)["runs"][0]["results"]}
    assert states == {"new", "absent"}


def test_ingest_after_check_reads_stdin_twice(
    gated: driftstore.PatternStore,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    import io
    import sys

    payload = msgspec.json.encode([driftstore.to_builtins(make_pattern("p7", files=["q.ts"]))])
    fake: Any = io.TextIOWrapper(io.BytesIO(payload))
    monkeypatch.setattr(sys, "stdin", fake)
    result = run_cli(capsys, gated.root, "check", "-", "--ingest", "--json")
    assert result.code == 0, result.err
    assert result.json()["ingest"]["added"] == 1
    assert gated.exists("p7")
    assert not list(gated.drift_dir.glob(".scan-*"))  # the private copy is gone


def test_a_scan_file_gates_alike_whether_its_entries_are_recognised_or_decoded(
    store: driftstore.PatternStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def scan(stamp: str, extra: bool = False) -> list[driftstore.Pattern]:
        found = [
            _outliers(make_pattern("p1", files=["a.ts"]), [("a.ts", 10, "sync")]),
            _outliers(make_pattern("p2", files=["b.ts"]), [("b.ts", 5, "raw sql")]),
            _outliers(make_pattern("p3", files=["c.ts"]), [("c.ts", 7, "not decided")]),
        ]
        if extra:
            found[0].outliers.append(Location(file="a.ts", line=60, column=1, reason="new"))
        for p in found:
            p.metadata.last_seen = stamp
        return found

    def ndjson(patterns: list[driftstore.Pattern]) -> Path:
        path = tmp_path / "scan.ndjson"
        path.write_bytes(
            b"".join(msgspec.json.encode(driftstore.to_builtins(p)) + b"\n" for p in patterns)
        )
        return path

    store.ingest(ndjson(scan("2026-05-01T00:00:00.000Z")))
    store.approve(["p1", "p2"])
    decoded: list[str] = []
    original = ScanEntry.decode

    def counting(self: ScanEntry) -> driftstore.Pattern:
        decoded.append(self.where)
        return original(self)

    monkeypatch.setattr(ScanEntry, "decode", counting)
    for extra in (False, True):
        decoded.clear()
        later = scan("2026-06-01T00:00:00.000Z", extra)
        from_file = store.check(ndjson(later))
        assert len(decoded) == (1 if extra else 0)  # only the changed entry is read
        from_list = store.check(later)
        assert to_rows(from_file) == to_rows(from_list)
        assert (from_file.new, from_file.unchanged) == ((1, 2) if extra else (0, 2))


def to_rows(report: driftstore.CheckReport) -> list[tuple[str, int, str, str]]:
    return [(o.pattern_id, o.line, o.state, o.id) for o in report.outliers]
