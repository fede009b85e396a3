"""`to_json` writes exactly what encoding `to_builtins` writes, for every kind of result a
face sends, with and without kept unknown keys."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import msgspec
import pytest

import driftstore
from driftstore import Location, Severity
from tests.factories import make_pattern

RESULTS: dict[str, Callable[[driftstore.PatternStore], Any]] = {
    "status": lambda s: s.status(),
    "query": lambda s: s.query(sort="-confidence", limit=2),
    "describe": lambda s: s.describe("p1"),
    "describe with extras": lambda s: s.describe("p2"),
    "file report": lambda s: s.file_report("src/ä.ts", indexed=True),
    "file report (SQL)": lambda s: s.file_report("src/ä.ts"),
    "diagnostics": lambda s: s.diagnostics("src/ä.ts", ["approved", "discovered"]),
    "outliers": lambda s: s.outliers(statuses=["discovered", "approved"]),
    "history": lambda s: s.history_list(),
    "variants": lambda s: s.variants(),
    "a pattern": lambda s: s.require("p2"),
    "a by-file view": lambda s: s.by_file("src/ä.ts")[0],
    "by-file views": lambda s: s.by_file("src/ä.ts"),
    "nothing": lambda s: None,
}


def _fill(store: driftstore.PatternStore) -> None:
    first = make_pattern(
        "p1", files=["src/ä.ts", "b.ts"], outlier_files=["src/ä.ts"], severity=Severity.ERROR
    )
    first.locations[0].end_line, first.locations[0].snippet = 4, "fetch(\u2028x)"
    store.add(first)
    second = make_pattern("p2", name='Ω "quoted" \\ name', files=["src/ä.ts"], tags=["t"])
    second.extras = {"customTop": {"nested": [1, None, "x"]}}
    second.locations[0].extras = {"kept": True}
    second.outliers = [Location(file="src/ä.ts", line=9, column=0, is_outlier=True)]
    store.add(second)
    store.approve("p1", by="me")
    store.add_variant("p2", scope="file", path="src/ä.ts", severity="warning")


@pytest.mark.parametrize("what", sorted(RESULTS))
def test_to_json_is_to_builtins_encoded(store: driftstore.PatternStore, what: str) -> None:
    _fill(store)
    result = RESULTS[what](store)
    assert driftstore.to_json(result) == msgspec.json.encode(driftstore.to_builtins(result))
