"""Stable identities for outliers: which outlier of a new scan is "the same" as one seen before.

A line number alone is no identity: adding a line at the top of a file would make every
outlier below it look new (and its old self look fixed). The identity is built from what
the outlier *is* rather than where it sits, with its position only breaking ties.

Version 1 (`OUTLIER_IDENTITY`, the SARIF fingerprint key `driftstoreOutlier/v1`):

    xxh3-64 hex of  "v1" NUL pattern id NUL path NUL anchor NUL occurrence

- path: the normalised project-relative path (`src/api/x.ts`);
- anchor: the outlier's snippet with all whitespace runs collapsed to one space and trimmed,
  when the scan gave one; otherwise its reason, its column and its span in lines
  (`reason|col 4|span 0`): what the scanner said about the code there, which does not move
  when unrelated lines are added or removed above it;
- occurrence: 0 for the first outlier of that pattern, file and anchor in line order, 1 for
  the next...: two identical outliers in one file stay two, and the line number is used
  only for this ordering.

So an outlier keeps its identity when lines elsewhere in its file move; it gets a new one
when its snippet (or reason, column or span) changes, or when a same-looking outlier is
added above it in the same file. A later version may anchor on the source text around the
outlier; ids carry their version so both can coexist.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import NamedTuple

import xxhash

#: the identity scheme this code computes, and the key it uses in SARIF partialFingerprints
OUTLIER_IDENTITY = "v1"
FINGERPRINT_KEY = f"driftstoreOutlier/{OUTLIER_IDENTITY}"

_SPACE = re.compile(r"\s+")


class OutlierMark(NamedTuple):
    """What the identity of one outlier is made from."""

    line: int
    column: int
    snippet: str | None
    reason: str | None
    end_line: int | None


def anchor_of(mark: OutlierMark) -> str:
    if mark.snippet is not None and mark.snippet.strip():
        return _SPACE.sub(" ", mark.snippet).strip()
    span = 0 if mark.end_line is None else max(0, mark.end_line - mark.line)
    return f"{mark.reason or ''}|col {mark.column}|span {span}"


def outlier_ids(pattern_id: str, path: str, marks: Sequence[OutlierMark]) -> list[str]:
    """The identities of one pattern's outliers in one file, in the order given."""
    order = sorted(range(len(marks)), key=lambda i: (marks[i].line, marks[i].column, i))
    seen: dict[str, int] = {}
    ids = [""] * len(marks)
    for i in order:
        anchor = anchor_of(marks[i])
        occurrence = seen.get(anchor, 0)
        seen[anchor] = occurrence + 1
        ids[i] = identity(pattern_id, path, anchor, occurrence)
    return ids


def identity(pattern_id: str, path: str, anchor: str, occurrence: int) -> str:
    text = "\0".join((OUTLIER_IDENTITY, pattern_id, path, anchor, str(occurrence)))
    return str(xxhash.xxh3_64_hexdigest(text.encode("utf-8", "surrogatepass")))


def group_ids(pattern_id: str, items: Iterable[tuple[str, OutlierMark]]) -> list[str]:
    """Identities of one pattern's outliers given as (path, mark) in any order."""
    listed = list(items)
    by_path: dict[str, list[int]] = {}
    for i, (path, _mark) in enumerate(listed):
        by_path.setdefault(path, []).append(i)
    ids = [""] * len(listed)
    for path, positions in by_path.items():
        for pos, found in zip(
            positions, outlier_ids(pattern_id, path, [listed[i][1] for i in positions]), strict=True
        ):
            ids[pos] = found
    return ids
