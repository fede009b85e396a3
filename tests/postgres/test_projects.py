"""Many projects in one database: every facade read answers from its own project only,
and a write to one project leaves every other exactly as it was."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import driftstore
from driftstore import to_builtins
from tests.factories import make_pattern

SECRET = "BETA-ONLY"


def _fill_alpha(store: driftstore.PatternStore) -> None:
    store.add_many(
        [
            make_pattern("p1", files=["shared.ts", "a.ts"], outlier_files=["shared.ts"]),
            make_pattern("p2", files=["shared.ts"]),
        ]
    )
    store.approve("p1", by="ana", reason="team call")
    store.add_variant("p1", scope="file", path="a.ts", severity="error")
    (store.root / "shared.ts").write_text("export async function h() {}\n")
    store.add_example("p1", "shared.ts", "1-1")


def _fill_beta(store: driftstore.PatternStore) -> None:
    """The same ids and files as alpha's, and more, each marked with SECRET."""
    beta = [
        make_pattern(pid, files=["shared.ts", f"{SECRET}.ts"], outlier_files=[f"{SECRET}.ts"])
        for pid in ("p1", "p2", f"{SECRET}-3")
    ]
    for p in beta:
        p.name = f"{SECRET} {p.id}"
        p.description = SECRET
    store.add_many(beta)
    store.approve("p2", by=SECRET, reason=SECRET)
    store.add_variant("p1", scope="directory", path=SECRET, enabled=False, by=SECRET)


#: every read of the facade, each called on project alpha
READS: dict[str, Callable[[driftstore.PatternStore], Any]] = {
    "status": lambda s: s.status(),
    "count": lambda s: s.count(),
    "query": lambda s: s.query(),
    "page": lambda s: s.page(limit=10),
    "get": lambda s: [s.get("p1"), s.get("p2"), s.get(f"{SECRET}-3")],
    "exists": lambda s: s.exists(f"{SECRET}-3"),
    "resolve_id": lambda s: s.resolve_id("p1"),
    "by_file": lambda s: [s.by_file("shared.ts"), s.by_file(f"{SECRET}.ts")],
    "by_file fresh": lambda s: s.by_file("shared.ts", fresh=True),
    "file_report": lambda s: s.file_report("shared.ts"),
    "diagnostics": lambda s: s.diagnostics("shared.ts", ("approved", "discovered")),
    "outliers": lambda s: s.outliers(statuses=["approved", "discovered"]),
    "context_for_file": lambda s: s.context_for_file("shared.ts"),
    "describe": lambda s: s.describe("p1"),
    "history": lambda s: s.history(),
    "history_list": lambda s: s.history_list(limit=0),
    "example_list": lambda s: s.example_list("p1"),
    "examples": lambda s: s.examples("p1"),
    "variants": lambda s: s.variants(),
    "variant_views": lambda s: s.variant_views(),
    "effective_for": lambda s: s.effective_for("p1", "a.ts"),
    "examples_for": lambda s: s.examples_for("p1"),
    "diff": lambda s: s.diff(),
    "as_of": lambda s: s.as_of("2999-01-01T00:00:00Z").status(),
    "check": lambda s: s.check(),
    "sarif_log": lambda s: s.sarif_log(statuses=["approved", "discovered"]),
    "verify": lambda s: s.verify(),
    "changes_since": lambda s: sorted(s.changes_since(0).ids or []),
    "decide_where dry run": lambda s: s.decide_where(
        {"statuses": ["discovered"]}, "approved", by="x", dry_run=True
    ),
}


def _shown(value: Any) -> str:
    return json.dumps(to_builtins(value), default=str)


@pytest.fixture
def two(url: str, tmp_path: Path) -> tuple[driftstore.PatternStore, driftstore.PatternStore]:
    root = tmp_path / "repo"
    root.mkdir()
    alpha = driftstore.open(root, store=url, project="alpha")
    beta = driftstore.open(root, store=url, project="beta")
    _fill_alpha(alpha)
    _fill_beta(beta)
    return alpha, beta


@pytest.mark.parametrize("name", list(READS))
def test_a_read_never_sees_another_projects_rows(url: str, tmp_path: Path, name: str) -> None:
    """Each read answers the same before and after another project (with the same ids and
    files, and more) fills up beside it, and never shows that project's text."""
    root = tmp_path / "repo"
    root.mkdir()
    with driftstore.open(root, store=url, project="alpha") as alpha:
        _fill_alpha(alpha)
        alone = _shown(READS[name](alpha))
        with driftstore.open(root, store=url, project="beta") as beta:
            _fill_beta(beta)
            assert SECRET in _shown(beta.query()) + _shown(beta.history())
        beside = _shown(READS[name](alpha))
    assert SECRET not in beside
    assert beside == alone


def _state(store: driftstore.PatternStore, out: Path) -> tuple[Any, ...]:
    store.export(out)
    files = {p.relative_to(out).as_posix(): p.read_bytes() for p in out.rglob("*.json")}
    return files, _shown(store.history()), _shown(store.variants()), store.generation


WRITES: dict[str, Callable[[driftstore.PatternStore, Path], Any]] = {
    "approve": lambda s, _: s.approve("p2", by="x"),
    "ignore": lambda s, _: s.ignore("p1", by="x"),
    "update": lambda s, _: s.update("p1", description="changed"),
    "delete": lambda s, _: s.delete("p2"),
    "add_variant": lambda s, _: s.add_variant("p2", enabled=False),
    "remove_variant": lambda s, _: s.remove_variant(s.variants()[0].id or 0),
    "remove_example": lambda s, _: s.remove_example(s.examples("p1")[0].id or 0),
    "ingest with prune": lambda s, _: s.ingest([make_pattern("p9")], prune=True, force=True),
    "import": lambda s, tmp: (s.export(tmp / "shards"), s.import_(tmp / "shards", force=True)),
    "restore": lambda s, _: (s.backup("t"), s.delete("p1"), s.restore("latest")),
    "decide_where": lambda s, _: s.decide_where({"statuses": ["discovered"]}, "ignored", by="x"),
}


@pytest.mark.parametrize("name", list(WRITES))
def test_a_write_to_one_project_leaves_the_other_as_it_was(
    two: tuple[driftstore.PatternStore, driftstore.PatternStore], tmp_path: Path, name: str
) -> None:
    alpha, beta = two
    with alpha, beta:
        before = _state(beta, tmp_path / "before")
        alpha_before = _state(alpha, tmp_path / "alpha-before")
        WRITES[name](alpha, tmp_path)
        assert _state(alpha, tmp_path / "alpha-after") != alpha_before  # it did write
        assert _state(beta, tmp_path / "after") == before


def test_projects_lists_each_with_its_counts(
    two: tuple[driftstore.PatternStore, driftstore.PatternStore], url: str
) -> None:
    alpha, beta = two
    with alpha, beta:
        listed = {p.project: p for p in driftstore.projects(url)}
        assert set(listed) == {"alpha", "beta"}
        for store, name in ((alpha, "alpha"), (beta, "beta")):
            status = store.status()
            assert listed[name].patterns == status.total_patterns
            assert listed[name].locations == status.total_locations
            assert listed[name].outliers == status.total_outliers
            assert listed[name].history_rows == len(store.history())
