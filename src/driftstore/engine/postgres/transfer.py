"""Moving a project's rows between PostgreSQL and a snapshot file (a SQLite database in
driftstore's schema, the format every backup archive holds).

Rows move as they are stored, ids and digests included: both schemas have the same columns
and stored types, so a row's digest is valid on either side and nothing is re-derived. That
makes backups of a PostgreSQL project ordinary archives, restores exact, and `copy` between
engines lossless.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg

from driftstore.engine.base import SnapshotInfo
from driftstore.engine.digests import EXAMPLE_COLUMNS, HISTORY_COLUMNS, VARIANT_COLUMNS
from driftstore.engine.postgres.reader import RESERVED_META
from driftstore.engine.rows import LOCATION_COLUMNS, PATTERN_COLUMNS
from driftstore.engine.sqlite.migrations import SCHEMA_VERSION as SQLITE_SCHEMA
from driftstore.engine.sqlite.snapshot_rows import new_snapshot, snapshot_reader

#: table -> the columns that move (every stored column but the project key)
TABLES: dict[str, tuple[str, ...]] = {
    "patterns": (*PATTERN_COLUMNS, "row_digest", "rows_digest"),
    "pattern_locations": ("id", *LOCATION_COLUMNS, "created_at"),
    "pattern_variants": ("id", *VARIANT_COLUMNS, "row_digest"),
    "pattern_examples": ("id", *EXAMPLE_COLUMNS, "row_digest"),
    "pattern_history": ("id", *HISTORY_COLUMNS, "row_digest"),
    "export_state": ("category", "layout", "status", "checksum", "last_updated"),
    "store_meta": ("key", "value"),
}
#: tables whose ids come from a sequence in PostgreSQL
_SERIAL = ("pattern_locations", "pattern_variants", "pattern_examples", "pattern_history")
_BATCH = 5_000


def write_snapshot(
    conn: psycopg.Connection[Any],
    project: str,
    target: Path,
    *,
    on_step: Callable[[int, int], None] | None = None,
) -> SnapshotInfo:
    """The project's rows, read in the caller's snapshot transaction, into the new SQLite
    file `target`."""
    tables = list(TABLES)
    with new_snapshot(target) as filler:
        for step, table in enumerate(tables):
            columns = TABLES[table]
            if table == "store_meta":
                filler.keep_meta(("generation", "changes-reset"))
            with conn.cursor(name=f"snapshot_{table}") as cur:
                cur.itersize = _BATCH
                cur.execute(
                    f"SELECT {', '.join(columns)} FROM {table} WHERE project = %s ORDER BY 1",
                    (project,),
                )
                while rows := cur.fetchmany(_BATCH):
                    if table == "store_meta":
                        rows = [r for r in rows if r[0] not in RESERVED_META]
                    filler.insert(table, columns, rows)
            if on_step is not None:
                on_step(step + 1, len(tables))
    return SnapshotInfo(bytes=target.stat().st_size, schema_version=SQLITE_SCHEMA)


def load_snapshot(conn: psycopg.Connection[Any], project: str, snapshot: Path) -> None:
    """Make the project hold exactly the snapshot's rows (the caller's transaction, which
    holds the project's write lock)."""
    for table in ("pattern_locations", "pattern_variants", "pattern_examples"):
        conn.execute(f"DELETE FROM {table} WHERE project = %s", (project,))
    for table in ("patterns", "pattern_history", "export_state", "store_meta", "pattern_changes"):
        conn.execute(f"DELETE FROM {table} WHERE project = %s", (project,))
    with snapshot_reader(snapshot) as src:
        for table, columns in TABLES.items():
            with (
                conn.cursor() as cur,
                cur.copy(f"COPY {table} (project, {', '.join(columns)}) FROM STDIN") as copy,
            ):
                for row in src.rows(table, columns):
                    if table == "store_meta" and row[0] in RESERVED_META:
                        continue
                    copy.write_row((project, *row))
    for table in _SERIAL:
        conn.execute(
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
            f"greatest((SELECT coalesce(max(id), 0) FROM {table}), "
            f"(SELECT last_value FROM {table}_id_seq)))"
        )
