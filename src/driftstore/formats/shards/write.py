"""Writing v2 shards (the layout is in `shards.layout`): entries from patterns, their
checksum, and the file's bytes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import msgspec
from msgspec import UNSET

from driftstore.formats.canonical import (
    canonical_encode,
    canonical_fast,
    es_float,
    es_ready,
    has_astral,
    pretty_es,
)
from driftstore.formats.checksum import V2_ALGORITHM, v2_checksum_of_array, v2_checksum_of_parts
from driftstore.formats.shards.layout import V2_VERSION, status_counts
from driftstore.model.pattern import (
    Confidence,
    Detector,
    Location,
    Metadata,
    Pattern,
)
from driftstore.model.records import Example, Variant


# --- writing ---------------------------------------------------------------------------
def _needs_es(value: float) -> bool:
    return value.is_integer() or -1e-5 < value < 1e-5 or not -1e21 < value < 1e21


def location_out(loc: Location, *, legacy_file: bool = False) -> Location | dict[str, Any]:
    """A location ready for msgspec: ES-safe numbers, unknown keys flattened in place.

    Most locations pass through untouched (msgspec encodes the struct itself, omitting
    absent keys); only one with unknown keys becomes a dict. `legacy_file` writes the
    path as the input spelled it (drift 0.9 files), else the normalised path plus
    `originalFile`.
    """
    if loc.extras is not UNSET and loc.extras:
        data: dict[str, Any] = msgspec.to_builtins(msgspec.structs.replace(loc, extras=UNSET))
        if legacy_file and "originalFile" in data:
            data["file"] = data.pop("originalFile")
        for key, value in loc.extras.items():
            data.setdefault(key, value)
        return es_ready(data)  # type: ignore[no-any-return]
    c, d = loc.confidence, loc.deviation_score
    fix_c = c is not UNSET and isinstance(c, float) and _needs_es(c)
    fix_d = d is not UNSET and isinstance(d, float) and _needs_es(d)
    swap = legacy_file and loc.original_file is not UNSET
    if fix_c or fix_d or swap:
        loc = msgspec.structs.replace(
            loc,
            confidence=es_float(c) if fix_c else c,  # type: ignore[arg-type]
            deviation_score=es_float(d) if fix_d else d,  # type: ignore[arg-type]
            file=loc.original_file if swap else loc.file,
            original_file=UNSET if swap else loc.original_file,
        )
    return loc


def _with_extras(data: dict[str, Any], extras: Any) -> dict[str, Any]:
    if extras is not UNSET and extras:
        for key, value in extras.items():
            data.setdefault(key, es_ready(value))
    return data


def _set(data: dict[str, Any], key: str, value: Any) -> None:
    if value is not UNSET:
        data[key] = es_ready(value)


def detector_out(det: Detector) -> dict[str, Any]:
    config = _with_extras(
        {"detectorId": det.config.detector_id, "patternId": det.config.pattern_id},
        det.config.extras,
    )
    return _with_extras({"type": det.type, "config": config}, det.extras)


def confidence_out(c: Confidence) -> dict[str, Any]:
    data: dict[str, Any] = {}
    _set(data, "frequency", c.frequency)
    _set(data, "consistency", c.consistency)
    _set(data, "age", c.age)
    _set(data, "spread", c.spread)
    data["score"] = es_ready(c.score)
    _set(data, "level", c.level)
    return _with_extras(data, c.extras)


def metadata_out(m: Metadata) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for key, value in (
        ("firstSeen", m.first_seen),
        ("lastSeen", m.last_seen),
        ("source", m.source),
        ("tags", m.tags),
        ("approvedAt", m.approved_at),
        ("approvedBy", m.approved_by),
        ("version", m.version),
        ("relatedPatterns", m.related_patterns),
        ("custom", m.custom),
    ):
        _set(data, key, value)
    return _with_extras(data, m.extras)


def variant_out(v: Variant) -> dict[str, Any]:
    data: dict[str, Any] = {"scope": v.scope.value}
    for key, value in (
        ("scopePath", v.scope_path),
        ("severityOverride", v.severity_override),
        ("enabledOverride", v.enabled_override),
        ("thresholdOverride", v.threshold_override),
        ("configOverride", v.config_override),
        ("expiresAt", v.expires_at),
        ("createdAt", v.created_at),
    ):
        if value is not None:
            data[key] = es_ready(value)
    return data


def example_out(e: Example) -> dict[str, Any]:
    data: dict[str, Any] = {"file": e.file, "code": e.code}
    if e.line_start is not None:
        data["lineStart"] = e.line_start
    if e.line_end is not None:
        data["lineEnd"] = e.line_end
    data["isPositive"] = e.is_positive
    if e.language is not None:
        data["language"] = e.language
    if e.created_at is not None:
        data["createdAt"] = e.created_at
    return data


def v2_entry(
    p: Pattern,
    variants: list[Variant] | None = None,
    examples: list[Example] | None = None,
    *,
    ready: tuple[list[Any], list[Any]] | None = None,
) -> dict[str, Any]:
    """The v2 entry of a pattern, ready for msgspec (see the module docstring for order).

    `ready` gives (locations, outliers) already in written form (`export_lists`), in
    place of `p.locations` and `p.outliers`.
    """
    locations, outliers = (
        ready
        if ready is not None
        else ([location_out(loc) for loc in p.locations], [location_out(loc) for loc in p.outliers])
    )
    entry: dict[str, Any] = {
        "id": p.id,
        "subcategory": p.subcategory,
        "name": p.name,
        "description": p.description,
        "status": p.status.value,
        "detectionMethod": p.method,
        "detector": detector_out(p.detector),
        "confidence": confidence_out(p.confidence),
        "confidenceLevel": p.level.value,
        "locations": locations,
        "outliers": outliers,
        "metadata": metadata_out(p.metadata),
        "severity": p.severity.value,
        "autoFixable": p.auto_fixable,
    }
    if variants:
        entry["variants"] = [variant_out(v) for v in variants]
    if examples:
        entry["examples"] = [example_out(e) for e in examples]
    return _with_extras(entry, p.extras)


def entries_checksum(entries: list[dict[str, Any]]) -> str:
    """The v2 checksum of entries whose floats are ES-safe: one canonical encoding of the
    whole array, or one per entry when a key could sort differently in UTF-16."""
    whole = canonical_encode(entries)
    if not has_astral(whole):
        return v2_checksum_of_array(whole)
    return v2_checksum_of_parts(canonical_fast(entry) for entry in entries)


def encode_v2_shard(
    category: str, entries: list[dict[str, Any]], *, last_updated: str, checksum: str
) -> bytes:
    document = {
        "version": V2_VERSION,
        "category": category,
        "patterns": entries,
        "lastUpdated": last_updated,
        "checksum": checksum,
        "patternCount": len(entries),
        "statusCounts": status_counts([e["status"] for e in entries]),
        "checksumAlgorithm": V2_ALGORITHM,
    }
    return pretty_es(document, final_newline=True)


def shard_path(patterns_dir: Path, category: str) -> Path:
    return patterns_dir / f"{category}.json"
