"""driftstore's own v2 shard files: `.drift/patterns/{category}.json` (formats.md §2).

Top-level keys, in this order (the seed's PatternFile, plus the checksum rule at the end
so a reader that knows only the seed's shape still finds its keys first):
`version` "2.0.0", `category`, `patterns`, `lastUpdated`, `checksum`, `patternCount`,
`statusCounts` {discovered, approved, ignored}, `checksumAlgorithm` "xxh3-64/jcs".

Entry keys, in this order: `id, subcategory, name, description, status, detectionMethod,
detector, confidence, confidenceLevel, locations, outliers, metadata, severity,
autoFixable`, then `variants` and `examples` when the pattern has any, then unknown keys
kept from the input. Patterns are sorted by id; locations keep their stored order. Files
are 2-space indented with a final newline; numbers are written the ECMAScript way, so
the bytes depend only on the content.
"""

from __future__ import annotations

from driftstore.model.enums import Status

V2_VERSION = "2.0.0"
STATUS_KEYS = tuple(s.value for s in Status)


def status_counts(statuses: list[str]) -> dict[str, int]:
    counts = dict.fromkeys(STATUS_KEYS, 0)
    for status in statuses:
        counts[status] = counts.get(status, 0) + 1
    return counts
