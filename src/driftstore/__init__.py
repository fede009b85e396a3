"""driftstore: the storage layer for code-pattern data.

import driftstore
with driftstore.open("path/to/project") as store:
    store.ingest("scan.json")
"""

from typing import TYPE_CHECKING

from driftstore.errors import (
    AmbiguousIdError,
    BackupNotFoundError,
    ChecksumMismatchError,
    DriftStoreError,
    ExampleNotFoundError,
    IntegrityError,
    InvalidInputError,
    InvalidStatusTransitionError,
    NotADriftStoreError,
    PatternAlreadyExistsError,
    PatternNotFoundError,
    ReadOnlyStoreError,
    Remedy,
    SchemaTooNewError,
    StaleCursorError,
    StorageFullError,
    StoreBusyError,
    StoreNotFoundError,
    UnsafeArchiveError,
    VariantNotFoundError,
)
from driftstore.facade import PatternStore, open
from driftstore.facade import results as _results
from driftstore.facade.results import *  # noqa: F403  (every result type; listed in results.__all__)
from driftstore.model import (
    CATEGORIES,
    Confidence,
    ConfidenceLevel,
    DetectionMethod,
    Detector,
    DetectorConfig,
    Effective,
    Example,
    FilePattern,
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
    from driftstore.engine import is_server_store
    from driftstore.engine.base import ChangeSet
    from driftstore.facade.files import write_file
    from driftstore.facade.git import driver_command, git_setup, merge_files
    from driftstore.facade.locate import find_root, folder_contents, store_place
    from driftstore.facade.project import (
        list_backups,
        migrate_preview,
        prune_backups,
        restore,
        versions,
    )
    from driftstore.facade.projects import copy_store, projects
    from driftstore.facade.watch import StoreWatcher

__version__ = "0.1.0"


#: names loaded on first use, so that importing driftstore stays cheap (a one-shot command
#: such as `driftstore file` must start fast): name -> module that holds it
_LAZY = {
    "list_backups": "driftstore.facade.project",
    "prune_backups": "driftstore.facade.project",
    "restore": "driftstore.facade.project",
    "migrate_preview": "driftstore.facade.project",
    "versions": "driftstore.facade.project",
    "write_file": "driftstore.facade.files",
    "find_root": "driftstore.facade.locate",
    "store_place": "driftstore.facade.locate",
    "is_server_store": "driftstore.engine",
    "projects": "driftstore.facade.projects",
    "copy_store": "driftstore.facade.projects",
    "folder_contents": "driftstore.facade.locate",
    "merge_files": "driftstore.facade.git",
    "git_setup": "driftstore.facade.git",
    "driver_command": "driftstore.facade.git",
    "StoreWatcher": "driftstore.facade.watch",
    "ChangeSet": "driftstore.engine.base",
}


def __getattr__(name: str) -> object:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(name)
    import importlib

    return getattr(importlib.import_module(module), name)


__all__ = [
    "AmbiguousIdError",
    "ChangeSet",
    "StoreWatcher",
    "ExampleNotFoundError",
    "ReadOnlyStoreError",
    "Remedy",
    "StoreNotFoundError",
    "CATEGORIES",
    "BackupNotFoundError",
    "ChecksumMismatchError",
    "Confidence",
    "ConfidenceLevel",
    "DetectionMethod",
    "Detector",
    "DetectorConfig",
    "DriftStoreError",
    "Effective",
    "Example",
    "FilePattern",
    "HistoryAction",
    "HistoryEntry",
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
    "StaleCursorError",
    "VariantNotFoundError",
    "__version__",
    "driver_command",
    "find_root",
    "store_place",
    "is_server_store",
    "projects",
    "copy_store",
    "folder_contents",
    "git_setup",
    "merge_files",
    "list_backups",
    "migrate_preview",
    "open",
    "pattern_id_for",
    "prune_backups",
    "restore",
    "versions",
    "write_file",
    *_results.__all__,
]
