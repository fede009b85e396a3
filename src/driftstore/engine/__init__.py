"""Storage engines behind one interface (`engine.base`): `locate` picks one for a store.

Kept free of heavy imports: the engine a store needs is imported when it is located.
"""

from __future__ import annotations

from pathlib import Path

from driftstore.engine.base import StoreLocation

#: URL schemes of a shared (server) store
SERVER_SCHEMES = ("postgresql://", "postgres://")


def is_server_store(store: str | None) -> bool:
    """Whether `store` names a shared database rather than the project's own SQLite file."""
    return bool(store) and str(store).startswith(SERVER_SCHEMES)


def locate(drift_dir: Path, store: str | None = None, project: str | None = None) -> StoreLocation:
    """The store of a project: the SQLite file under its `.drift/` folder, or (with a
    `postgresql://` URL) a project in a PostgreSQL database, named `project` (default: the
    project folder's name)."""
    if store is None or store.startswith("sqlite:"):
        from driftstore.engine.sqlite.location import SqliteLocation

        return SqliteLocation(drift_dir)
    if is_server_store(store):
        try:
            from driftstore.engine.postgres import address
            from driftstore.engine.postgres.location import PostgresLocation
        except ImportError:
            from driftstore.errors import InvalidInputError

            raise InvalidInputError(
                "a PostgreSQL store needs the 'postgres' extra: pip install 'driftstore[postgres]'"
            ) from None
        name = project or address.default_project(drift_dir.resolve().parent)
        return PostgresLocation(store, name)
    from driftstore.errors import InvalidInputError

    raise InvalidInputError(
        f"store {_shown(store)!r}: not a store this driftstore knows; give a "
        "postgresql:// URL, or leave it out for the project's SQLite file"
    )


def _shown(store: str) -> str:
    from driftstore.engine.postgres.address import redact

    return redact(store)[:80]


def list_projects(store: str) -> list[tuple[str, int, int, int, int]]:
    """(project, patterns, locations, outliers, history rows) of each project in a shared
    store."""
    if not is_server_store(store):
        from driftstore.errors import InvalidInputError

        raise InvalidInputError(
            "projects: a SQLite file holds one project; give a postgresql:// URL with --store "
            "or DRIFTSTORE_STORE"
        )
    try:
        from driftstore.engine.postgres.location import list_projects as listed
    except ImportError:
        from driftstore.errors import InvalidInputError

        raise InvalidInputError(
            "a PostgreSQL store needs the 'postgres' extra: pip install 'driftstore[postgres]'"
        ) from None
    return listed(store)


def versions() -> dict[str, str]:
    """The storage software's versions: the SQLite library and the schema this code writes."""
    from driftstore.engine.sqlite.location import versions as sqlite_versions

    return sqlite_versions()
