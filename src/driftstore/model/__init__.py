"""The domain: plain typed records and the rules that need no storage."""

from driftstore.model.effective import Effective
from driftstore.model.enums import (
    ALLOWED_MOVES,
    CATEGORIES,
    ConfidenceLevel,
    DetectionMethod,
    HistoryAction,
    Scope,
    Severity,
    Status,
    can_move,
    level_for,
)
from driftstore.model.file_pattern import FilePattern
from driftstore.model.ids import pattern_id_for
from driftstore.model.pattern import (
    Confidence,
    Detector,
    DetectorConfig,
    Location,
    Metadata,
    Pattern,
)
from driftstore.model.query import PatternFilter, PatternSummary, QueryResult, Sort, SortField
from driftstore.model.records import Example, HistoryEntry, Variant

__all__ = [
    "ALLOWED_MOVES",
    "CATEGORIES",
    "Confidence",
    "ConfidenceLevel",
    "DetectionMethod",
    "Detector",
    "DetectorConfig",
    "Effective",
    "Example",
    "FilePattern",
    "HistoryAction",
    "HistoryEntry",
    "Location",
    "Metadata",
    "Pattern",
    "PatternFilter",
    "PatternSummary",
    "QueryResult",
    "Scope",
    "Severity",
    "Sort",
    "SortField",
    "Status",
    "Variant",
    "can_move",
    "level_for",
    "pattern_id_for",
]
