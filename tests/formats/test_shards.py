"""driftstore's v2 shard files: writing, reading back, and refusing bad ones clearly."""

from __future__ import annotations

import json
from typing import Any

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st

from driftstore import Example, Pattern, Scope, Severity, Status, Variant
from driftstore.errors import InvalidInputError
from driftstore.formats.canonical import canonicalize
from driftstore.formats.checksum import v2_checksum
from driftstore.formats.shards import (
    decode_v2_entries,
    encode_v2_shard,
    entries_checksum,
    is_v2_shard,
    read_v2_shard,
    v2_entry,
)
from tests.factories import make_pattern
from tests.formats.strategies import patterns

STAMP = "2026-05-01T12:00:00.000Z"


def shard_bytes(items: list[Pattern], category: str = "api", **children: Any) -> bytes:
    entries = [v2_entry(p, children.get("variants"), children.get("examples")) for p in items]
    return encode_v2_shard(
        category, entries, last_updated=STAMP, checksum=entries_checksum(entries)
    )


def entry_bytes(p: Pattern, **children: Any) -> bytes:
    return msgspec.json.encode(v2_entry(p, children.get("variants"), children.get("examples")))


@given(st.lists(patterns(), max_size=4, unique_by=lambda p: p.id))
def test_write_then_read_gives_the_same_entries(items: list[Pattern]) -> None:
    items.sort(key=lambda p: p.id)
    data = shard_bytes(items)
    assert data.endswith(b"}\n") and is_v2_shard(data)
    shard = read_v2_shard(data, path="api.json", expected_category="api")
    assert shard.checksum_ok and not shard.problems
    back = [item.pattern for item in decode_v2_entries(shard)]
    assert [entry_bytes(p) for p in back] == [entry_bytes(p) for p in items]
    assert shard_bytes(back) == data


@given(st.lists(patterns(), min_size=1, max_size=3, unique_by=lambda p: p.id))
def test_the_checksum_is_jcs_xxh3_of_the_patterns_array(items: list[Pattern]) -> None:
    doc = json.loads(shard_bytes(items))
    assert doc["checksum"] == v2_checksum(doc["patterns"])
    assert doc["checksumAlgorithm"] == "xxh3-64/jcs"
    assert list(doc) == [
        "version",
        "category",
        "patterns",
        "lastUpdated",
        "checksum",
        "patternCount",
        "statusCounts",
        "checksumAlgorithm",
    ]
    assert doc["patternCount"] == len(items)
    assert sum(doc["statusCounts"].values()) == len(items)
    # a reader may recompute it from the parsed file with any JCS tool
    assert canonicalize(doc["patterns"]) == canonicalize(json.loads(json.dumps(doc["patterns"])))


def test_variants_and_examples_ride_along() -> None:
    p = make_pattern("p1", files=["a.ts"])
    variant = Variant(
        pattern_id="p1",
        scope=Scope.DIRECTORY,
        scope_path="src/legacy",
        severity_override=Severity.HINT,
        threshold_override=1.0,
        config_override={"strict": False, "limit": 5.0},
        created_at=STAMP,
    )
    example = Example(
        pattern_id="p1",
        file="src/a.ts",
        code="await x()\n",
        line_start=3,
        line_end=4,
        is_positive=False,
    )
    data = shard_bytes([p], variants=[variant], examples=[example])
    entry = json.loads(data)["patterns"][0]
    assert entry["variants"] == [
        {
            "scope": "directory",
            "scopePath": "src/legacy",
            "severityOverride": "hint",
            "thresholdOverride": 1,
            "configOverride": {"strict": False, "limit": 5},
            "createdAt": STAMP,
        }
    ]
    assert entry["examples"][0]["isPositive"] is False
    [item] = decode_v2_entries(read_v2_shard(data, path="api.json", expected_category="api"))
    assert item.variants is not None and item.examples is not None
    assert item.variants[0].scope_path == "src/legacy" and item.variants[0].pattern_id == "p1"
    assert item.examples[0].code == "await x()\n"
    assert entry_bytes(item.pattern, variants=item.variants, examples=item.examples) == entry_bytes(
        p, variants=[variant], examples=[example]
    )


def _bad(data: bytes, category: str = "api") -> str:
    with pytest.raises(InvalidInputError) as caught:
        shard = read_v2_shard(data, path=".drift/patterns/api.json", expected_category=category)
        list(decode_v2_entries(shard))
    message = str(caught.value)
    assert message.startswith(".drift/patterns/api.json:") and "\n" not in message
    return message


def _doc() -> dict[str, Any]:
    return json.loads(shard_bytes([make_pattern("p1", files=["a.ts"]), make_pattern("p2")]))


def test_malformed_and_truncated_files_are_refused() -> None:
    data = shard_bytes([make_pattern("p1", files=["a.ts"])])
    assert "not valid JSON" in _bad(data[: len(data) // 2])
    assert "not valid JSON" in _bad(b"{nope")
    assert "not a shard" in _bad(b"[1, 2]")


def test_a_wrong_version_is_refused_with_a_hint() -> None:
    doc = _doc()
    doc["version"] = "1.0.0"
    assert "'1.0.0' is not a driftstore v2 shard" in _bad(json.dumps(doc).encode())
    del doc["checksumAlgorithm"]
    doc["version"] = "2.0.0"
    assert "not a driftstore export" in _bad(json.dumps(doc).encode())


def test_an_unknown_or_mismatched_category_is_refused() -> None:
    doc = _doc()
    doc["category"] = "marketing"
    assert "'marketing' is not one of drift's categories" in _bad(json.dumps(doc).encode())
    doc["category"] = "auth"
    assert "named api.json" in _bad(json.dumps(doc).encode())


def test_a_field_of_the_wrong_type_names_file_pattern_and_field() -> None:
    doc = _doc()
    doc["patterns"][0]["locations"][0]["line"] = "twelve"
    message = _bad(json.dumps(doc).encode())
    assert "patterns[0]" in message and "'p1'" in message
    assert "locations[0].line" in message and "expected int" in message
    doc = _doc()
    doc["patterns"][1]["status"] = "maybe"
    assert "'p2'" in _bad(json.dumps(doc).encode()) and "status" in _bad(json.dumps(doc).encode())


def test_an_entry_path_outside_the_project_is_refused() -> None:
    doc = _doc()
    doc["patterns"][0]["locations"][0]["file"] = "../../etc/passwd"
    assert "outside the project" in _bad(json.dumps(doc).encode())
    doc = _doc()
    doc["patterns"][0]["examples"] = [{"file": "/etc/passwd", "code": "x", "isPositive": True}]
    assert "outside the project" in _bad(json.dumps(doc).encode())


def test_tampering_is_detected_not_refused_by_the_reader() -> None:
    doc = _doc()
    doc["patterns"][0]["name"] = "edited"
    shard = read_v2_shard(json.dumps(doc).encode(), path="api.json", expected_category="api")
    assert not shard.checksum_ok and shard.claimed != shard.computed
    doc = _doc()
    doc["patternCount"] = 7
    doc["statusCounts"][Status.APPROVED.value] = 2
    shard = read_v2_shard(json.dumps(doc).encode(), path="api.json", expected_category="api")
    assert shard.checksum_ok and len(shard.problems) == 2
