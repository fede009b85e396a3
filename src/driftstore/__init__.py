"""driftstore: the storage layer for code-pattern data.

import driftstore
with driftstore.open("path/to/project") as store:
    store.ingest("scan.json")
"""

from driftstore.errors import (
    BackupNotFoundError,
    ChecksumMismatchError,
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
    UnsafeArchiveError,
    VariantNotFoundError,
)
from driftstore.facade import PatternStore, open
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


def __getattr__(name: str) -> object:
    # loaded on first use so that importing driftstore stays cheap (see facade/__init__)
    if name == "IngestReport":
        from driftstore.facade.ingest import IngestReport

        return IngestReport
    raise AttributeError(name)


__all__ = [
    "CATEGORIES",
    "BackupNotFoundError",
    "ChecksumMismatchError",
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
    "UnsafeArchiveError",
    "Variant",
    "VariantNotFoundError",
    "__version__",
    "open",
    "pattern_id_for",
]
