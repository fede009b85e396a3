"""The pattern record and its parts, shaped like a v2 shard entry (formats.md §2).

The structs double as the validating decoder for scan input: field types and bounds
here are the rules a scan must satisfy. Optional keys default to UNSET so that a key
that was absent stays absent when the pattern is written back (drift 0.9 files are
given back as they came).
"""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from msgspec import UNSET, Meta, Struct, UnsetType

from driftstore.model.enums import ConfidenceLevel, Severity, Status, level_for

#: a pattern id: what drift writes (16 hex) or any short id a scanner chooses
PatternId = Annotated[str, Meta(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9._:/@+-]+$")]
#: SQLite's INTEGER is 64-bit signed: a larger number in a scan is refused by name here
#: instead of failing deep in the database driver
INT64_MAX = 2**63 - 1
Line = Annotated[int, Meta(ge=1, le=INT64_MAX)]
Column = Annotated[int, Meta(ge=0, le=INT64_MAX)]
Unit = Annotated[float, Meta(ge=0.0, le=1.0)]
Count = Annotated[int, Meta(ge=0, le=INT64_MAX)]

#: JSON name of the struct slot that carries keys driftstore does not model
EXTRAS_KEY = "__extras__"

# Location and Pattern are plain data (no reference cycles), so they opt out of the cyclic
# garbage collector (gc=False): a by-file answer or a scan makes thousands of them, and
# tracking them made collections a quarter to a third of the by-file index's CPU time
# (figures: benchmarks/NOTES.md).


class Location(Struct, rename="camel", omit_defaults=True, forbid_unknown_fields=True, gc=False):
    """Where a pattern occurs, or (in `outliers`, or with isOutlier) where it is broken.

    `file` is always the normalised, project-relative path with `/`; `original_file`
    keeps the spelling the input used when it differed (Windows backslashes).
    """

    file: str
    line: Line
    column: Column
    end_line: Line | UnsetType = UNSET
    end_column: Column | UnsetType = UNSET
    is_outlier: bool | UnsetType = UNSET
    confidence: Unit | UnsetType = UNSET
    outlier_reason: str | UnsetType = UNSET
    reason: str | UnsetType = UNSET
    deviation_score: Unit | UnsetType = UNSET
    snippet: str | UnsetType = UNSET
    original_file: str | UnsetType = UNSET
    extras: dict[str, Any] | UnsetType = msgspec.field(default=UNSET, name=EXTRAS_KEY)

    @property
    def flagged_outlier(self) -> bool:
        return self.is_outlier is True


class DetectorConfig(Struct, rename="camel", omit_defaults=True, forbid_unknown_fields=True):
    detector_id: Annotated[str, Meta(min_length=1)]
    pattern_id: Annotated[str, Meta(min_length=1)]
    extras: dict[str, Any] | UnsetType = msgspec.field(default=UNSET, name=EXTRAS_KEY)


class Detector(Struct, rename="camel", omit_defaults=True, forbid_unknown_fields=True):
    type: Annotated[str, Meta(min_length=1)]
    config: DetectorConfig
    extras: dict[str, Any] | UnsetType = msgspec.field(default=UNSET, name=EXTRAS_KEY)


class Confidence(Struct, rename="camel", omit_defaults=True, forbid_unknown_fields=True):
    score: Unit
    frequency: Unit | UnsetType = UNSET
    consistency: Unit | UnsetType = UNSET
    age: Count | UnsetType = UNSET
    spread: Count | UnsetType = UNSET
    level: ConfidenceLevel | UnsetType = UNSET
    extras: dict[str, Any] | UnsetType = msgspec.field(default=UNSET, name=EXTRAS_KEY)

    @property
    def effective_level(self) -> ConfidenceLevel:
        """The stored level when there is one (kept as the file said), else derived."""
        return self.level if isinstance(self.level, ConfidenceLevel) else level_for(self.score)


class Metadata(Struct, rename="camel", omit_defaults=True, forbid_unknown_fields=True):
    first_seen: str | UnsetType = UNSET
    last_seen: str | UnsetType = UNSET
    source: str | UnsetType = UNSET
    tags: list[str] | UnsetType = UNSET
    approved_at: str | UnsetType = UNSET
    approved_by: str | UnsetType = UNSET
    version: Any | UnsetType = UNSET
    related_patterns: list[str] | UnsetType = UNSET
    custom: dict[str, Any] | UnsetType = UNSET
    extras: dict[str, Any] | UnsetType = msgspec.field(default=UNSET, name=EXTRAS_KEY)


class Pattern(Struct, rename="camel", forbid_unknown_fields=True, kw_only=True, gc=False):
    """A convention found in a codebase, with its evidence and the team's decision."""

    id: PatternId
    category: str = ""
    subcategory: str
    name: Annotated[str, Meta(min_length=1)]
    description: str = ""
    status: Status = Status.DISCOVERED
    detection_method: str | UnsetType = UNSET
    detector: Detector
    confidence: Confidence
    confidence_level: ConfidenceLevel | UnsetType = UNSET
    locations: list[Location] = msgspec.field(default_factory=list)
    outliers: list[Location] = msgspec.field(default_factory=list)
    metadata: Metadata = msgspec.field(default_factory=Metadata)
    severity: Severity = Severity.INFO
    auto_fixable: bool = False
    extras: dict[str, Any] | UnsetType = msgspec.field(default=UNSET, name=EXTRAS_KEY)

    @property
    def method(self) -> str:
        """detectionMethod, falling back to the detector's type as drift 0.9 did."""
        return (
            self.detection_method if isinstance(self.detection_method, str) else self.detector.type
        )

    @property
    def level(self) -> ConfidenceLevel:
        return self.confidence.effective_level

    @property
    def location_count(self) -> int:
        return len(self.locations)

    @property
    def outlier_count(self) -> int:
        return len(self.outliers) + sum(1 for loc in self.locations if loc.is_outlier is True)

    @property
    def tags(self) -> list[str]:
        return list(self.metadata.tags) if isinstance(self.metadata.tags, list) else []

    def all_locations(self) -> list[Location]:
        return [*self.locations, *self.outliers]


def unset_to_none(value: Any) -> Any:
    """UNSET -> None, for code that stores or prints optional fields."""
    return None if value is UNSET else value
