"""Every filter and sort of store.query, checked against a plain-Python reference."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import driftstore
from driftstore import (
    ConfidenceLevel,
    InvalidInputError,
    Pattern,
    PatternFilter,
    Severity,
    Sort,
    SortField,
    Status,
    to_builtins,
)
from tests.factories import make_pattern

CATS = ["api", "auth", "errors"]
FILES = ["src/a.ts", "src/b.ts", "lib/c.py", "x/y/z.go"]
TAGS = ["t1", "t2", "t3"]
DAYS = [f"2026-0{m}-01T00:00:00.000Z" for m in range(1, 7)]


@st.composite
def corpus(draw: st.DrawFn) -> list[tuple[Pattern, Status]]:
    n = draw(st.integers(1, 12))
    items = []
    for i in range(n):
        first = draw(st.sampled_from(DAYS))
        p = make_pattern(
            f"p{i:02d}",
            category=draw(st.sampled_from(CATS)),
            name=draw(st.sampled_from(["Alpha", "beta", "Gamma ray", "delta_x", "50% off"])),
            description=draw(st.sampled_from(["", "uses Async", "sync only"])),
            score=draw(st.sampled_from([0.1, 0.45, 0.5, 0.7, 0.849, 0.85, 1.0])),
            severity=draw(st.sampled_from(list(Severity))),
            files=draw(st.lists(st.sampled_from(FILES), max_size=3)),
            outlier_files=draw(st.lists(st.sampled_from(FILES), max_size=2)),
            tags=draw(st.lists(st.sampled_from(TAGS), max_size=2, unique=True)),
            first_seen=first,
            last_seen=max(first, draw(st.sampled_from(DAYS))),
        )
        items.append((p, draw(st.sampled_from(list(Status)))))
    return items


def _load(store: driftstore.PatternStore, items: list[tuple[Pattern, Status]]) -> None:
    store.add_many([p for p, _ in items])
    for p, status in items:
        if status != Status.DISCOVERED:
            store.set_status([p.id], status)


FILTERS: list[tuple[str, PatternFilter, Callable[[Pattern, Status], bool]]] = [
    ("categories", PatternFilter(categories=["api", "errors"]), lambda p, s: p.category in {"api", "errors"}),
    ("statuses", PatternFilter(statuses=[Status.APPROVED]), lambda p, s: s == Status.APPROVED),
    ("severities", PatternFilter(severities=[Severity.ERROR, Severity.HINT]), lambda p, s: p.severity in {"error", "hint"}),
    ("levels", PatternFilter(levels=[ConfidenceLevel.MEDIUM]), lambda p, s: p.level == "medium"),
    ("files", PatternFilter(files=["src\\a.ts", "./lib/c.py"]), lambda p, s: any(loc.file in {"src/a.ts", "lib/c.py"} for loc in p.all_locations())),
    ("min", PatternFilter(min_confidence=0.5), lambda p, s: p.confidence.score >= 0.5),
    ("max", PatternFilter(max_confidence=0.7), lambda p, s: p.confidence.score <= 0.7),
    ("has outliers", PatternFilter(has_outliers=True), lambda p, s: p.outlier_count > 0),
    ("no outliers", PatternFilter(has_outliers=False), lambda p, s: p.outlier_count == 0),
    ("tags any", PatternFilter(tags_any=["t1", "t3"]), lambda p, s: bool({"t1", "t3"} & set(p.tags))),
    ("tags all", PatternFilter(tags_all=["t1", "t2"]), lambda p, s: {"t1", "t2"} <= set(p.tags)),
    ("search", PatternFilter(search="ASYNC"), lambda p, s: "async" in (p.name + " " + p.description).lower()),
    ("search literal %", PatternFilter(search="50%"), lambda p, s: "50%" in p.name + p.description),
    ("search literal _", PatternFilter(search="a_x"), lambda p, s: "a_x" in p.name + p.description),
    ("first seen after", PatternFilter(first_seen_after="2026-03-01T00:00:00Z"), lambda p, s: str(p.metadata.first_seen) >= DAYS[2]),
    ("first seen before", PatternFilter(first_seen_before="2026-03-01T00:00:00Z"), lambda p, s: str(p.metadata.first_seen) < DAYS[2]),
    ("last seen after", PatternFilter(last_seen_after="2026-04-01T00:00:00+00:00"), lambda p, s: str(p.metadata.last_seen) >= DAYS[3]),
    ("last seen before", PatternFilter(last_seen_before="2026-04-01T00:00:00Z"), lambda p, s: str(p.metadata.last_seen) < DAYS[3]),
    ("ids", PatternFilter(ids=["p01", "p03", "nope"]), lambda p, s: p.id in {"p01", "p03"}),
    ("combined", PatternFilter(categories=["api"], min_confidence=0.5, has_outliers=True), lambda p, s: p.category == "api" and p.confidence.score >= 0.5 and p.outlier_count > 0),
]  # fmt: skip


@pytest.mark.parametrize(("label", "flt", "expect"), FILTERS, ids=[f[0] for f in FILTERS])
@settings(max_examples=15)
@given(items=corpus())
def test_each_filter_matches_the_reference(
    tmp_path_factory: pytest.TempPathFactory,
    label: str,
    flt: PatternFilter,
    expect: Callable[[Pattern, Status], bool],
    items: list[tuple[Pattern, Status]],
) -> None:
    with driftstore.open(tmp_path_factory.mktemp("q")) as store:
        _load(store, items)
        result = store.query(flt)
    assert [s.id for s in result.patterns] == sorted(p.id for p, s in items if expect(p, s))
    assert result.total == len(result.patterns)


def test_an_empty_filter_list_matches_nothing_and_none_matches_all(
    store: driftstore.PatternStore,
) -> None:
    store.add_many([make_pattern("a"), make_pattern("b")])
    assert store.query(PatternFilter(categories=[])).total == 0
    assert store.query(PatternFilter(tags_any=[])).total == 0
    assert store.query(PatternFilter(files=[])).total == 0
    assert store.query(PatternFilter()).total == 2
    assert store.query(None).total == 2


SORT_KEYS: dict[SortField, Callable[[Pattern, Status], Any]] = {
    SortField.ID: lambda p, s: p.id,
    SortField.NAME: lambda p, s: p.name,
    SortField.CATEGORY: lambda p, s: p.category,
    SortField.STATUS: lambda p, s: s.value,
    SortField.CONFIDENCE: lambda p, s: p.confidence.score,
    SortField.SEVERITY: lambda p, s: p.severity.rank,
    SortField.FIRST_SEEN: lambda p, s: p.metadata.first_seen,
    SortField.LAST_SEEN: lambda p, s: p.metadata.last_seen,
    SortField.LOCATION_COUNT: lambda p, s: p.location_count,
    SortField.OUTLIER_COUNT: lambda p, s: p.outlier_count,
}


@settings(max_examples=30)
@given(
    items=corpus(),
    field=st.sampled_from(list(SortField)),
    descending=st.booleans(),
    offset=st.integers(0, 5),
    limit=st.integers(1, 5),
)
def test_sorting_and_paging_match_the_reference(
    tmp_path_factory: pytest.TempPathFactory,
    items: list[tuple[Pattern, Status]],
    field: SortField,
    descending: bool,
    offset: int,
    limit: int,
) -> None:
    key = SORT_KEYS[field]
    expected = sorted(items, key=lambda ps: (key(*ps), ps[0].id), reverse=descending)
    expected_ids = [p.id for p, _ in expected]
    with driftstore.open(tmp_path_factory.mktemp("s")) as store:
        _load(store, items)
        sort = Sort(field, descending)
        page = store.query(sort=sort, offset=offset, limit=limit)
        assert [s.id for s in page.patterns] == expected_ids[offset : offset + limit]
        assert page.total == len(items)
        assert page.has_more == (offset + limit < len(items))
        # the keyset cursor walks the same order without OFFSET
        walked: list[str] = []
        cursor = None
        while True:
            chunk = store.query(sort=sort, limit=limit, cursor=cursor)
            walked += [s.id for s in chunk.patterns]
            if not chunk.has_more:
                break
            cursor = chunk.next_cursor
        assert walked == expected_ids


def test_bad_query_arguments_are_one_line_errors(store: driftstore.PatternStore) -> None:
    with pytest.raises(InvalidInputError, match="cannot sort by"):
        store.query(sort="colour")
    with pytest.raises(InvalidInputError, match="cursor"):
        store.query(limit=1, cursor="garbage!")
    with pytest.raises(InvalidInputError, match="ISO-8601"):
        store.query(PatternFilter(first_seen_after="last tuesday"))
    with pytest.raises(InvalidInputError, match="offset"):
        store.query(offset=-1)


def test_status_counts(store: driftstore.PatternStore) -> None:
    store.add_many(
        [
            make_pattern("a", score=0.9, files=["x.ts", "y.ts"], outlier_files=["z.ts"]),
            make_pattern("b", category="auth", score=0.6, files=["x.ts"]),
            make_pattern("c", category="auth", score=0.2),
        ]
    )
    store.approve("a")
    store.ignore("c")
    summary = to_builtins(store.status())
    assert summary["totalPatterns"] == 3
    assert summary["byStatus"] == {"discovered": 1, "approved": 1, "ignored": 1}
    assert summary["byCategory"] == {"api": 1, "auth": 2}
    assert summary["byConfidence"] == {"high": 1, "medium": 0, "low": 1, "uncertain": 1}
    assert summary["totalLocations"] == 3
    assert summary["totalOutliers"] == 1
