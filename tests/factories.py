"""Building patterns for tests without repeating the whole record each time."""

from __future__ import annotations

from typing import Any

from driftstore import (
    Confidence,
    Detector,
    DetectorConfig,
    Location,
    Metadata,
    Pattern,
    Severity,
)


def make_pattern(
    pid: str = "p1",
    *,
    category: str = "api",
    subcategory: str = "routes",
    name: str | None = None,
    description: str = "",
    score: float = 0.9,
    severity: Severity = Severity.INFO,
    files: list[str] | None = None,
    outlier_files: list[str] | None = None,
    tags: list[str] | None = None,
    first_seen: str = "2026-05-01T12:00:00.000Z",
    last_seen: str = "2026-05-01T12:00:00.000Z",
    **extra: Any,
) -> Pattern:
    metadata = Metadata(first_seen=first_seen, last_seen=last_seen, source="auto-detected")
    if tags is not None:
        metadata.tags = tags
    return Pattern(
        id=pid,
        name=name or f"Pattern {pid}",
        category=category,
        subcategory=subcategory,
        description=description,
        detector=Detector(
            type="regex",
            config=DetectorConfig(detector_id=f"{category}/{subcategory}", pattern_id=pid),
        ),
        confidence=Confidence(score=score, frequency=0.5, consistency=0.9, age=0, spread=1),
        locations=[Location(file=f, line=i + 1, column=1) for i, f in enumerate(files or [])],
        outliers=[
            Location(file=f, line=i + 100, column=2, reason="breaks it", deviation_score=0.5)
            for i, f in enumerate(outlier_files or [])
        ],
        metadata=metadata,
        severity=severity,
        **extra,
    )


def entry(pid: str = "p1", **kwargs: Any) -> dict[str, Any]:
    """A scan entry (v2 shape) as plain JSON data."""
    from driftstore.model.entry import to_entry

    return to_entry(make_pattern(pid, **kwargs))
