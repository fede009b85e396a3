"""Operations on a project folder that work without opening its store, or when it cannot
be opened at all: listing and pruning backups, restoring one (what a damaged store needs),
and a migration preview that writes nothing (not even a new empty store). They sit beside
`open()` as the public door (`driftstore.list_backups`, ...)."""

from __future__ import annotations

from pathlib import Path

from driftstore.engine import locate
from driftstore.errors import (
    IntegrityError,
    InvalidInputError,
    NotADriftStoreError,
    SchemaTooNewError,
)
from driftstore.facade import backups
from driftstore.facade.migrate import plan_migration
from driftstore.facade.results import BackupInfo, MigrateReport, RestoreReport, VersionInfo
from driftstore.facade.store import PatternStore, chosen_store
from driftstore.model.paths import DRIFT_DIR


def _folder(root: str | Path) -> Path:
    folder = Path(root).resolve()
    if not folder.is_dir():
        raise InvalidInputError(f"{root}: no such folder; pass an existing project folder as root")
    return folder


def list_backups(root: str | Path = ".") -> list[BackupInfo]:
    """Every backup of the project at `root`, newest first (the store is not opened)."""
    return backups.list_backups(_folder(root) / DRIFT_DIR)


def prune_backups(root: str | Path, keep: int) -> list[str]:
    """Delete all but the `keep` newest backups; returns the deleted ids, oldest first."""
    return backups.prune_backups(_folder(root) / DRIFT_DIR, keep)


def restore(
    root: str | Path,
    backup_id: str,
    *,
    thorough: bool = False,
    store: str | None = None,
    project: str | None = None,
) -> RestoreReport:
    """Restore the store at `root`, also when it is missing or cannot be opened (the case
    a restore exists for): what cannot be read is then moved aside, not lost."""
    folder = _folder(root)
    drift_dir = folder / DRIFT_DIR
    backup_id = backups.resolve_backup(drift_dir, backup_id)  # unknown: fails before opening
    store, project = chosen_store(store, project)
    location = locate(drift_dir, store, project)
    if location.exists():
        try:
            opened = PatternStore(folder, create=False, store=store, project=project)
        except (NotADriftStoreError, IntegrityError, SchemaTooNewError):
            pass
        else:
            with opened:
                return opened.restore(backup_id, thorough=thorough)
    return backups.restore_backup(None, location, drift_dir, backup_id, thorough=thorough)


def migrate_preview(
    root: str | Path,
    source: str | Path | None = None,
    *,
    store: str | None = None,
    project: str | None = None,
) -> MigrateReport:
    """A dry run of `migrate` that writes nothing at all, not even a new empty store."""
    folder = _folder(root)
    origin = Path(source) if source is not None else folder
    store, project = chosen_store(store, project)
    if not locate(folder / DRIFT_DIR, store, project).exists():
        return plan_migration(None, origin, dry_run=True).report
    with PatternStore(folder, create=False, store=store, project=project) as opened:
        return opened.migrate(origin, dry_run=True)


def versions() -> VersionInfo:
    """driftstore's version, SQLite's, and the schema version this code writes."""
    from importlib.metadata import PackageNotFoundError, version

    from driftstore.engine import versions as engine_versions

    try:
        mine = version("driftstore")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree
        mine = "unknown"
    found = engine_versions()
    return VersionInfo(driftstore=mine, sqlite=found["sqlite"], schema=int(found["schema"]))
