"""driftstore: the storage layer for code-pattern data.

import driftstore
with driftstore.open("path/to/project") as store:
    store.ingest("scan.json")
"""

from driftstore.errors import (
    BackupNotFoundError,
    DriftStoreError,
    IntegrityError,
    InvalidInputError,
    InvalidStatusTransitionError,
    NotADriftStoreError,
    PatternAlreadyExistsError,
    PatternNotFoundError,
    SchemaTooNewError,
    StorageFullError,
    StoreBusyError,
    VariantNotFoundError,
)
from driftstore.facade import IngestReport, PatternStore, open
from driftstore.model import (
    CATEGORIES,
    Confidence,
    ConfidenceLevel,
    DetectionMethod,
    Detector,
    DetectorConfig,
    Example,
    HistoryAction,
    HistoryEntry,
    Location,
    Metadata,
    Pattern,
    PatternFilter,
    PatternSummary,
    QueryResult,
    Scope,
    Severity,
    Sort,
    SortField,
    Status,
    Variant,
    pattern_id_for,
)

__version__ = "0.1.0"

__all__ = [
    "CATEGORIES",
    "BackupNotFoundError",
    "Confidence",
    "ConfidenceLevel",
    "DetectionMethod",
    "Detector",
    "DetectorConfig",
    "DriftStoreError",
    "Example",
    "HistoryAction",
    "HistoryEntry",
    "IngestReport",
    "IntegrityError",
    "InvalidInputError",
    "InvalidStatusTransitionError",
    "Location",
    "Metadata",
    "NotADriftStoreError",
    "Pattern",
    "PatternAlreadyExistsError",
    "PatternFilter",
    "PatternNotFoundError",
    "PatternStore",
    "PatternSummary",
    "QueryResult",
    "SchemaTooNewError",
    "Scope",
    "Severity",
    "Sort",
    "SortField",
    "Status",
    "StorageFullError",
    "StoreBusyError",
    "Variant",
    "VariantNotFoundError",
    "__version__",
    "open",
    "pattern_id_for",
]
