"""drift 0.9 files written back: legacy entries rendered from the model and its layout.

The layout (see `formats.legacy`) says how an entry looked when it was migrated; without
one an entry gets the A shape drift 0.9 writes today. Files are JSON.stringify(file,
null, 2) with the legacy checksum, so drift 0.9 reads them as its own.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import xxhash
from msgspec import UNSET

from driftstore.formats.canonical import compact_es, es_ready, pretty_es
from driftstore.formats.checksum import legacy_checksum_of_bytes
from driftstore.formats.legacy import (
    B_META_KEYS,
    FILE_KEYS,
    LEGACY_VERSION,
    LOC_FIELDS,
    META_FIELDS,
    plain_json,
)
from driftstore.formats.shards import location_out
from driftstore.model.pattern import Confidence, Detector, Location, Metadata, Pattern

A_KEYS = (
    "id",
    "subcategory",
    "name",
    "description",
    "detector",
    "confidence",
    "locations",
    "outliers",
    "metadata",
    "severity",
    "autoFixable",
)
CONFIDENCE_KEYS = ("frequency", "consistency", "age", "spread", "score", "level")
_LOC_RANK = {key: rank for rank, key in enumerate(LOC_FIELDS)}
_MISSING: Any = object()
_NO_VALUE = "-"  # patch "from" when the model renders nothing for the key


def _hash(value: Any) -> str:
    if value is _MISSING:
        return _NO_VALUE
    return str(xxhash.xxh3_64_hexdigest(compact_es(value)))


def _extras_of(obj: Any) -> dict[str, Any]:
    extras = obj.extras
    return extras if extras is not UNSET and extras else {}


def _ordered(
    order: Sequence[str] | None,
    default: Sequence[str],
    value_of: Any,
    extras: dict[str, Any],
    *,
    append_known: bool = True,
) -> dict[str, Any]:
    """Keys in `order` (or `default`), then present known keys, then unknown keys."""
    out: dict[str, Any] = {}
    for key in order if order is not None else default:
        value = extras[key] if key in extras else value_of(key)
        if value is not _MISSING:
            out[key] = es_ready(value)
    if append_known or order is None:
        for key in default:
            if key not in out and key not in extras:
                value = value_of(key)
                if value is not _MISSING:
                    out[key] = es_ready(value)
    for key, value in extras.items():
        out.setdefault(key, es_ready(value))
    return out


def _field(obj: Any, name: str) -> Any:
    value = getattr(obj, name)
    return _MISSING if value is UNSET else value


def _render_detector(det: Detector, layout: dict[str, Any]) -> dict[str, Any]:
    config = det.config

    def config_value(key: str) -> Any:
        if key == "detectorId":
            return config.detector_id
        if key == "patternId":
            return config.pattern_id
        return _MISSING

    # detectorId/patternId are synthesised for entries that had none: a file's own key
    # list, when there is one, says which to write
    rendered_config = _ordered(
        layout.get("config"),
        ("detectorId", "patternId"),
        config_value,
        _extras_of(config),
        append_known=False,
    )

    def value(key: str) -> Any:
        if key == "type":
            return det.type
        if key == "config":
            return rendered_config
        return _MISSING

    return _ordered(
        layout.get("detector"), ("type", "config"), value, _extras_of(det), append_known=False
    )


def _render_confidence(c: Confidence, layout: dict[str, Any]) -> dict[str, Any]:
    def value(key: str) -> Any:
        return _field(c, key) if key in CONFIDENCE_KEYS else _MISSING

    # the store always knows a level; a file that had none gets none back
    return _ordered(
        layout.get("confidence"), CONFIDENCE_KEYS, value, _extras_of(c), append_known=False
    )


def _render_metadata(m: Metadata, layout: dict[str, Any]) -> dict[str, Any]:
    def value(key: str) -> Any:
        name = META_FIELDS.get(key)
        return _field(m, name) if name else _MISSING

    return _ordered(layout.get("metadata"), tuple(META_FIELDS), value, _extras_of(m))


def _struct_order_fits(order: Sequence[str] | None) -> bool:
    if order is None:
        return True
    ranks = [_LOC_RANK.get(key, -1) for key in order]
    return -1 not in ranks and ranks == sorted(ranks)


def _render_locations(items: list[Location], order: Sequence[str] | None) -> list[Any]:
    fast = _struct_order_fits(order)
    out: list[Any] = []
    for loc in items:
        if fast and (loc.extras is UNSET or not loc.extras):
            out.append(location_out(loc, legacy_file=True))
            continue
        extras = _extras_of(loc)

        def value(key: str, loc: Location = loc) -> Any:
            if key == "file":
                return loc.original_file if loc.original_file is not UNSET else loc.file
            name = LOC_FIELDS.get(key)
            return _field(loc, name) if name else _MISSING

        out.append(_ordered(order, tuple(LOC_FIELDS), value, extras))
    return out


def render_entry(p: Pattern, layout: dict[str, Any] | None) -> dict[str, Any]:
    """The legacy entry for `p`: as it came when `layout` is its migration record, else the
    A shape drift 0.9 writes today. Values are ES-safe, ready for msgspec."""
    layout = layout or {}
    shape = layout.get("shape", "A")
    extras = _extras_of(p)

    def value(key: str) -> Any:
        if key in extras:
            return extras[key]
        if key in ("id", "subcategory", "name", "description", "severity"):
            return getattr(p, key)
        if key == "category":
            return p.category
        if key == "status":
            return p.status.value
        if key == "autoFixable":
            return p.auto_fixable
        if key == "detector":
            return _render_detector(p.detector, layout)
        if key == "confidence":
            if shape == "B":
                return p.confidence.score
            return _render_confidence(p.confidence, layout)
        if key == "confidenceLevel":
            return p.level.value
        if key == "detectorId":
            return p.detector.config.detector_id
        if key == "detectionMethod":
            return p.method
        if key == "locations":
            return _render_locations(p.locations, layout.get("loc"))
        if key == "outliers":
            return _render_locations(p.outliers, layout.get("out"))
        if key == "metadata":
            return _render_metadata(p.metadata, layout)
        if shape == "B" and key in B_META_KEYS:
            return _field(p.metadata, META_FIELDS[key])
        return _MISSING

    patch: dict[str, list[Any]] = layout.get("patch", {})
    out: dict[str, Any] = {}
    keys = layout.get("keys", A_KEYS)
    for key in keys:
        rendered = value(key)
        fix = patch.get(key)
        if fix is not None and _hash(rendered) == fix[0]:
            out[key] = es_ready(fix[1])
        elif rendered is not _MISSING:
            out[key] = es_ready(rendered) if key not in ("locations", "outliers") else rendered
    for key, extra in extras.items():
        out.setdefault(key, es_ready(extra))
    return out


def patch_for(rendered: dict[str, Any], original_es: dict[str, Any]) -> dict[str, list[Any]]:
    """Where the render of the stored pattern differs from the file: the original values."""
    patch: dict[str, list[Any]] = {}
    for key, original in original_es.items():
        have = rendered.get(key, _MISSING)
        if have is _MISSING or compact_es(have) != compact_es(original):
            patch[key] = [_hash(have), plain_json(original)]
    return patch


def render_order_key(p: Pattern, layout: dict[str, Any] | None) -> tuple[int, int, str]:
    """Sort key for a file: migrated entries in their old order, then the rest by id."""
    pos = (layout or {}).get("pos")
    return (0, pos, p.id) if isinstance(pos, int) else (1, 0, p.id)


def encode_legacy_file(
    category: str,
    entries: list[dict[str, Any]],
    *,
    last_updated: str,
    checksum: str,
    file_layout: dict[str, Any] | None,
) -> bytes:
    """A status file as drift 0.9 writes it: JSON.stringify(file, null, 2), no newline."""
    values: dict[str, Any] = {"version": LEGACY_VERSION, "category": category}
    keys: list[str] = list(FILE_KEYS)
    if file_layout:
        values.update(file_layout.get("values", {}))
        keys = list(file_layout.get("keys", FILE_KEYS))
    values.update(patterns=entries, lastUpdated=last_updated, checksum=checksum)
    doc = {key: values[key] for key in keys if key in values}
    for key in FILE_KEYS:
        doc.setdefault(key, values[key])
    return pretty_es(es_ready_top(doc), final_newline=False)


def es_ready_top(doc: dict[str, Any]) -> dict[str, Any]:
    """ES-safe top-level values, leaving the (already safe) patterns list alone."""
    return {k: v if k == "patterns" else es_ready(v) for k, v in doc.items()}


def entries_checksum(entries: list[dict[str, Any]]) -> str:
    return legacy_checksum_of_bytes(compact_es(entries))
