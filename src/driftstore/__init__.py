"""driftstore: the storage layer for code-pattern data.

import driftstore
with driftstore.open("path/to/project") as store:
    store.ingest("scan.json")
"""

from typing import TYPE_CHECKING

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
from driftstore.facade.results import (
    BackupInfo,
    CategoryCounts,
    DecisionReport,
    ExportReport,
    FileReport,
    FileSpot,
    FileSummary,
    HealthFactors,
    ImportReport,
    IngestReport,
    MigrateReport,
    PatternDetail,
    Problem,
    RelatedPattern,
    RestoreReport,
    StatusReport,
    VariantView,
    VerifyReport,
    to_builtins,
)
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

if TYPE_CHECKING:  # loaded lazily below
    from driftstore.facade.files import write_file
    from driftstore.facade.project import list_backups, migrate_preview, prune_backups, restore

__version__ = "0.1.0"


#: names loaded on first use, so that importing driftstore stays cheap (a one-shot command
#: such as `driftstore file` must start fast): name -> module that holds it
_LAZY = {
    "list_backups": "driftstore.facade.project",
    "prune_backups": "driftstore.facade.project",
    "restore": "driftstore.facade.project",
    "migrate_preview": "driftstore.facade.project",
    "write_file": "driftstore.facade.files",
}


def __getattr__(name: str) -> object:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(name)
    import importlib

    return getattr(importlib.import_module(module), name)


__all__ = [
    "CATEGORIES",
    "BackupInfo",
    "BackupNotFoundError",
    "CategoryCounts",
    "ChecksumMismatchError",
    "Confidence",
    "ConfidenceLevel",
    "DecisionReport",
    "DetectionMethod",
    "Detector",
    "DetectorConfig",
    "DriftStoreError",
    "Example",
    "ExportReport",
    "FileReport",
    "FileSpot",
    "FileSummary",
    "HealthFactors",
    "HistoryAction",
    "HistoryEntry",
    "ImportReport",
    "IngestReport",
    "IntegrityError",
    "InvalidInputError",
    "InvalidStatusTransitionError",
    "Location",
    "Metadata",
    "MigrateReport",
    "NotADriftStoreError",
    "Pattern",
    "PatternAlreadyExistsError",
    "PatternDetail",
    "PatternFilter",
    "PatternNotFoundError",
    "PatternStore",
    "PatternSummary",
    "Problem",
    "QueryResult",
    "RelatedPattern",
    "RestoreReport",
    "SchemaTooNewError",
    "Scope",
    "Severity",
    "Sort",
    "SortField",
    "Status",
    "StatusReport",
    "StorageFullError",
    "StoreBusyError",
    "UnsafeArchiveError",
    "Variant",
    "VariantNotFoundError",
    "VariantView",
    "VerifyReport",
    "__version__",
    "list_backups",
    "migrate_preview",
    "open",
    "pattern_id_for",
    "prune_backups",
    "restore",
    "to_builtins",
    "write_file",
]
