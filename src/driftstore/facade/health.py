"""The summary behind `status`: totals by status, category and confidence level, the
health score, and per-category counts, all from the engine's running totals."""

from __future__ import annotations

from typing import Any

from driftstore.engine.base import StatsRow
from driftstore.model.enums import Status

#: weights of the health score's three parts (they sum to 100)
APPROVAL_WEIGHT = 40
CONFIDENCE_WEIGHT = 40
CLEANLINESS_WEIGHT = 20


def health(approved: int, live: int, confidence_sum: float, locations: int, outliers: int) -> int:
    """Health score, 0-100, over the live (not ignored) patterns:

        40 × approval ratio      approved ÷ live patterns
      + 40 × mean confidence     average confidence score of live patterns
      + 20 × (1 − outlier rate)  outliers ÷ (locations + outliers) of live patterns

    rounded to an integer. Ignored patterns are decisions already made and count for
    nothing; a store with no live patterns scores 100 (nothing needs attention).
    """
    if live <= 0:
        return 100
    approval = approved / live
    confidence = min(max(confidence_sum / live, 0.0), 1.0)
    evidence = locations + outliers
    outlier_rate = min(outliers / evidence, 1.0) if evidence else 0.0
    score = (
        APPROVAL_WEIGHT * approval
        + CONFIDENCE_WEIGHT * confidence
        + CLEANLINESS_WEIGHT * (1.0 - outlier_rate)
    )
    return max(0, min(100, round(score)))


def status_counts(stats: list[StatsRow]) -> dict[str, Any]:
    """Totals by status, category and confidence level, plus location and outlier counts."""
    by_status = {s.value: 0 for s in Status}
    by_level = {"high": 0, "medium": 0, "low": 0, "uncertain": 0}
    by_category: dict[str, int] = {}
    total = locations = outliers = 0
    for status, category, level, n, locs, outs, _score in stats:
        total += n
        locations += locs or 0
        outliers += outs or 0
        by_status[status] = by_status.get(status, 0) + n
        by_category[category] = by_category.get(category, 0) + n
        by_level[level or "uncertain"] = by_level.get(level or "uncertain", 0) + n
    return {
        "totalPatterns": total,
        "byStatus": by_status,
        "byCategory": dict(sorted(by_category.items())),
        "byConfidence": by_level,
        "totalLocations": locations,
        "totalOutliers": outliers,
    }


def status_extras(stats: list[StatsRow]) -> dict[str, Any]:
    """`health`, the inputs it came from, and per-category counts by status, from the
    trigger-kept totals (no scan of the patterns table)."""
    categories: dict[str, dict[str, Any]] = {}
    approved = live = locations = outliers = 0
    confidence_sum = 0.0
    for status, category, _level, n, locs, outs, conf in stats:
        entry = categories.setdefault(
            category,
            {"total": 0, **{s.value: 0 for s in Status}, "locations": 0, "outliers": 0},
        )
        entry["total"] += n
        entry[status] = entry.get(status, 0) + n
        entry["locations"] += locs
        entry["outliers"] += outs
        if status == Status.IGNORED.value:
            continue
        live += n
        approved += n if status == Status.APPROVED.value else 0
        confidence_sum += conf
        locations += locs
        outliers += outs
    evidence = locations + outliers
    return {
        "health": health(approved, live, confidence_sum, locations, outliers),
        "healthFactors": {
            "livePatterns": live,
            "approvalRatio": round(approved / live, 4) if live else 0.0,
            "meanConfidence": round(confidence_sum / live, 4) if live else 0.0,
            "outlierRate": round(outliers / evidence, 4) if evidence else 0.0,
        },
        "categories": dict(sorted(categories.items())),
    }
