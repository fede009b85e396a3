"""The three checksum rules, against formats.md's vectors and the real drift 0.9 folders."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from driftstore.formats.checksum import legacy_checksum, unified_checksum, v2_checksum
from driftstore.formats.legacy import LegacySource, read_legacy_file
from tests.conftest import REAL_DRIFT

#: the example pattern of formats.md §1
EXAMPLE: dict[str, Any] = json.loads(
    """{"id":"3f9a1c2b7d4e5a60","subcategory":"route-structure",
"name":"Async route handlers","description":"Route handlers are async functions",
"detector":{"type":"regex","config":{"detectorId":"api/route-structure","patternId":"api/route-structure/async"}},
"confidence":{"frequency":0.9,"consistency":0.9,"age":0,"spread":2,"score":0.87,"level":"high"},
"locations":[{"file":"src/routes/users.ts","line":12,"column":1}],
"outliers":[{"file":"src/routes/legacy.ts","line":40,"column":3,"reason":"Synchronous handler","deviationScore":0.7}],
"metadata":{"firstSeen":"2026-05-01T12:00:00.000Z","lastSeen":"2026-05-01T12:00:00.000Z","source":"auto-detected","tags":["api"]},
"severity":"warning","autoFixable":false}"""
)


def test_v2_checksum_matches_the_formats_md_vector() -> None:
    assert v2_checksum([EXAMPLE]) == "8e6f1bc965e3f248"


def test_v2_checksum_ignores_key_order_and_number_spelling() -> None:
    shuffled = dict(reversed(list(EXAMPLE.items())))
    shuffled["confidence"] = {**EXAMPLE["confidence"], "age": 0.0}  # 0.0 is 0 in JSON
    assert v2_checksum([shuffled]) == "8e6f1bc965e3f248"
    assert v2_checksum([{**EXAMPLE, "name": "changed"}]) != "8e6f1bc965e3f248"


def test_legacy_checksum_matches_the_example_file() -> None:
    assert legacy_checksum([EXAMPLE]) == "1992c1e5cdf7c080"


def test_legacy_checksum_keeps_file_key_order_and_formats_numbers_like_javascript() -> None:
    entries = [{"b": 5.0, "a": 1e-7, "c": 0.1 + 0.2}]
    stringified = b'[{"b":5,"a":1e-7,"c":0.30000000000000004}]'
    assert legacy_checksum(entries) == hashlib.sha256(stringified).hexdigest()[:16]
    assert legacy_checksum([{"a": 1e-7, "b": 5.0, "c": 0.1 + 0.2}]) != legacy_checksum(entries)


def test_unified_checksum_hashes_the_sorted_ids_only() -> None:
    ids = ["ffff", "0a", "b1", "😀", "\ue000"]
    # JavaScript's default sort compares UTF-16 code units: the emoji sorts before U+E000
    expected = hashlib.sha256(
        json.dumps(
            ["0a", "b1", "ffff", "😀", "\ue000"], separators=(",", ":"), ensure_ascii=False
        ).encode()
    ).hexdigest()[:16]
    assert unified_checksum(ids) == expected


def _pattern_files() -> list[tuple[Path, LegacySource]]:
    found = []
    for path in sorted(REAL_DRIFT.glob("*/.drift/patterns/*/*.json")):
        found.append((path, LegacySource(path, "status", path.stem, path.parent.name)))
    for path in sorted(REAL_DRIFT.glob("*/.drift/lake/patterns/*.json")):
        found.append((path, LegacySource(path, "lake", path.stem)))
    return found


def test_every_real_drift_file_verifies() -> None:
    files = _pattern_files()
    assert len(files) == 14 + 15 + 15  # aionui status files, finanzsaas status + lake
    for path, source in files:
        read = read_legacy_file(path.read_bytes(), source, where=str(path))
        assert read.claimed is not None and read.checksum_ok, path


def test_a_reformatted_file_still_verifies_and_a_tampered_one_does_not(tmp_path: Path) -> None:
    original = REAL_DRIFT / "jrmatherly__aionui/.drift/patterns/approved/auth.json"
    doc = json.loads(original.read_text())
    source = LegacySource(tmp_path / "auth.json", "status", "auth", "approved")
    # Prettier-style whitespace and a number spelled 0.90 / 5.0: same JavaScript values
    text = json.dumps(doc, indent=4).replace('"consistency": 0.9,', '"consistency": 0.90,')
    text = text.replace('"age": 0,', '"age": 0.0,', 1)
    assert '"consistency": 0.90' in text
    assert read_legacy_file(text.encode(), source, where="x").checksum_ok
    doc["patterns"][0]["name"] = "edited by hand"
    tampered = read_legacy_file(json.dumps(doc).encode(), source, where="x")
    assert not tampered.checksum_ok
    assert tampered.claimed == json.loads(original.read_text())["checksum"]
