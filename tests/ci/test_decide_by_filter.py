"""`approve` / `ignore` with `list`'s filters: all or nothing, one history row each."""

from __future__ import annotations

import pytest

import driftstore
from driftstore import PatternFilter, Status
from tests.clirun import run_cli
from tests.factories import make_pattern


@pytest.fixture
def mixed(store: driftstore.PatternStore) -> driftstore.PatternStore:
    store.ingest(
        [make_pattern(f"a{i}", category="api", score=0.5 + i / 10) for i in range(5)]
        + [make_pattern(f"s{i}", category="security", score=0.95) for i in range(3)]
    )
    store.approve("a4")
    return store


def test_a_filter_decides_every_pattern_it_selects(mixed: driftstore.PatternStore) -> None:
    rows = len(mixed.history())
    report = mixed.decide_where(
        PatternFilter(categories=["api"], min_confidence=0.7), Status.APPROVED, by="ci"
    )
    assert report.ids == ["a2", "a3"] and report.unchanged == ["a4"]
    assert len(mixed.history()) == rows + 2  # one row per pattern moved, none for a4
    assert {h.by for h in mixed.history(limit=2)} == {"ci"}


def test_dry_run_writes_nothing(mixed: driftstore.PatternStore) -> None:
    before = mixed.generation
    report = mixed.decide_where(PatternFilter(categories=["security"]), "ignored", dry_run=True)
    assert report.ids == ["s0", "s1", "s2"] and report.dry_run
    assert mixed.generation == before
    assert mixed.count(PatternFilter(statuses=[Status.IGNORED])) == 0


def test_a_decision_is_approved_or_ignored(mixed: driftstore.PatternStore) -> None:
    with pytest.raises(driftstore.InvalidInputError):
        mixed.decide_where(PatternFilter(categories=["api"]), "discovered")
    assert mixed.count(PatternFilter(statuses=[Status.APPROVED])) == 1


def test_the_cli_takes_filters(
    mixed: driftstore.PatternStore, capsys: pytest.CaptureFixture[str]
) -> None:
    root = mixed.root
    preview = run_cli(capsys, root, "ignore", "--category", "security", "--dry-run", "--json")
    assert preview.code == 0 and preview.json()["ids"] == ["s0", "s1", "s2"]
    assert mixed.count(PatternFilter(statuses=[Status.IGNORED])) == 0
    done = run_cli(capsys, root, "ignore", "--category", "security", "--by", "ana")
    assert done.code == 0 and "ignored: s0, s1, s2" in done.out
    assert mixed.count(PatternFilter(statuses=[Status.IGNORED])) == 3
    assert run_cli(capsys, root, "approve", "a0", "--category", "api").code == 2  # ids or filters
    assert run_cli(capsys, root, "approve", "--status", "maybe").code == 2
