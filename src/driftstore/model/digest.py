"""Fingerprints and snapshots of a pattern: what a merge compares and history stores."""

from __future__ import annotations

from typing import Any

import msgspec
import xxhash
from msgspec import UNSET

from driftstore.model.entry import to_entry
from driftstore.model.pattern import Pattern

_encode = msgspec.json.encode


def count_outliers(p: Pattern) -> int:
    """`p.outlier_count`, counted in C rather than one generator step per location."""
    return len(p.outliers) + [loc.is_outlier for loc in p.locations].count(True)


def _encoded_lists(p: Pattern) -> tuple[bytes, bytes]:
    """The location lists as JSON, encoded once for both hashes (they are most of a scan)."""
    return _encode(p.locations), _encode(p.outliers)


def _content_digest(p: Pattern, lists: tuple[bytes, bytes]) -> str:
    m = p.metadata
    head = (
        p.name,
        p.description,
        p.category,
        p.subcategory,
        p.method,
        p.detector,
        # the level a store keeps is the effective one: an entry that leaves it out and
        # the same entry read back from a store (or its shard) are the same evidence
        msgspec.structs.replace(p.confidence, level=p.confidence.effective_level),
        p.severity,
        p.auto_fixable,
        m.source,
        m.tags,
        m.version,
        m.related_patterns,
        m.custom,
        m.extras,
        p.extras,
    )
    # the bytes of one JSON array [*head, locations, outliers], fed in pieces so the
    # (large) location lists are neither re-encoded nor copied
    hasher = xxhash.xxh3_64()
    hasher.update(_encode([None if v is UNSET else v for v in head])[:-1])
    hasher.update(b",")
    hasher.update(lists[0])
    hasher.update(b",")
    hasher.update(lists[1])
    hasher.update(b"]")
    return str(hasher.hexdigest())


def _locations_digest(lists: tuple[bytes, bytes]) -> str:
    hasher = xxhash.xxh3_64()
    hasher.update(b"[")
    hasher.update(lists[0])
    hasher.update(b",")
    hasher.update(lists[1])
    hasher.update(b"]")
    return str(hasher.hexdigest())


def content_hash(p: Pattern) -> str:
    """Hash of everything a scanner owns, except last_seen (stamped on every run).

    Status, approval and first_seen are user/store data, so they are left out too: a
    re-scan that finds the same evidence is "unchanged" whatever the user decided.
    """
    return _content_digest(p, _encoded_lists(p))


def fingerprints(p: Pattern) -> tuple[str, str]:
    """(content_hash, locations hash for snapshot) from one encoding of the locations."""
    lists = _encoded_lists(p)
    return _content_digest(p, lists), _locations_digest(lists)


def snapshot(
    p: Pattern, *, locations_hash: str | None = None, counts: tuple[int, int] | None = None
) -> dict[str, Any]:
    """The pattern as history stores it: every field, locations summarised by count and hash.

    Full location lists would copy a scan into history on every change; the counts and a
    hash say whether and how much they moved. `locations_hash` (from `fingerprints`) saves
    encoding the lists again; with `counts` (locations, outliers) as well, `p` may come
    without its lists (a stored pattern's summary, `Reader.location_summaries`).
    """
    data = to_entry(msgspec.structs.replace(p, locations=[], outliers=[]))
    data.pop("locations", None)
    data.pop("outliers", None)
    if counts is None:
        counts = (p.location_count, count_outliers(p))
    data["locationCount"], data["outlierCount"] = counts
    data["locationsHash"] = (
        locations_hash if locations_hash is not None else _locations_digest(_encoded_lists(p))
    )
    return data
