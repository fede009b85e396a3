"""The shard fast paths give exactly what the general paths give, and take the usual case.

Each fast path (typed decoding for the checksum pass and the import pass, SQL rows turned
into writer structs for export) is compared here with the general path it stands in for,
on generated entries full of what could tell them apart: numbers JavaScript spells
differently, nulls, unknown and repeated keys, astral characters, whole numbers too big
for a double.
"""

from __future__ import annotations

import json
from typing import Any

import msgspec
import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st

from driftstore.formats.canonical import canonical_fast, es_decoder
from driftstore.formats.shards import entries as shard_entries
from driftstore.formats.shards import fast as shard_fast
from driftstore.formats.shards import v2_entry
from driftstore.model.pattern import Pattern
from tests.factories import make_pattern
from tests.formats.strategies import any_floats, json_values, patterns, texts

#: numbers a location may hold, as JSON text: ordinary, JavaScript-awkward, not floats at all
_ODD_NUMBER_TEXTS = st.sampled_from(
    [
        "0.38",
        "1",
        "1.0",
        "0",
        "-0.0",
        "1e-7",
        "1E-7",
        "2.5e-06",
        "0.00001",
        "0.0001",
        "0.30000000000000004",
        "1e16",
        "12345678901234567890",
        "123456789012345.6",
        "1e21",
        "0.99999999999999999999",
        "true",
        "null",
        '"0.5"',
    ]
)
_NUMBER_TEXTS = (
    _ODD_NUMBER_TEXTS
    | st.floats(0, 1).map(lambda v: json.dumps(round(v, 2)))
    | any_floats.map(json.dumps)
)


#: text without astral characters (with them the fast path rightly steps aside)
_bmp_texts = st.text(st.characters(max_codepoint=0xFFFF, blacklist_categories=("Cs",)), max_size=8)


@st.composite
def raw_locations(draw: st.DrawFn) -> str:
    """A location object as JSON text, its keys in any order, some repeated or unknown."""
    members = [
        ("file", json.dumps(draw(_bmp_texts))),
        ("line", str(draw(st.integers(1, 10**6)))),
        ("column", str(draw(st.integers(0, 500)))),
    ]
    keys = ["confidence", "deviationScore", "isOutlier", "endLine", "reason"]
    keys += ["xUnknown"] if draw(st.integers(0, 4)) == 0 else []
    for key in draw(st.lists(st.sampled_from(keys), max_size=3)):
        odd = draw(st.integers(0, 9)) == 0  # now and then a value of the wrong type
        if key in ("confidence", "deviationScore"):
            value = draw(_NUMBER_TEXTS)
        elif key == "isOutlier":
            value = draw(st.sampled_from(["1", "null"] if odd else ["true", "false"]))
        elif key == "endLine":
            value = "1.5" if odd else str(draw(st.integers(-1, 2**53)))
        elif key == "reason":
            value = json.dumps(draw(texts if odd else _bmp_texts))
        else:
            value = json.dumps(draw(json_values if odd else st.integers()))
        members.insert(draw(st.integers(0, len(members))), (key, value))
    return "{" + ",".join(f"{json.dumps(k)}:{v}" for k, v in members) + "}"


@st.composite
def raw_entries(draw: st.DrawFn) -> bytes:
    locations = draw(st.lists(raw_locations(), max_size=4))
    members = [
        f'"id":{json.dumps(draw(_bmp_texts))}',
        f'"status":{json.dumps(draw(st.sampled_from(["approved", "discovered", 3])))}',
        f'"confidence":{{"score":{draw(_NUMBER_TEXTS)}}}',
        f'"locations":[{",".join(locations)}]',
        f'"metadata":{json.dumps(draw(json_values | st.just({"tags": ["a"]})))}',
    ]
    if draw(st.booleans()):
        members.append(f'"outliers":[{",".join(draw(st.lists(raw_locations(), max_size=2)))}]')
    return ("{" + ",".join(draw(st.permutations(members))) + "}").encode()


def _reference(raw: bytes) -> bytes | None:
    try:
        return canonical_fast(es_decoder.decode(raw))
    except (msgspec.DecodeError, ValueError):
        return None


@settings(max_examples=300)
@given(raw_entries())
def test_the_typed_checksum_pass_gives_the_general_answer(raw: bytes) -> None:
    fast = shard_fast.canonical_entry(raw)
    if fast is not None:
        canonical, status = fast
        assert canonical == _reference(raw)
        assert status == json.loads(raw).get("status")
        # and it is RFC 8785 as an independent implementation writes it (which refuses
        # integers beyond 2**53, where the general path keeps every digit)
        try:
            expected = rfc8785.dumps(json.loads(raw))
        except rfc8785.IntegerDomainError:
            return
        assert canonical == expected


def test_the_typed_checksum_pass_takes_what_driftstore_writes() -> None:
    raw = (
        b'{"id":"a","locations":[{"file":"src/a.ts","line":3,"column":1,"isOutlier":false,'
        b'"confidence":0.38},{"file":"b.ts","line":4,"column":0,"confidence":1}],'
        b'"outliers":[{"file":"c.ts","line":9,"column":2,"reason":"r","deviationScore":1e-7}],'
        b'"confidence":{"score":0.5},"status":"approved"}'
    )
    fast = shard_fast.canonical_entry(raw)
    assert fast is not None and fast[0] == _reference(raw) == rfc8785.dumps(json.loads(raw))
    # what it hands back: unknown keys, nulls, precision a double lost, astral keys
    for odd in (
        b'{"locations":[{"file":"a","line":1,"column":0,"xNew":1}]}',
        b'{"locations":[{"file":"a","line":1,"column":0,"snippet":null}]}',
        b'{"locations":[{"file":"a","line":1,"column":0,"confidence":12345678901234567890}]}',
        '{"locations":[],"x\U0001f600":1,"x\uffff":2}'.encode(),
    ):
        assert shard_fast.canonical_entry(odd) is None


@settings(max_examples=40)
@given(patterns(), st.booleans())
def test_the_typed_import_pass_gives_the_general_answer(p: Pattern, with_category: bool) -> None:
    entry = v2_entry(p)
    if with_category:
        entry["category"] = p.category
    raw = msgspec.json.encode(entry)
    fast = shard_fast.decode_pattern(raw, p.category)
    general = shard_entries._decode_general(
        msgspec.Raw(raw), where="x.json", category=p.category, clean=set()
    )
    # only an entry with keys the model does not know goes the general way
    assert (fast is None) == _has_unknown_keys(p)
    if fast is None:
        return
    assert fast[0] == general[0]
    assert (fast[1], fast[2]) == (general[1], general[2])


def _has_unknown_keys(p: Pattern) -> bool:
    parts = [p, p.detector, p.detector.config, p.confidence, p.metadata, *p.all_locations()]
    return any(part.extras is not msgspec.UNSET and part.extras for part in parts)


def test_an_entry_of_another_category_goes_the_general_way() -> None:
    entry: dict[str, Any] = v2_entry(_plain_pattern())
    entry["category"] = "auth"
    assert shard_fast.decode_pattern(msgspec.json.encode(entry), "api") is None
    entry["category"] = "api"
    decoded = shard_fast.decode_pattern(msgspec.json.encode(entry), "api")
    assert decoded is not None and decoded[0].category == "api"


def _plain_pattern() -> Pattern:
    return make_pattern("p1", files=["src/a.ts"], outlier_files=["b.ts"])
