"""History rows, variants and examples: written, read back, filtered, removed."""

from __future__ import annotations

import pytest

from driftstore.engine.base import Engine, HistoryRecord
from driftstore.model.enums import HistoryAction, Scope, Severity
from driftstore.model.records import Example, HistoryEntry, Variant
from tests.engine.contract.data import pattern, put


def _history(engine: Engine) -> list[HistoryRecord]:
    rows = [
        HistoryRecord(
            "a",
            HistoryAction.CREATED,
            None,
            {"name": "A", "nested": {"k": [1, 2.5]}},
            "2026-01-01T00:00:00.000Z",
        ),
        HistoryRecord(
            "b", HistoryAction.CREATED, None, {"name": "B"}, "2026-01-02T00:00:00.000Z", "ana"
        ),
        HistoryRecord(
            "a",
            HistoryAction.APPROVED,
            {"status": "discovered"},
            {"status": "approved"},
            "2026-01-03T00:00:00.000Z",
            "bob",
            "looks right ✓",
        ),
        HistoryRecord("a", HistoryAction.UPDATED, {"n": 1}, {"n": 2}, "2026-01-04T00:00:00.000Z"),
        HistoryRecord("c", HistoryAction.DELETED, {"name": "C"}, None, "2026-01-05T00:00:00.000Z"),
    ]
    with engine.write() as w:
        w.record_history(rows[:2])
    with engine.write() as w:
        w.record_history(rows[2:])
        w.record_history([])
    return rows


def _as_record(e: HistoryEntry) -> HistoryRecord:
    return HistoryRecord(e.pattern_id, e.action, e.old, e.new, e.at, e.by, e.reason)


def test_history_reads_back_newest_first(engine: Engine) -> None:
    written = _history(engine)
    with engine.read() as r:
        newest = r.history()
        oldest = r.history(oldest_first=True)
    assert [_as_record(e) for e in oldest] == written
    assert newest == list(reversed(oldest))
    ids = [e.id for e in oldest]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)


def test_history_filters(engine: Engine) -> None:
    _history(engine)
    with engine.read() as r:
        everything = r.history(oldest_first=True)
        ids = [e.id for e in everything]

        def ats(**kwargs: object) -> list[str]:
            return [e.at[:10] for e in r.history(**kwargs)]  # type: ignore[arg-type]

        assert [e.action for e in r.history("a")] == [
            HistoryAction.UPDATED,
            HistoryAction.APPROVED,
            HistoryAction.CREATED,
        ]
        assert r.history("nobody") == []
        assert ats(since="2026-01-02T00:00:00.000Z") == [
            "2026-01-05",
            "2026-01-04",
            "2026-01-03",
            "2026-01-02",
        ]
        assert ats(until="2026-01-03T00:00:00.000Z") == ["2026-01-02", "2026-01-01"]
        assert ats(since="2026-01-02T00:00:00.000Z", until="2026-01-04T00:00:00.000Z") == [
            "2026-01-03",
            "2026-01-02",
        ]
        assert ats(limit=2) == ["2026-01-05", "2026-01-04"]
        assert ats(limit=2, oldest_first=True) == ["2026-01-01", "2026-01-02"]
        assert ats(before_id=ids[3]) == ["2026-01-03", "2026-01-02", "2026-01-01"]
        assert ats(before_id=ids[0]) == []
        assert ats(pattern_id="a", before_id=ids[3], limit=1) == ["2026-01-03"]
        assert ats(pattern_id="a", since="2026-01-02T00:00:00.000Z", oldest_first=True) == [
            "2026-01-03",
            "2026-01-04",
        ]


def test_history_pages_by_before_id_visit_every_row_once(engine: Engine) -> None:
    with engine.write() as w:
        w.record_history(
            [
                HistoryRecord(f"p{i % 3}", HistoryAction.UPDATED, None, {"i": i}, w.now)
                for i in range(23)
            ]
        )
    seen: list[int] = []
    before = None
    with engine.read() as r:
        while True:
            page = r.history(limit=5, before_id=before)
            if not page:
                break
            seen += [e.new["i"] for e in page if e.new is not None]
            before = page[-1].id
    assert seen == list(reversed(range(23)))


def test_variants_are_stored_listed_and_removed(engine: Engine) -> None:
    put(engine, pattern("a"), pattern("b"))
    with engine.write() as w:
        plain = w.add_variant(Variant(pattern_id="a", scope=Scope.GLOBAL))
        full = w.add_variant(
            Variant(
                pattern_id="a",
                scope=Scope.DIRECTORY,
                scope_path="src/legacy",
                severity_override=Severity.HINT,
                enabled_override=False,
                threshold_override=0.25,
                config_override={"max": 3, "names": ["x", "ÿ"]},
                expires_at="2027-01-01T00:00:00.000Z",
                created_at="2025-12-31T00:00:00.000Z",
            )
        )
        other = w.add_variant(Variant(pattern_id="b", scope=Scope.FILE, scope_path="b.ts"))
        now = w.now
        assert w.variants("a") == [plain, full]  # a write reads its own writes
    assert plain.id is not None and full.id is not None and other.id is not None
    assert plain.id < full.id < other.id
    assert plain.created_at == now  # created now unless it says otherwise
    assert full.created_at == "2025-12-31T00:00:00.000Z"
    assert (full.scope_path, full.severity_override, full.enabled_override) == (
        "src/legacy",
        Severity.HINT,
        False,
    )
    assert (full.threshold_override, full.config_override, full.expires_at) == (
        0.25,
        {"max": 3, "names": ["x", "ÿ"]},
        "2027-01-01T00:00:00.000Z",
    )
    with engine.read() as r:
        assert r.variants() == [plain, full, other]
        assert r.variants("a") == [plain, full]
        assert r.variants("none") == []
        assert r.variant(full.id) == full
        assert r.variant(10_000) is None
        assert r.variants_of(["b", "a", "none"]) == {"a": [plain, full], "b": [other]}
        assert r.variants_of([]) == {}
    with engine.write() as w:
        assert w.remove_variant(plain.id) == plain
        assert w.remove_variant(plain.id) is None
        assert w.remove_variant(10_000) is None
    with engine.read() as r:
        assert r.variants() == [full, other]
        assert r.variant(plain.id) is None


def test_examples_are_stored_listed_and_removed(engine: Engine) -> None:
    put(engine, pattern("a"), pattern("b"))
    with engine.write() as w:
        good = w.add_example(Example(pattern_id="a", file="src/a.ts", code="ok()\n"))
        bad = w.add_example(
            Example(
                pattern_id="a",
                file="src/b.ts",
                code="bad(); // ünï\n\tmore",
                line_start=3,
                line_end=4,
                is_positive=False,
                language="typescript",
                created_at="2025-01-01T00:00:00.000Z",
            )
        )
        other = w.add_example(Example(pattern_id="b", file="b.ts", code="x"))
        now = w.now
    assert good.id is not None and bad.id is not None and other.id is not None
    assert good.id < bad.id < other.id
    assert good.created_at == now and good.is_positive
    assert bad.created_at == "2025-01-01T00:00:00.000Z"
    assert (bad.code, bad.line_start, bad.line_end, bad.is_positive, bad.language) == (
        "bad(); // ünï\n\tmore",
        3,
        4,
        False,
        "typescript",
    )
    with engine.read() as r:
        assert r.examples() == [good, bad, other]
        assert r.examples("a") == [good, bad]
        assert r.examples("none") == []
        assert r.example(bad.id) == bad
        assert r.example(10_000) is None
    with engine.write() as w:
        assert w.remove_example(good.id) == good
        assert w.remove_example(good.id) is None
        assert w.remove_example(10_000) is None
    with engine.read() as r:
        assert r.examples() == [bad, other]


def test_replace_children_swaps_one_patterns_variants_and_examples(engine: Engine) -> None:
    put(engine, pattern("a"), pattern("b"))
    with engine.write() as w:
        w.add_variant(Variant(pattern_id="a", scope=Scope.GLOBAL))
        w.add_example(Example(pattern_id="a", file="a.ts", code="old"))
        kept_v = w.add_variant(Variant(pattern_id="b", scope=Scope.GLOBAL))
        kept_e = w.add_example(Example(pattern_id="b", file="b.ts", code="b"))
    with engine.write() as w:
        w.replace_children(
            "a",
            [
                Variant(pattern_id="a", scope=Scope.FILE, scope_path="x.ts"),
                Variant(
                    pattern_id="a",
                    scope=Scope.DIRECTORY,
                    scope_path="src",
                    created_at="2020-01-01T00:00:00.000Z",
                ),
            ],
            [Example(pattern_id="a", file="n.ts", code="new", is_positive=False)],
        )
        now = w.now
    with engine.read() as r:
        variants = r.variants("a")
        examples = r.examples("a")
        assert r.variants("b") == [kept_v] and r.examples("b") == [kept_e]
    assert [(v.scope, v.scope_path, v.created_at) for v in variants] == [
        (Scope.FILE, "x.ts", now),
        (Scope.DIRECTORY, "src", "2020-01-01T00:00:00.000Z"),
    ]
    assert [(e.file, e.code, e.is_positive, e.created_at) for e in examples] == [
        ("n.ts", "new", False, now)
    ]
    with engine.write() as w:
        w.replace_children("a", [], [])
    with engine.read() as r:
        assert r.variants("a") == [] and r.examples("a") == []


@pytest.mark.parametrize("kind", ["variant", "example"])
def test_children_of_a_missing_pattern_are_refused(engine: Engine, kind: str) -> None:
    """A variant or example hangs off a stored pattern: the store refuses an orphan."""
    from driftstore.errors import DriftStoreError

    before = engine.generation()
    with pytest.raises(DriftStoreError), engine.write() as w:
        if kind == "variant":
            w.add_variant(Variant(pattern_id="ghost", scope=Scope.GLOBAL))
        else:
            w.add_example(Example(pattern_id="ghost", file="g.ts", code="g"))
    assert engine.generation() == before
    with engine.read() as r:
        assert r.variants() == [] and r.examples() == []
