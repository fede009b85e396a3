"""The three checksum rules of formats.md, each 16 lower-case hex characters.

- v2 (driftstore's shards): xxh3_64 of the RFC 8785 canonical JSON of `patterns`.
- legacy (drift 0.9 status files and lake shards): sha256 of JSON.stringify(patterns),
  keys in file order, ECMAScript numbers, first 16 hex characters.
- unified (drift's later "2.0.0" shards): sha256 of JSON.stringify(sorted ids)[:16].
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from typing import Any

import xxhash

from driftstore.formats.canonical import canonical_fast, compact_es, es_ready

V2_ALGORITHM = "xxh3-64/jcs"
LEGACY_ALGORITHM = "sha256/json-stringify"


def v2_checksum_of_parts(canonical_entries: Iterable[bytes]) -> str:
    """Checksum from each entry's canonical JSON (streamed, so no whole-array copy)."""
    digest = xxhash.xxh3_64()
    digest.update(b"[")
    for index, part in enumerate(canonical_entries):
        if index:
            digest.update(b",")
        digest.update(part)
    digest.update(b"]")
    return str(digest.hexdigest())


def v2_checksum_of_array(canonical_array: bytes) -> str:
    """Checksum from the canonical JSON of the whole `patterns` array."""
    return str(xxhash.xxh3_64_hexdigest(canonical_array))


def v2_checksum(patterns: list[Any]) -> str:
    """Checksum of plain JSON data (floats are made ES-safe here)."""
    return v2_checksum_of_parts(canonical_fast(es_ready(entry)) for entry in patterns)


def legacy_checksum_of_bytes(stringified: bytes) -> str:
    return hashlib.sha256(stringified).hexdigest()[:16]


def legacy_checksum(patterns: list[Any]) -> str:
    """drift 0.9's rule over data whose key order is the file's (floats made ES-safe here)."""
    return legacy_checksum_of_bytes(compact_es(es_ready(patterns)))


def unified_checksum(ids: Iterable[str]) -> str:
    """drift's unified-shard rule: the sorted pattern ids only.

    JavaScript's default sort compares UTF-16 code units, so the ids are sorted that way.
    """
    ordered = sorted(ids, key=lambda text: text.encode("utf-16-be", "surrogatepass"))
    return legacy_checksum_of_bytes(compact_es(ordered))
