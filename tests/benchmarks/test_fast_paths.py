"""The ingest fast paths give exactly what the plain definitions give.

Each speed-up made for the benchmarks (one encoding of the locations for both hashes,
snapshots without building location dicts, comprehension-built rows, one check per
distinct path per scan) is compared here with the straightforward definition it replaces,
on generated patterns that use every optional location field and awkward paths.
"""

from __future__ import annotations

import copy
from typing import Any

import msgspec
import pytest
import xxhash
from hypothesis import given
from hypothesis import strategies as st
from msgspec import UNSET

from driftstore.engine.rows import location_rows
from driftstore.errors import InvalidInputError
from driftstore.formats.entries import decode_entry
from driftstore.model.digest import content_hash, count_outliers, fingerprints, snapshot
from driftstore.model.entry import to_entry
from driftstore.model.pattern import Location, Pattern
from driftstore.model.validate import normalise_locations
from tests.factories import make_pattern


def _maybe(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(st.just(UNSET), strategy)


#: project paths, some needing normalising (backslashes, ./, //, /./), some odd but fine
good_paths = (
    st.lists(
        st.sampled_from(["src", "a", "données", "x.ts", "a..b", ".hidden", "b\\c", ".", ""]),
        min_size=1,
        max_size=4,
    )
    .map("/".join)
    .filter(lambda f: f.strip("/.") != "" and not f.startswith("/"))
)
#: paths that leave the project: absolute, drive letters, `..` segments, empty
bad_paths = st.sampled_from(["/abs.ts", "../up.ts", "src/../../x", "C:\\w.ts", "", "a/.."])
paths = good_paths | bad_paths
units = st.floats(0, 1, allow_nan=False)

locations = st.builds(
    Location,
    file=paths,
    line=st.integers(1, 10_000),
    column=st.integers(0, 200),
    end_line=_maybe(st.integers(1, 10_000)),
    end_column=_maybe(st.integers(0, 200)),
    is_outlier=_maybe(st.booleans()),
    confidence=_maybe(units),
    outlier_reason=_maybe(st.text(max_size=5)),
    reason=_maybe(st.text(max_size=5)),
    deviation_score=_maybe(units),
    snippet=_maybe(st.text(max_size=5)),
    original_file=_maybe(st.sampled_from(["src\\x.ts", "./y.ts"])),
    extras=_maybe(st.dictionaries(st.sampled_from(["k", "z"]), st.integers(), max_size=2)),
)


@st.composite
def patterns(draw: st.DrawFn) -> Pattern:
    p = make_pattern(
        draw(st.from_regex(r"[a-f0-9]{16}", fullmatch=True)),
        tags=draw(st.lists(st.text(max_size=4), max_size=2)),
        description=draw(st.text(max_size=10)),
    )
    p.locations = draw(st.lists(locations, max_size=6))
    p.outliers = draw(st.lists(locations, max_size=3))
    return p


@st.composite
def scan_patterns(draw: st.DrawFn) -> Pattern:
    """Mostly patterns a scan would accept; now and then one with an escaping path."""
    p = draw(patterns())
    for loc in p.all_locations():
        loc.file = draw(good_paths)
    if p.locations and draw(st.integers(0, 4)) == 0:
        p.locations[draw(st.integers(0, len(p.locations) - 1))].file = draw(bad_paths)
    return p


def _plain_content_hash(p: Pattern) -> str:
    m = p.metadata
    payload = (
        p.name,
        p.description,
        p.category,
        p.subcategory,
        p.method,
        p.detector,
        msgspec.structs.replace(p.confidence, level=p.confidence.effective_level),
        p.severity,
        p.auto_fixable,
        m.source,
        m.tags,
        m.version,
        m.related_patterns,
        m.custom,
        m.extras,
        p.extras,
        p.locations,
        p.outliers,
    )
    encoded = msgspec.json.encode([None if v is UNSET else v for v in payload])
    return xxhash.xxh3_64_hexdigest(encoded)


def _plain_snapshot(p: Pattern) -> dict[str, Any]:
    data = to_entry(p)
    data.pop("locations", None)
    data.pop("outliers", None)
    data["locationCount"] = p.location_count
    data["outlierCount"] = p.outlier_count
    data["locationsHash"] = xxhash.xxh3_64_hexdigest(msgspec.json.encode((p.locations, p.outliers)))
    return data


def _plain_rows(p: Pattern) -> list[tuple[Any, ...]]:
    rows = []
    for kind, items in ((0, p.locations), (1, p.outliers)):
        for loc in items:
            extra: dict[str, Any] = dict(loc.extras) if loc.extras is not UNSET else {}
            if kind == 0 and loc.reason is not UNSET:
                extra["reason"] = loc.reason
            if kind == 1 and loc.outlier_reason is not UNSET:
                extra["outlierReason"] = loc.outlier_reason
            reason = loc.outlier_reason if kind == 0 else loc.reason
            rows.append(
                (
                    p.id,
                    loc.file,
                    loc.line,
                    loc.column,
                    1 if kind == 1 or loc.is_outlier is True else 0,
                    None if loc.confidence is UNSET else loc.confidence,
                    None if reason is UNSET else reason,
                    kind,
                    None if loc.is_outlier is UNSET else int(loc.is_outlier),
                    None if loc.end_line is UNSET else loc.end_line,
                    None if loc.end_column is UNSET else loc.end_column,
                    None if loc.deviation_score is UNSET else loc.deviation_score,
                    None if loc.snippet is UNSET else loc.snippet,
                    None if loc.original_file is UNSET else loc.original_file,
                    msgspec.json.encode(extra).decode() if extra else None,
                )
            )
    return rows


@given(patterns())
def test_hashes_snapshot_and_rows_match_their_plain_definitions(p: Pattern) -> None:
    digest, locations_hash = fingerprints(p)
    assert digest == content_hash(p) == _plain_content_hash(p)
    plain = _plain_snapshot(p)
    assert plain["locationsHash"] == locations_hash
    for fast in (snapshot(p), snapshot(p, locations_hash=locations_hash)):
        assert fast == plain
        assert list(fast) == list(plain)  # same key order: history JSON is byte-stable
    assert location_rows(p) == _plain_rows(p)
    assert count_outliers(p) == p.outlier_count


@given(st.lists(scan_patterns(), min_size=1, max_size=4))
def test_one_path_check_per_scan_normalises_and_refuses_like_the_full_pass(
    items: list[Pattern],
) -> None:
    clean: set[str] = set()
    for p in items:
        for loc in p.all_locations():
            loc.original_file = UNSET
            loc.extras = UNSET  # unknown keys take the slow path, which has its own tests
        raw = msgspec.json.encode(to_entry(p) | {"category": p.category})
        expected: Pattern | InvalidInputError
        try:
            reference = copy.deepcopy(p)
            normalise_locations(reference, where="scan: line 1 (id {p.id!r})")
            expected = reference
        except InvalidInputError as exc:
            expected = exc
        if isinstance(expected, InvalidInputError):
            with pytest.raises(InvalidInputError, match="is outside the project"):
                decode_entry(raw, where="scan: line 1", clean_paths=clean)
            continue
        got = decode_entry(raw, where="scan: line 1", clean_paths=clean)
        assert [loc.file for loc in got.all_locations()] == [
            loc.file for loc in expected.all_locations()
        ]
        assert [loc.original_file for loc in got.all_locations()] == [
            loc.original_file for loc in expected.all_locations()
        ]


@pytest.mark.parametrize(
    "path",
    [
        "src\\a.ts",
        "./src/a.ts",
        "src//a.ts",
        "src/./a.ts",
        "src/.",
        "/abs.ts",
        "C:x.ts",
        "../a.ts",
        "a/../../b.ts",
        "",
        "..",
        "a..b/ok.ts",
    ],
)
def test_each_awkward_path_gets_the_full_pass_even_after_clean_ones(path: str) -> None:
    clean: set[str] = set()
    first = make_pattern("aaaa", files=["src/ok.ts", "a..b/ok.ts"])
    decode_entry(msgspec.json.encode(to_entry(first)), where="scan: line 1", clean_paths=clean)
    p = make_pattern("bbbb", files=["src/ok.ts", path])
    raw = msgspec.json.encode(to_entry(p))
    reference = copy.deepcopy(p)
    try:
        normalise_locations(reference, where="x")
    except InvalidInputError:
        with pytest.raises(InvalidInputError, match="is outside the project"):
            decode_entry(raw, where="scan: line 2", clean_paths=clean)
        return
    got = decode_entry(raw, where="scan: line 2", clean_paths=clean)
    assert got.locations == reference.locations
