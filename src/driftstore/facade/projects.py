"""Shared stores: the projects one database holds, and copying a project's store whole to
another store (its SQLite file to a PostgreSQL project, back, or between projects)."""

from __future__ import annotations

import tempfile
from pathlib import Path

from driftstore.engine import is_server_store, list_projects, locate
from driftstore.errors import InvalidInputError
from driftstore.facade.backups import backups_dir, create_backup
from driftstore.facade.results import CopyReport, ProjectInfo
from driftstore.facade.store import PatternStore, chosen_store
from driftstore.formats.backups import archive_name

#: what `copy` takes as the project's own SQLite file (the default store)
SQLITE = "sqlite"


def projects(store: str | None = None) -> list[ProjectInfo]:
    """Every project of a shared store (default: DRIFTSTORE_STORE), by name."""
    url, _ = chosen_store(store, None)
    if url is None:
        raise InvalidInputError(
            "projects: no shared store given; pass a postgresql:// URL with --store or set "
            "DRIFTSTORE_STORE"
        )
    return [
        ProjectInfo(
            project=name,
            patterns=patterns,
            locations=locations,
            outliers=outliers,
            history_rows=history,
        )
        for name, patterns, locations, outliers, history in list_projects(url)
    ]


def _side(store: str | None) -> str | None:
    """A `copy` side as `open` takes it: None for the project's SQLite file."""
    if store is None:
        return None  # the caller's default: DRIFTSTORE_STORE, else the SQLite file
    if store == SQLITE:
        return "sqlite:"
    if not is_server_store(store):
        raise InvalidInputError(
            f"copy: {store[:60]!r} is not a store; give a postgresql:// URL or 'sqlite' (the "
            "project's .drift/drift.db)"
        )
    return store


def copy_store(
    root: str | Path,
    *,
    source: str | None,
    source_project: str | None = None,
    target: str | None,
    target_project: str | None = None,
    replace: bool = False,
) -> CopyReport:
    """Copy the project's store at `source` into `target` (None or 'sqlite': the SQLite
    file under `root`): one consistent snapshot of the source, loaded into the target in
    one transaction. A target that holds patterns is replaced only with `replace`, after a
    backup of it in `.drift/backups/`."""
    src, dst = _side(source), _side(target)
    with PatternStore(root, create=False, store=src, project=source_project) as origin:
        target_at = locate(origin.drift_dir, *chosen_store(dst, target_project))
        if target_at.describe() == origin.location.describe():
            raise InvalidInputError(
                "copy: the source and the target are the same store; name another with "
                "--to or --from (and --to-project / --from-project)"
            )
        with PatternStore(root, create=True, store=dst, project=target_project) as into:
            held = into.count()
            if held and not replace:
                raise InvalidInputError(
                    f"copy: {_where(into)} already holds {held} patterns; pass --replace to "
                    "replace them (a backup of them is kept first)"
                )
            return _copy(origin, into, held)


def _where(store: PatternStore) -> str:
    info = store.info()
    return f"{info.location} (project {info.project})" if info.project else info.location


def _copy(origin: PatternStore, into: PatternStore, held: int) -> CopyReport:
    drift_dir = into.drift_dir
    folder = backups_dir(drift_dir)
    saved: list[str] = []

    def save_current() -> str:
        if not held:
            return ""
        saved.append(create_backup(into.engine.snapshot_to, drift_dir, "copy"))
        return saved[-1]

    def discard(stale: str) -> None:
        if stale:
            (folder / archive_name(stale)).unlink(missing_ok=True)

    with tempfile.TemporaryDirectory(prefix="driftstore-copy-") as work:
        snapshot = Path(work) / "drift.db"
        origin.engine.snapshot_to(snapshot)
        backup = into.engine.restore_from(
            snapshot,
            label=_where(origin),
            thorough=False,
            save_current=save_current,
            discard=discard,
        )
    status = into.status()
    return CopyReport(
        source=_where(origin),
        target=_where(into),
        patterns=status.total_patterns,
        locations=status.total_locations,
        history_rows=len(into.history()),
        backup=backup or None,
    )
