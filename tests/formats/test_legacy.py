"""drift 0.9 files: finding them, reading every shape, writing entries back as they came."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from driftstore import ConfidenceLevel, Status
from driftstore.errors import InvalidInputError
from driftstore.formats.canonical import compact_es
from driftstore.formats.legacy import (
    LegacySource,
    discover,
    legacy_entry,
    merged_order,
    read_legacy_file,
)
from driftstore.formats.legacy_write import (
    encode_legacy_file,
    entries_checksum,
    patch_for,
    render_entry,
)
from tests.conftest import REPO
from tests.factories import make_pattern

SAMPLE = REPO / "samples" / "drift09" / ".drift"


def _read(path: Path, kind: str = "status") -> Any:
    status = path.parent.name if kind == "status" else None
    return read_legacy_file(
        path.read_bytes(), LegacySource(path, kind, path.stem, status), where=str(path)
    )


def _entries(path: Path, kind: str = "status") -> list[tuple[Any, dict[str, Any], Any]]:
    read = _read(path, kind)
    out = []
    for pos, (entry, es_entry) in enumerate(zip(read.entries, read.es_entries, strict=True)):
        p, layout = legacy_entry(entry, read.source, where="x", pos=pos)
        out.append((p, layout, es_entry))
    return out


def test_discover_finds_live_files_and_explains_what_it_leaves(tmp_path: Path) -> None:
    tree = discover(SAMPLE)
    kinds = sorted((f.kind, f.status or "", f.category) for f in tree.files)
    assert kinds == [
        ("lake", "", "api"),
        ("lake", "", "errors"),
        ("status", "approved", "api"),
        ("status", "approved", "auth"),
        ("status", "approved", "components"),
        ("status", "discovered", "api"),
        ("status", "discovered", "errors"),
        ("status", "ignored", "styling"),
        ("unified", "", "logging"),
    ]
    assert [(p.name, reason) for p, reason in tree.skipped] == [
        (".backups", "per-file backup copies: history, not live data")
    ]
    (tmp_path / "patterns" / "discovered").mkdir(parents=True)
    (tmp_path / "patterns" / "discovered" / "marketing.json").write_text("{}")
    with pytest.raises(InvalidInputError, match="'marketing' is not one of drift's categories"):
        discover(tmp_path)


def test_a1_entries_read_with_windows_paths_and_unknown_keys() -> None:
    found = _entries(SAMPLE / "patterns" / "discovered" / "api.json")
    assert len(found) == 5
    p, _layout, _ = found[1]
    assert p.status == Status.DISCOVERED and p.category == "api"
    assert {loc.deviation_score for loc in p.outliers} == {1e-7, 2.5e-6}
    windows = [loc for loc in p.all_locations() if isinstance(loc.original_file, str)]
    assert windows and all("\\" not in loc.file for loc in p.all_locations())
    p2, layout2, _ = found[2]
    assert p2.extras == {"reviewNote": {"by": "ops", "weight": 5.0}}
    assert p2.metadata.extras == {"ticket": "DRIFT-12"}
    assert p2.detector.config.extras == {"threshold": 0.25}
    assert p2.locations[0].extras == {"commit": "9f1c2d3"}
    assert layout2["keys"][-1] == "reviewNote" and layout2["shape"] == "A"


def test_a2_a3_and_flavour_b_entries_read() -> None:
    a2 = _entries(SAMPLE / "patterns" / "approved" / "auth.json")
    assert all(p.status == Status.APPROVED for p, _, _ in a2)
    flagged = [loc for p, _, _ in a2 for loc in p.locations if loc.is_outlier is True]
    assert flagged and all(loc.outlier_reason for loc in flagged)
    a3 = _entries(SAMPLE / "patterns" / "ignored" / "styling.json")
    assert all(p.outliers == [] and "outliers" not in layout["keys"] for p, layout, _ in a3)
    b = _entries(SAMPLE / "patterns" / "discovered" / "errors.json")
    p, layout, _ = b[0]
    assert layout["shape"] == "B"
    assert p.confidence.score == 0.55 and p.confidence.level == ConfidenceLevel.LOW
    assert p.detector.config.detector_id == "errors/error-class"
    assert p.extras == {"detectorName": "Error-Class Detector"}
    # the top-level lastSeen is the current one; the stale nested copy is not lost
    assert p.metadata.last_seen == "2026-01-23T14:47:53.218Z"


def test_unified_and_lake_entries_read() -> None:
    unified = _entries(SAMPLE / "patterns" / "logging.json", "unified")
    assert [p.status.value for p, _, _ in unified] == ["approved", "discovered", "ignored"]
    assert all("status" not in layout["keys"] for _, layout, _ in unified)
    lake = _entries(SAMPLE / "lake" / "patterns" / "api.json", "lake")
    p, layout, _ = lake[-1]
    assert p.detector.type == "unknown" and p.detector.config.detector_id == "api/pagination"
    assert layout == {"v": 1, "src": "lake"}


def test_read_refuses_unusable_files_naming_them(tmp_path: Path) -> None:
    path = tmp_path / "patterns" / "approved" / "api.json"
    source = LegacySource(path, "status", "api", "approved")
    for data, message in (
        (b'{"version": "1.0.0", "patterns": [', "not valid JSON"),
        (b'{"version": "1.0.0"}', "not a drift pattern file"),
        (b'{"version": "3.0.0", "patterns": []}', "version '3.0.0'"),
        (b'{"version": "1.0.0", "patterns": [7]}', "patterns[0]: expected an object"),
    ):
        with pytest.raises(InvalidInputError) as caught:
            read_legacy_file(data, source, where="approved/api.json")
        assert str(caught.value).startswith("approved/api.json: ") and message in str(caught.value)


def test_a_bad_field_names_the_pattern_and_field() -> None:
    entry = json.loads((SAMPLE / "patterns" / "approved" / "auth.json").read_text())["patterns"][0]
    entry["locations"][0]["line"] = -3
    source = LegacySource(Path("auth.json"), "status", "auth", "approved")
    with pytest.raises(InvalidInputError) as caught:
        legacy_entry(entry, source, where="approved/auth.json: patterns[0]", pos=0)
    assert str(caught.value).startswith(
        f"approved/auth.json: patterns[0] (pattern '{entry['id']}')"
    )
    assert "locations[0].line" in str(caught.value)


def test_merged_order() -> None:
    assert merged_order([]) is None
    assert merged_order([("file", "line")]) == ["file", "line"]
    assert merged_order(
        [
            ("file", "line", "column"),
            ("file", "line", "column", "isOutlier", "outlierReason"),
            ("file", "snippet", "line"),
        ]
    ) == ["file", "snippet", "line", "column", "isOutlier", "outlierReason"]
    assert merged_order([("a", "b"), ("b", "a")]) is None


def test_render_without_layout_is_drift_09s_a_shape() -> None:
    p = make_pattern("p1", files=["src\\a.ts"], outlier_files=["b.ts"])
    p.locations[0].original_file = "src\\a.ts"
    p.locations[0].file = "src/a.ts"
    entry = render_entry(p, None)
    assert list(entry) == [
        "id",
        "subcategory",
        "name",
        "description",
        "detector",
        "confidence",
        "locations",
        "outliers",
        "metadata",
        "severity",
        "autoFixable",
    ]
    assert json.loads(compact_es(entry))["locations"][0]["file"] == "src\\a.ts"


def test_a_patch_applies_only_while_the_model_renders_what_it_did() -> None:
    p = make_pattern("p1")
    layout: dict[str, Any] = {"v": 1, "shape": "A", "keys": ["id", "name", "metadata"]}
    original = {"id": "p1", "name": "Pattern p1", "metadata": {"firstSeen": "then"}}
    layout["patch"] = patch_for(render_entry(p, layout), original)
    assert list(layout["patch"]) == ["metadata"]
    assert render_entry(p, layout) == original
    p.metadata.approved_at = "2026-06-01T00:00:00.000Z"  # approved since: show it
    assert render_entry(p, layout)["metadata"]["approvedAt"] == "2026-06-01T00:00:00.000Z"


def test_legacy_file_is_json_stringify_without_newline() -> None:
    entries = [render_entry(make_pattern("p1"), None)]
    data = encode_legacy_file(
        "api", entries, last_updated="t", checksum=entries_checksum(entries), file_layout=None
    )
    assert not data.endswith(b"\n") and data.startswith(b'{\n  "version": "1.0.0",\n')
    doc = json.loads(data)
    assert list(doc) == ["version", "category", "patterns", "lastUpdated", "checksum"]
    kept = {
        "keys": ["version", "generator", "category", "patterns"],
        "values": {"version": "1.0.0", "generator": "x", "category": "api"},
    }
    doc = json.loads(
        encode_legacy_file("api", entries, last_updated="t", checksum="c", file_layout=kept)
    )
    assert list(doc) == ["version", "generator", "category", "patterns", "lastUpdated", "checksum"]


def test_absurdly_nested_unknown_values_are_refused() -> None:
    deep: Any = 1
    for _ in range(40):
        deep = [deep]
    entry = json.loads((SAMPLE / "patterns" / "approved" / "auth.json").read_text())["patterns"][0]
    source = LegacySource(Path("auth.json"), "status", "auth", "approved")
    with pytest.raises(InvalidInputError, match="nests deeper than 32 levels"):
        legacy_entry({**entry, "xDeep": deep}, source, where="approved/auth.json", pos=0)
    doc = {"version": "1.0.0", "category": "auth", "patterns": [], "xDeep": deep}
    with pytest.raises(InvalidInputError, match="nests too deep"):
        read_legacy_file(json.dumps(doc).encode(), source, where="approved/auth.json")
    hostile = b'{"version": "1.0.0", "patterns": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    with pytest.raises(InvalidInputError, match="not valid JSON"):
        read_legacy_file(hostile, source, where="approved/auth.json")
