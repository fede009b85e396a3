"""Fingerprints and snapshots of a pattern: what a merge compares and history stores."""

from __future__ import annotations

from typing import Any

import msgspec
import xxhash
from msgspec import UNSET

from driftstore.model.entry import to_entry
from driftstore.model.pattern import Pattern

_encode = msgspec.json.encode


def content_hash(p: Pattern) -> str:
    """Hash of everything a scanner owns, except last_seen (stamped on every run).

    Status, approval and first_seen are user/store data, so they are left out too: a
    re-scan that finds the same evidence is "unchanged" whatever the user decided.
    """
    m = p.metadata
    payload = (
        p.name,
        p.description,
        p.category,
        p.subcategory,
        p.method,
        p.detector,
        p.confidence,
        p.severity,
        p.auto_fixable,
        m.source,
        m.tags,
        m.version,
        m.related_patterns,
        m.custom,
        m.extras,
        p.extras,
        p.locations,
        p.outliers,
    )
    return xxhash.xxh3_64_hexdigest(_encode([None if v is UNSET else v for v in payload]))


def snapshot(p: Pattern) -> dict[str, Any]:
    """The pattern as history stores it: every field, locations summarised by count and hash.

    Full location lists would copy a scan into history on every change; the counts and a
    hash say whether and how much they moved.
    """
    data = to_entry(p)
    data.pop("locations", None)
    data.pop("outliers", None)
    data["locationCount"] = p.location_count
    data["outlierCount"] = p.outlier_count
    data["locationsHash"] = xxhash.xxh3_64_hexdigest(_encode((p.locations, p.outliers)))
    return data
