"""`status` health and per-category counts; `show` related patterns."""

from __future__ import annotations

import pytest

import driftstore
from driftstore import to_builtins
from driftstore.facade.health import health
from tests.factories import make_pattern


def test_health_formula() -> None:
    # 40 × approval + 40 × mean confidence + 20 × (1 − outlier rate)
    assert health(approved=1, live=2, confidence_sum=1.6, locations=90, outliers=10) == round(
        40 * 0.5 + 40 * 0.8 + 20 * 0.9
    )
    assert health(approved=0, live=0, confidence_sum=0.0, locations=0, outliers=0) == 100
    assert health(approved=3, live=3, confidence_sum=3.0, locations=5, outliers=0) == 100
    assert health(approved=0, live=4, confidence_sum=0.0, locations=0, outliers=7) == 0


def test_status_counts_by_category_and_ignores_ignored_patterns_for_health(
    store: driftstore.PatternStore,
) -> None:
    store.add_many(
        [
            make_pattern(
                "a1", category="api", score=0.9, files=["x.ts"] * 9, outlier_files=["x.ts"]
            ),
            make_pattern("a2", category="api", score=0.5, files=["y.ts"]),
            make_pattern("s1", category="security", score=0.1, files=["z.ts"] * 3),
        ]
    )
    store.approve("a1")
    store.ignore("s1")
    summary = to_builtins(store.status())
    assert summary["categories"] == {
        "api": {
            "total": 2,
            "discovered": 1,
            "approved": 1,
            "ignored": 0,
            "locations": 10,
            "outliers": 1,
        },
        "security": {
            "total": 1,
            "discovered": 0,
            "approved": 0,
            "ignored": 1,
            "locations": 3,
            "outliers": 0,
        },
    }
    factors = summary["healthFactors"]
    assert factors == {
        "livePatterns": 2,
        "approvalRatio": 0.5,
        "meanConfidence": 0.7,
        "outlierRate": round(1 / 11, 4),
    }
    assert summary["health"] == round(40 * 0.5 + 40 * 0.7 + 20 * (1 - 1 / 11))
    assert summary["totalPatterns"] == 3  # the existing keys stay


@pytest.mark.parametrize("target", ["r1", "r2"])
def test_related_patterns_share_category_and_subcategory(
    store: driftstore.PatternStore, target: str
) -> None:
    store.add_many(
        [
            make_pattern("r1", subcategory="routes", score=0.6),
            make_pattern("r2", subcategory="routes", score=0.9),
            make_pattern("r3", subcategory="naming"),
            make_pattern("r4", category="auth", subcategory="routes"),
        ]
    )
    detail = to_builtins(store.describe(target))
    other = {"r1": "r2", "r2": "r1"}[target]
    assert [r["id"] for r in detail["related"]] == [other]
    assert detail["relatedTotal"] == 1
