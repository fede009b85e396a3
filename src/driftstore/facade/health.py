"""The summary behind `status`: totals by status, category and confidence level, the
health score, and per-category counts, all from the engine's running totals."""

from __future__ import annotations

from driftstore.engine.base import StatsRow
from driftstore.facade.results import CategoryCounts, HealthFactors, StatusReport
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


def status_report(stats: list[StatsRow], generation: int) -> StatusReport:
    """The status summary from the running totals (no scan of the patterns table)."""
    by_status = {s.value: 0 for s in Status}
    by_level = {"high": 0, "medium": 0, "low": 0, "uncertain": 0}
    by_category: dict[str, int] = {}
    categories: dict[str, CategoryCounts] = {}
    total = locations = outliers = 0
    approved = live = live_locations = live_outliers = 0
    confidence_sum = 0.0
    for status, category, level, n, locs, outs, conf in stats:
        locs, outs = locs or 0, outs or 0
        total += n
        locations += locs
        outliers += outs
        by_status[status] = by_status.get(status, 0) + n
        by_category[category] = by_category.get(category, 0) + n
        by_level[level or "uncertain"] = by_level.get(level or "uncertain", 0) + n
        counts = categories.setdefault(category, CategoryCounts())
        counts.total += n
        if status in ("discovered", "approved", "ignored"):
            setattr(counts, status, getattr(counts, status) + n)
        counts.locations += locs
        counts.outliers += outs
        if status == Status.IGNORED.value:
            continue
        live += n
        approved += n if status == Status.APPROVED.value else 0
        confidence_sum += conf
        live_locations += locs
        live_outliers += outs
    evidence = live_locations + live_outliers
    return StatusReport(
        total_patterns=total,
        by_status=by_status,
        by_category=dict(sorted(by_category.items())),
        by_confidence=by_level,
        total_locations=locations,
        total_outliers=outliers,
        health=health(approved, live, confidence_sum, live_locations, live_outliers),
        health_factors=HealthFactors(
            live_patterns=live,
            approval_ratio=round(approved / live, 4) if live else 0.0,
            mean_confidence=round(confidence_sum / live, 4) if live else 0.0,
            outlier_rate=round(live_outliers / evidence, 4) if evidence else 0.0,
        ),
        categories=dict(sorted(categories.items())),
        generation=generation,
    )
