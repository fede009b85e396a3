"""Pattern <-> row mapping for the patterns and pattern_locations tables.

Hot code: a scan of a million locations passes through `location_rows`, so it is written
as one flat tuple expression per location rather than helper calls.
"""

from __future__ import annotations

from typing import Any

import msgspec
from msgspec import UNSET

from driftstore.engine.damage import stored
from driftstore.model.digest import count_outliers
from driftstore.model.enums import ConfidenceLevel, Severity, Status
from driftstore.model.pattern import (
    Confidence,
    Detector,
    DetectorConfig,
    Location,
    Metadata,
    Pattern,
)

_encode = msgspec.json.encode
_decode = msgspec.json.decode

PATTERN_COLUMNS = (
    "id",
    "category",
    "subcategory",
    "name",
    "description",
    "status",
    "detection_method",
    "detector_id",
    "pattern_id",
    "confidence_frequency",
    "confidence_consistency",
    "confidence_age",
    "confidence_spread",
    "confidence_score",
    "confidence_level",
    "severity",
    "auto_fixable",
    "first_seen",
    "last_seen",
    "source",
    "tags",
    "created_at",
    "updated_at",
    "detector_type",
    "approved_at",
    "approved_by",
    "location_count",
    "outlier_count",
    "content_hash",
    "extras",
    "layout",
)
PATTERN_SELECT = ", ".join(PATTERN_COLUMNS)

LOCATION_COLUMNS = (
    "pattern_id",
    "file",
    "line",
    "column_num",
    "is_outlier",
    "confidence",
    "outlier_reason",
    "list_kind",
    "outlier_key",
    "end_line",
    "end_column",
    "deviation_score",
    "snippet",
    "original_file",
    "extras",
)
INSERT_LOCATION = (
    f"INSERT INTO pattern_locations ({', '.join(LOCATION_COLUMNS)}) "
    f"VALUES ({', '.join('?' * len(LOCATION_COLUMNS))})"
)
LOCATION_SELECT = ", ".join(LOCATION_COLUMNS[1:])


def _opt(value: Any) -> Any:
    return None if value is UNSET else value


def _json_or_none(value: Any) -> str | None:
    if value is UNSET or value is None:
        return None
    return _encode(value).decode()


def _pattern_extras(p: Pattern) -> str | None:
    """Unknown keys at every level, plus metadata keys without a column of their own."""
    parts: dict[str, Any] = {}
    if p.extras is not UNSET and p.extras:
        parts["entry"] = p.extras
    if p.detector.extras is not UNSET and p.detector.extras:
        parts["detector"] = p.detector.extras
    if p.detector.config.extras is not UNSET and p.detector.config.extras:
        parts["config"] = p.detector.config.extras
    if p.confidence.extras is not UNSET and p.confidence.extras:
        parts["confidence"] = p.confidence.extras
    meta = p.metadata
    kept: dict[str, Any] = {}
    if meta.version is not UNSET:
        kept["version"] = meta.version
    if meta.related_patterns is not UNSET:
        kept["relatedPatterns"] = meta.related_patterns
    if meta.custom is not UNSET:
        kept["custom"] = meta.custom
    if meta.extras is not UNSET and meta.extras:
        kept.update(meta.extras)
    if kept:
        parts["metadata"] = kept
    return _encode(parts).decode() if parts else None


def pattern_row(
    p: Pattern,
    *,
    content_hash: str | None,
    created_at: str,
    updated_at: str,
    layout: str | None = None,
) -> tuple[Any, ...]:
    c = p.confidence
    meta = p.metadata
    return (
        p.id,
        p.category,
        p.subcategory,
        p.name,
        p.description,
        p.status.value,
        p.method,
        p.detector.config.detector_id,
        p.detector.config.pattern_id,
        _opt(c.frequency),
        _opt(c.consistency),
        _opt(c.age),
        _opt(c.spread),
        c.score,
        c.effective_level.value,
        p.severity.value,
        1 if p.auto_fixable else 0,
        _opt(meta.first_seen),
        _opt(meta.last_seen),
        _opt(meta.source),
        _json_or_none(meta.tags),
        created_at,
        updated_at,
        p.detector.type,
        _opt(meta.approved_at),
        _opt(meta.approved_by),
        len(p.locations),
        count_outliers(p),
        content_hash,
        _pattern_extras(p),
        layout,
    )


def location_rows(p: Pattern) -> list[tuple[Any, ...]]:
    """Rows for `locations` (list_kind 0) then `outliers` (list_kind 1), in list order.

    Each value is bound in the type SQLite stores it in, because `engine.integrity` hashes
    these very tuples: floats pass through `+ 0.0` (an int becomes a float, and -0.0,
    which SQLite stores as 0.0, becomes 0.0).

    One comprehension per list, with the list kind folded in, because this runs once per
    location of a scan; `_location_extras` is only called when a location has something
    for the extras column.
    """
    pid = p.id
    unset = UNSET
    extras = _location_extras
    rows = [
        (
            pid,
            loc.file,
            loc.line,
            loc.column,
            1 if loc.is_outlier is True else 0,
            None if loc.confidence is unset else loc.confidence + 0.0,
            None if loc.outlier_reason is unset else loc.outlier_reason,
            0,
            None if loc.is_outlier is unset else (1 if loc.is_outlier else 0),
            None if loc.end_line is unset else loc.end_line,
            None if loc.end_column is unset else loc.end_column,
            None if loc.deviation_score is unset else loc.deviation_score + 0.0,
            None if loc.snippet is unset else loc.snippet,
            None if loc.original_file is unset else loc.original_file,
            None if loc.extras is unset and loc.reason is unset else extras(loc, 0),
        )
        for loc in p.locations
    ]
    if p.outliers:
        rows += [
            (
                pid,
                loc.file,
                loc.line,
                loc.column,
                1,
                None if loc.confidence is unset else loc.confidence + 0.0,
                None if loc.reason is unset else loc.reason,
                1,
                None if loc.is_outlier is unset else (1 if loc.is_outlier else 0),
                None if loc.end_line is unset else loc.end_line,
                None if loc.end_column is unset else loc.end_column,
                None if loc.deviation_score is unset else loc.deviation_score + 0.0,
                None if loc.snippet is unset else loc.snippet,
                None if loc.original_file is unset else loc.original_file,
                None if loc.extras is unset and loc.outlier_reason is unset else extras(loc, 1),
            )
            for loc in p.outliers
        ]
    return rows


def _location_extras(loc: Location, kind: int) -> str | None:
    """Keys that have no column: unknown keys, and a reason under the other list's name."""
    extra: dict[str, Any] = {}
    if loc.extras is not UNSET and loc.extras:
        extra.update(loc.extras)
    # outlier_reason holds `outlierReason` for list 0 and `reason` for list 1; the other
    # spelling, if a file used it, goes here so it is not lost
    if kind == 0 and loc.reason is not UNSET:
        extra["reason"] = loc.reason
    if kind == 1 and loc.outlier_reason is not UNSET:
        extra["outlierReason"] = loc.outlier_reason
    return _encode(extra).decode() if extra else None


def row_to_location(row: tuple[Any, ...]) -> tuple[int, Location]:
    """A row selected with LOCATION_SELECT -> (list_kind, Location)."""
    (
        file,
        line,
        column,
        _is_outlier,
        confidence,
        reason,
        kind,
        outlier_key,
        end_line,
        end_column,
        deviation,
        snippet,
        original_file,
        extras,
    ) = row
    loc = Location(file=file, line=line, column=column)
    if outlier_key is not None:
        loc.is_outlier = bool(outlier_key)
    if confidence is not None:
        loc.confidence = confidence
    if reason is not None:
        if kind:
            loc.reason = reason
        else:
            loc.outlier_reason = reason
    if end_line is not None:
        loc.end_line = end_line
    if end_column is not None:
        loc.end_column = end_column
    if deviation is not None:
        loc.deviation_score = deviation
    if snippet is not None:
        loc.snippet = snippet
    if original_file is not None:
        loc.original_file = original_file
    if extras:
        extra = _decode(extras)
        if "reason" in extra and not kind:
            loc.reason = extra.pop("reason")
        if "outlierReason" in extra and kind:
            loc.outlier_reason = extra.pop("outlierReason")
        if extra:
            loc.extras = extra
    return kind, loc


def row_to_pattern(row: tuple[Any, ...], locations: list[tuple[int, Location]] | None) -> Pattern:
    """A row selected with PATTERN_SELECT (+ its locations) -> Pattern."""
    r = dict(zip(PATTERN_COLUMNS, row, strict=True))
    extras = _decode(r["extras"]) if r["extras"] else {}
    config = DetectorConfig(detector_id=r["detector_id"], pattern_id=r["pattern_id"])
    if "config" in extras:
        config.extras = extras["config"]
    detector = Detector(type=r["detector_type"] or r["detection_method"], config=config)
    if "detector" in extras:
        detector.extras = extras["detector"]
    confidence = Confidence(score=r["confidence_score"])
    for field, column in (
        ("frequency", "confidence_frequency"),
        ("consistency", "confidence_consistency"),
        ("age", "confidence_age"),
        ("spread", "confidence_spread"),
    ):
        if r[column] is not None:
            setattr(confidence, field, r[column])
    if r["confidence_level"]:
        confidence.level = stored(ConfidenceLevel, r["confidence_level"])
    if "confidence" in extras:
        confidence.extras = extras["confidence"]
    meta = Metadata()
    for field, column in (
        ("first_seen", "first_seen"),
        ("last_seen", "last_seen"),
        ("source", "source"),
        ("approved_at", "approved_at"),
        ("approved_by", "approved_by"),
    ):
        if r[column] is not None:
            setattr(meta, field, r[column])
    if r["tags"] is not None:
        meta.tags = _decode(r["tags"])
    meta_extra = dict(extras.get("metadata", {}))
    if "version" in meta_extra:
        meta.version = meta_extra.pop("version")
    if "relatedPatterns" in meta_extra:
        meta.related_patterns = meta_extra.pop("relatedPatterns")
    if "custom" in meta_extra:
        meta.custom = meta_extra.pop("custom")
    if meta_extra:
        meta.extras = meta_extra
    p = Pattern(
        id=r["id"],
        name=r["name"],
        category=r["category"],
        subcategory=r["subcategory"],
        description=r["description"] or "",
        status=stored(Status, r["status"]),
        detection_method=r["detection_method"],
        detector=detector,
        confidence=confidence,
        confidence_level=confidence.effective_level,
        metadata=meta,
        severity=stored(Severity, r["severity"] or "info"),
        auto_fixable=bool(r["auto_fixable"]),
    )
    if "entry" in extras:
        p.extras = extras["entry"]
    if locations is not None:
        p.locations = [loc for kind, loc in locations if kind == 0]
        p.outliers = [loc for kind, loc in locations if kind == 1]
    return p


def as_stored(p: Pattern) -> Pattern:
    """The pattern exactly as a store gives it back after writing it (what an export of it
    renders): every value through the row mapping and back."""
    row = pattern_row(p, content_hash=None, created_at="", updated_at="")
    locations = [row_to_location(r[1:]) for r in location_rows(p)]
    return row_to_pattern(row, locations)
