"""Storage engines behind one interface (`engine.base`): `locate` picks one for a store.

Kept free of heavy imports: the engine a store needs is imported when it is located.
"""

from __future__ import annotations

from pathlib import Path

from driftstore.engine.base import StoreLocation


def locate(drift_dir: Path, store: str | None = None, project: str | None = None) -> StoreLocation:
    """The store of a project: the SQLite file under its `.drift/` folder, or (with a
    `postgresql://` URL) a project in a PostgreSQL database."""
    del project  # only a shared database has projects
    if store is None or store.startswith("sqlite:"):
        from driftstore.engine.sqlite.location import SqliteLocation

        return SqliteLocation(drift_dir)
    from driftstore.errors import InvalidInputError

    raise InvalidInputError(
        f"store {store!r}: not a store this driftstore knows; leave it out for the project's "
        "SQLite file"
    )


def versions() -> dict[str, str]:
    """The storage software's versions: the SQLite library and the schema this code writes."""
    from driftstore.engine.sqlite.location import versions as sqlite_versions

    return sqlite_versions()
