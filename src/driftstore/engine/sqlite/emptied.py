"""A database file of 0 bytes beside a store's backups or shards: a truncated store, not a
new one.

SQLite opens an empty file as a new, empty database, so a store whose file was truncated
to nothing (a full disk during a copy, a careless `> drift.db`) would silently come back
empty, and the next write would make that the truth. When `.drift/` shows that a store
lived here, opening is refused instead, naming the way out. Kept free of heavy imports:
every open runs it.
"""

from __future__ import annotations

from pathlib import Path

from driftstore.errors import IntegrityError, Remedy

#: what a store leaves beside its database: backup archives, v2 shards
_BACKUP_SUFFIX = ".tar.zst"


def _traces(drift_dir: Path) -> list[str]:
    found = []
    backups = drift_dir / "backups"
    if backups.is_dir() and any(p.name.endswith(_BACKUP_SUFFIX) for p in backups.iterdir()):
        found.append("backups")
    patterns = drift_dir / "patterns"
    if patterns.is_dir() and any(p.suffix == ".json" and p.is_file() for p in patterns.iterdir()):
        found.append("shards")
    return found


def refuse_emptied(db_path: Path, drift_dir: Path) -> None:
    """IntegrityError when `db_path` is 0 bytes and `drift_dir` holds backups or shards."""
    try:
        if db_path.stat().st_size != 0:
            return
    except FileNotFoundError:
        return
    traces = _traces(drift_dir)
    if traces:
        raise IntegrityError(
            f"{db_path}: the database file is empty (0 bytes) but {drift_dir.name}/ holds "
            f"{' and '.join(traces)} of a store, so the file was most likely truncated (it was "
            "left untouched); restore a backup, or delete the file to start a new, empty store",
            remedy=Remedy.RESTORE_BACKUP,
            path=str(db_path),
        )
