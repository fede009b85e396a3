"""Finding a project's store the way git finds `.git`, and saying what a folder without one
holds (drift 0.9 data, v2 shards, backups), so a face can name the way in."""

from __future__ import annotations

from pathlib import Path

import msgspec

from driftstore.model.paths import DRIFT_DIR

DB_FILE = "drift.db"
_LEGACY_STATUSES = ("discovered", "approved", "ignored")


class FolderContents(msgspec.Struct, rename="camel", kw_only=True):
    """What a project folder's `.drift/` holds besides a store."""

    root: str
    store: bool
    legacy: bool
    shards: bool
    backups: bool


def find_root(start: str | Path = ".", *, shared: bool = False) -> Path | None:
    """The nearest folder at or above `start` whose `.drift/` holds a store, or None.

    With a shared (server) store the data is elsewhere: the root is then the nearest folder
    with a `.drift/` folder, else the top of the enclosing git work tree."""
    here = Path(start).resolve()
    chain = (here, *here.parents)
    if not shared:
        return next((f for f in chain if (f / DRIFT_DIR / DB_FILE).is_file()), None)
    marked = next((f for f in chain if (f / DRIFT_DIR).is_dir()), None)
    return marked or next((f for f in chain if (f / ".git").exists()), None)


def store_place(root: str | Path, store: str | None, project: str | None) -> str:
    """Where the store of the project at `root` is (or would be), for messages: the SQLite
    file, or a shared store's address without its password and the project's name."""
    from driftstore.engine import locate
    from driftstore.facade.store import chosen_store

    return locate(Path(root).resolve() / DRIFT_DIR, *chosen_store(store, project)).describe()


def folder_contents(root: str | Path) -> FolderContents:
    drift = Path(root) / DRIFT_DIR
    patterns = drift / "patterns"
    legacy = (
        any(
            (patterns / status).is_dir() and any((patterns / status).glob("*.json"))
            for status in _LEGACY_STATUSES
        )
        or (drift / "lake" / "patterns").is_dir()
    )
    shards = patterns.is_dir() and any(p.is_file() for p in patterns.glob("*.json"))
    backups = (drift / "backups").is_dir() and any((drift / "backups").glob("*.tar.zst"))
    return FolderContents(
        root=str(root),
        store=(drift / DB_FILE).is_file(),
        legacy=legacy,
        shards=shards,
        backups=backups,
    )
