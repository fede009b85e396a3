"""Stable ids for patterns driftstore creates itself."""

from __future__ import annotations

import xxhash


def pattern_id_for(detector_id: str, pattern_key: str) -> str:
    """16 hex chars from detectorId and patternId only.

    Nothing machine-specific (no absolute path, no time) goes in, so the same pattern gets
    the same id on every machine and in every scan.
    """
    return xxhash.xxh3_64_hexdigest(f"{detector_id}\x00{pattern_key}".encode())
