"""What a caller can ask of the store, and what comes back.

Filter fields are ANDed together; inside one list field the values are ORed. `None` means
"no constraint"; an empty list means "match nothing" (any-of the empty set), so a caller
that builds a list from a selection gets no results for an empty selection rather than
all of them.
"""

from __future__ import annotations

from enum import StrEnum

from msgspec import Struct

from driftstore.model.enums import ConfidenceLevel, Severity, Status


class SortField(StrEnum):
    ID = "id"
    NAME = "name"
    CATEGORY = "category"
    STATUS = "status"
    CONFIDENCE = "confidence"
    SEVERITY = "severity"
    FIRST_SEEN = "firstSeen"
    LAST_SEEN = "lastSeen"
    LOCATION_COUNT = "locationCount"
    OUTLIER_COUNT = "outlierCount"


class PatternFilter(Struct, kw_only=True):
    ids: list[str] | None = None
    categories: list[str] | None = None
    statuses: list[Status] | None = None
    severities: list[Severity] | None = None
    levels: list[ConfidenceLevel] | None = None
    #: patterns with a location or an outlier in any of these files
    files: list[str] | None = None
    min_confidence: float | None = None
    max_confidence: float | None = None
    has_outliers: bool | None = None
    tags_any: list[str] | None = None
    tags_all: list[str] | None = None
    #: case-insensitive substring of name or description
    search: str | None = None
    first_seen_after: str | None = None
    first_seen_before: str | None = None
    last_seen_after: str | None = None
    last_seen_before: str | None = None


class Sort(Struct, frozen=True):
    field: SortField = SortField.ID
    descending: bool = False


class PatternSummary(Struct, rename="camel", kw_only=True):
    """One row of a listing: what `list --json` prints per pattern."""

    id: str
    name: str
    category: str
    subcategory: str
    status: Status
    confidence: float
    confidence_level: str
    severity: Severity
    location_count: int
    outlier_count: int
    description: str = ""
    tags: list[str] = []
    first_seen: str | None = None
    last_seen: str | None = None


class QueryResult(Struct, rename="camel", kw_only=True):
    patterns: list[PatternSummary]
    total: int
    has_more: bool
    #: pass back as `cursor=` to get the next page without OFFSET cost
    next_cursor: str | None = None
