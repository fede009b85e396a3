"""Reader.query (filters, sorts, paging), stats against fresh_stats, related."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from driftstore.engine.base import Engine, StatsRow
from driftstore.errors import InvalidInputError
from driftstore.model.enums import ConfidenceLevel, Severity, Status
from driftstore.model.pattern import Location, Pattern
from driftstore.model.query import PatternFilter, Sort, SortField
from tests.engine.contract.conftest import Stores
from tests.engine.contract.data import pattern, put, same_stats

CATEGORIES = ("api", "auth", "config")


def _corpus() -> list[Pattern]:
    """Sixteen patterns that differ in every field a filter or a sort reads, with ties."""
    found = []
    for i in range(16):
        p = pattern(
            f"p{(i * 7) % 16:02}",
            category=CATEGORIES[i % 3],
            name=["Alpha", "beta", "Gamma 50%", "delta_x"][i % 4] + ("" if i % 5 else " twin"),
            description="Uses FETCH" if i % 4 == 1 else "",
            score=[0.95, 0.9, 0.75, 0.6, 0.3, 0.9][i % 6],
            severity=list(Severity)[i % 4],
            files=[f"src/f{j}.ts" for j in range(i % 4)],
            outlier_files=["src/out.ts"] if i % 5 == 0 else None,
            tags=[["a"], ["a", "b"], ["b"], []][i % 4] if i % 7 else None,
            first_seen=f"2026-0{1 + i % 5}-01T00:00:00.000Z",
            last_seen=f"2026-06-{10 + i % 3}T00:00:00.000Z",
            status=list(Status)[i % 3],
        )
        if i == 3:
            p.locations.append(Location(file="src/f9.ts", line=4, column=1, is_outlier=True))
        found.append(p)
    return found


@pytest.fixture
def corpus(engine: Engine) -> list[Pattern]:
    made = _corpus()
    put(engine, *made)
    with engine.read() as r:
        return r.patterns()  # as stored


_SORT_KEYS: dict[SortField, Callable[[Pattern], Any]] = {
    SortField.ID: lambda p: p.id,
    SortField.NAME: lambda p: p.name,
    SortField.CATEGORY: lambda p: p.category,
    SortField.STATUS: lambda p: p.status.value,
    SortField.CONFIDENCE: lambda p: p.confidence.score,
    SortField.SEVERITY: lambda p: p.severity.rank,
    SortField.FIRST_SEEN: lambda p: p.metadata.first_seen or "",
    SortField.LAST_SEEN: lambda p: p.metadata.last_seen or "",
    SortField.LOCATION_COUNT: lambda p: p.location_count,
    SortField.OUTLIER_COUNT: lambda p: p.outlier_count,
}


def _expected(patterns: list[Pattern], keep: Callable[[Pattern], bool], sort: Sort) -> list[str]:
    key = _SORT_KEYS[sort.field]
    chosen = sorted((p for p in patterns if keep(p)), key=lambda p: (key(p), p.id))
    if sort.descending:
        chosen.reverse()
    return [p.id for p in chosen]


BY_ID = Sort()


def _ids(engine: Engine, f: PatternFilter, sort: Sort = BY_ID) -> list[str]:
    with engine.read() as r:
        page = r.query(f, sort)
    assert page.total == len(page.patterns) and not page.has_more and page.next_cursor is None
    return [s.id for s in page.patterns]


def _tags(p: Pattern) -> set[str]:
    return set(p.tags)


FILTERS: list[tuple[str, PatternFilter, Callable[[Pattern], bool]]] = [
    ("none", PatternFilter(), lambda p: True),
    ("ids", PatternFilter(ids=["p03", "p05", "nope"]), lambda p: p.id in ("p03", "p05")),
    ("ids empty", PatternFilter(ids=[]), lambda p: False),
    ("categories", PatternFilter(categories=["auth", "x"]), lambda p: p.category == "auth"),
    ("categories empty", PatternFilter(categories=[]), lambda p: False),
    (
        "statuses",
        PatternFilter(statuses=[Status.APPROVED, Status.IGNORED]),
        lambda p: p.status != Status.DISCOVERED,
    ),
    (
        "severities",
        PatternFilter(severities=[Severity.ERROR]),
        lambda p: p.severity == Severity.ERROR,
    ),
    (
        "levels",
        PatternFilter(levels=[ConfidenceLevel.MEDIUM, ConfidenceLevel.UNCERTAIN]),
        lambda p: p.level in (ConfidenceLevel.MEDIUM, ConfidenceLevel.UNCERTAIN),
    ),
    (
        "files",
        PatternFilter(files=["src/f2.ts", "src/out.ts"]),
        lambda p: bool({"src/f2.ts", "src/out.ts"} & {loc.file for loc in p.all_locations()}),
    ),
    ("files empty", PatternFilter(files=[]), lambda p: False),
    (
        "confidence range",
        PatternFilter(min_confidence=0.6, max_confidence=0.9),
        lambda p: 0.6 <= p.confidence.score <= 0.9,
    ),
    ("has outliers", PatternFilter(has_outliers=True), lambda p: p.outlier_count > 0),
    ("no outliers", PatternFilter(has_outliers=False), lambda p: p.outlier_count == 0),
    ("tags any", PatternFilter(tags_any=["b", "zz"]), lambda p: "b" in _tags(p)),
    ("tags any empty", PatternFilter(tags_any=[]), lambda p: False),
    ("tags all", PatternFilter(tags_all=["a", "b"]), lambda p: {"a", "b"} <= _tags(p)),
    (
        "search",
        PatternFilter(search="fetch"),
        lambda p: "fetch" in p.name.lower() or "fetch" in p.description.lower(),
    ),
    ("search literal %", PatternFilter(search="%"), lambda p: "%" in p.name),
    ("search literal _", PatternFilter(search="_"), lambda p: "_" in p.name),
    ("search case", PatternFilter(search="ALPHA"), lambda p: p.name.lower().startswith("alpha")),
    (
        "first seen",
        PatternFilter(
            first_seen_after="2026-02-01T00:00:00Z", first_seen_before="2026-04-01T00:00:00.000Z"
        ),
        lambda p: "2026-02-01" <= (p.metadata.first_seen or "") < "2026-04-01",
    ),
    (
        "last seen",
        PatternFilter(last_seen_after="2026-06-11T00:00:00.000Z"),
        lambda p: (p.metadata.last_seen or "") >= "2026-06-11",
    ),
    (
        "last seen before",
        PatternFilter(last_seen_before="2026-06-11T00:00:00.000Z"),
        lambda p: (p.metadata.last_seen or "") < "2026-06-11",
    ),
    (
        "combined",
        PatternFilter(categories=["api", "auth"], statuses=[Status.DISCOVERED], min_confidence=0.7),
        lambda p: (
            p.category in ("api", "auth")
            and p.status == Status.DISCOVERED
            and p.confidence.score >= 0.7
        ),
    ),
]


@pytest.mark.parametrize(("name", "f", "keep"), FILTERS, ids=[row[0] for row in FILTERS])
def test_each_filter_selects_what_it_says(
    engine: Engine,
    corpus: list[Pattern],
    name: str,
    f: PatternFilter,
    keep: Callable[[Pattern], bool],
) -> None:
    expected = _expected(corpus, keep, Sort())
    assert _ids(engine, f) == expected
    if name not in ("ids empty", "categories empty", "files empty", "tags any empty", "none"):
        assert 0 < len(expected) < len(corpus), "the corpus must make this filter matter"


@pytest.mark.parametrize("descending", [False, True], ids=["asc", "desc"])
@pytest.mark.parametrize("field", list(SortField), ids=[f.value for f in SortField])
def test_each_sort_orders_by_its_key_then_id(
    engine: Engine, corpus: list[Pattern], field: SortField, descending: bool
) -> None:
    sort = Sort(field, descending)
    assert _ids(engine, PatternFilter(), sort) == _expected(corpus, lambda p: True, sort)


def test_summaries_carry_the_listing_fields(engine: Engine, corpus: list[Pattern]) -> None:
    with engine.read() as r:
        page = r.query(PatternFilter(ids=["p03", "p00"]), Sort())
    by_id = {p.id: p for p in corpus}
    for s in page.patterns:
        p = by_id[s.id]
        assert (s.name, s.category, s.subcategory, s.status, s.severity) == (
            p.name,
            p.category,
            p.subcategory,
            p.status,
            p.severity,
        )
        assert s.confidence == p.confidence.score
        assert s.confidence_level == p.level.value
        assert (s.location_count, s.outlier_count) == (p.location_count, p.outlier_count)
        assert (s.description, s.tags) == (p.description, p.tags)
        assert (s.first_seen, s.last_seen) == (p.metadata.first_seen, p.metadata.last_seen)


def test_offset_and_limit_page_with_has_more(engine: Engine, corpus: list[Pattern]) -> None:
    sort = Sort(SortField.CONFIDENCE, True)
    everything = _expected(corpus, lambda p: True, sort)
    with engine.read() as r:
        first = r.query(PatternFilter(), sort, limit=5)
        middle = r.query(PatternFilter(), sort, offset=5, limit=5)
        last = r.query(PatternFilter(), sort, offset=15, limit=5)
        beyond = r.query(PatternFilter(), sort, offset=40, limit=5)
        exact = r.query(PatternFilter(), sort, offset=11, limit=5)
    assert [s.id for s in first.patterns] == everything[:5]
    assert [s.id for s in middle.patterns] == everything[5:10]
    assert [s.id for s in last.patterns] == everything[15:]
    assert [s.id for s in exact.patterns] == everything[11:]
    assert beyond.patterns == []
    assert [p.total for p in (first, middle, last, beyond, exact)] == [16] * 5
    assert [p.has_more for p in (first, middle, last, beyond, exact)] == [
        True,
        True,
        False,
        False,
        False,
    ]
    assert first.next_cursor is not None and last.next_cursor is None


def test_bad_paging_input_is_refused(engine: Engine, corpus: list[Pattern]) -> None:
    for bad in ({"offset": -1}, {"limit": -1}, {"cursor": "not a cursor"}, {"cursor": "W10"}):
        with pytest.raises(InvalidInputError), engine.read() as r:
            r.query(PatternFilter(), Sort(), **bad)  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError), engine.read() as r:
        r.query(PatternFilter(first_seen_after="yesterday"), Sort())


def _walk(engine: Engine, f: PatternFilter, sort: Sort, size: int) -> list[str]:
    """Every page by cursor, each in a read of its own."""
    seen: list[str] = []
    cursor = None
    for _ in range(100):
        with engine.read() as r:
            page = r.query(f, sort, limit=size, cursor=cursor)
        assert len(page.patterns) <= size
        seen += [s.id for s in page.patterns]
        if not page.has_more:
            assert page.next_cursor is None
            return seen
        assert page.next_cursor is not None
        cursor = page.next_cursor
    raise AssertionError("cursor paging did not end")


_filters = st.builds(
    PatternFilter,
    categories=st.none() | st.lists(st.sampled_from(CATEGORIES), max_size=2),
    statuses=st.none() | st.lists(st.sampled_from(list(Status)), min_size=1, max_size=2),
    min_confidence=st.none() | st.sampled_from([0.3, 0.6, 0.9]),
    has_outliers=st.none() | st.booleans(),
    tags_any=st.none() | st.just(["a"]),
)


@settings(max_examples=60)
@given(
    f=_filters,
    field=st.sampled_from(list(SortField)),
    descending=st.booleans(),
    size=st.integers(1, 6),
)
def test_cursor_paging_visits_every_match_once_in_order(
    stores: Stores, f: PatternFilter, field: SortField, descending: bool, size: int
) -> None:
    engine = stores.once("corpus", lambda made: put(made, *_corpus()))
    sort = Sort(field, descending)
    whole = _ids(engine, f, sort)
    assert _walk(engine, f, sort, size) == whole
    with engine.read() as r:
        by_offset = [
            s.id
            for offset in range(0, len(whole) + size, size)
            for s in r.query(f, sort, offset=offset, limit=size).patterns
        ]
    assert by_offset == whole


def test_cursor_paging_stays_exact_while_the_store_changes(engine: Engine) -> None:
    """A cursor resumes after the last row it saw: rows added before it are not repeated
    and nothing after it is skipped."""
    put(engine, *(pattern(f"p{i:02}", score=0.5 + i / 100) for i in range(0, 20, 2)))
    sort = Sort(SortField.CONFIDENCE, True)
    with engine.read() as r:
        first = r.query(PatternFilter(), sort, limit=4)
    put(engine, pattern("p99", score=0.99), pattern("p01", score=0.51))
    with engine.read() as r:
        rest = r.query(PatternFilter(), sort, cursor=first.next_cursor)
    seen = [s.id for s in first.patterns] + [s.id for s in rest.patterns]
    assert seen == ["p18", "p16", "p14", "p12", "p10", "p08", "p06", "p04", "p02", "p01", "p00"]


def test_stats_are_the_running_totals_of_the_patterns(
    engine: Engine, corpus: list[Pattern]
) -> None:
    expected: dict[tuple[str, str, str], list[Any]] = {}
    for p in corpus:
        row = expected.setdefault((p.status.value, p.category, p.level.value), [0, 0, 0, 0.0])
        row[0] += 1
        row[1] += p.location_count
        row[2] += p.outlier_count
        row[3] += p.confidence.score
    want = [StatsRow(*key, *values) for key, values in expected.items()]
    with engine.read() as r:
        assert same_stats(r.stats(), want)
        assert same_stats(r.fresh_stats(), want)
    with engine.write() as w:
        w.delete_patterns([p.id for p in corpus if p.category == "auth"])
    with engine.read() as r:
        kept = [row for row in want if row.category != "auth"]
        assert same_stats(r.stats(), kept)
        assert same_stats(r.fresh_stats(), kept)


def test_related_lists_the_same_kind_most_confident_first(engine: Engine) -> None:
    put(
        engine,
        pattern("self", subcategory="routes", score=0.99),
        pattern("r1", subcategory="routes", score=0.6, files=["a.ts", "b.ts"]),
        pattern("r2", subcategory="routes", score=0.9),
        pattern("r3", subcategory="routes", score=0.9),
        pattern("r4", subcategory="routes", score=0.2, status=Status.IGNORED),
        pattern("other-sub", subcategory="models", score=0.95),
        pattern("other-cat", category="auth", subcategory="routes", score=0.95),
    )
    with engine.read() as r:
        top, total = r.related("self", "api", "routes", limit=3)
        everything, _ = r.related("self", "api", "routes", limit=10)
        none, zero = r.related("self", "api", "nothing", limit=3)
    assert total == 4
    assert [p.id for p in top] == ["r2", "r3", "r1"]
    assert [p.id for p in everything] == ["r2", "r3", "r1", "r4"]
    assert (everything[2].location_count, everything[2].confidence) == (2, 0.6)
    assert everything[3].status == Status.IGNORED and everything[3].name == "Pattern r4"
    assert (none, zero) == ([], 0)
