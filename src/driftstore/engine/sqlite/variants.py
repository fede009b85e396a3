"""SQL for pattern_variants (scoped overrides)."""

from __future__ import annotations

import apsw
import msgspec

from driftstore.engine import digests
from driftstore.engine.records import VARIANT_COLUMNS, variant_of
from driftstore.model.records import Variant


def insert_variant(cur: apsw.Cursor, v: Variant, *, created_at: str) -> int:
    row = (
        v.pattern_id,
        v.scope.value,
        v.scope_path,
        v.severity_override.value if v.severity_override else None,
        None if v.enabled_override is None else int(v.enabled_override),
        v.threshold_override,
        None if v.config_override is None else msgspec.json.encode(v.config_override).decode(),
        v.expires_at,
        v.created_at or created_at,
    )
    cur.execute(
        "INSERT INTO pattern_variants (pattern_id, scope, scope_path, severity_override, "
        "enabled_override, threshold_override, config_override, expires_at, created_at, "
        "row_digest) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (*row, digests.row_digest("pattern_variants", row)),
    )
    return int(cur.connection.last_insert_rowid())


def list_variants(
    conn: apsw.Connection | apsw.Cursor, pattern_id: str | None = None
) -> list[Variant]:
    if pattern_id is None:
        rows = conn.execute(f"SELECT {VARIANT_COLUMNS} FROM pattern_variants ORDER BY id")
    else:
        rows = conn.execute(
            f"SELECT {VARIANT_COLUMNS} FROM pattern_variants WHERE pattern_id = ? ORDER BY id",
            (pattern_id,),
        )
    return [variant_of(r) for r in rows]


def get_variant(conn: apsw.Connection | apsw.Cursor, variant_id: int) -> Variant | None:
    row = conn.execute(
        f"SELECT {VARIANT_COLUMNS} FROM pattern_variants WHERE id = ?", (variant_id,)
    ).fetchone()
    return None if row is None else variant_of(row)


def delete_variant(cur: apsw.Cursor, variant_id: int) -> bool:
    cur.execute("DELETE FROM pattern_variants WHERE id = ?", (variant_id,))
    return bool(cur.connection.changes())


def variants_for(
    conn: apsw.Connection | apsw.Cursor, pattern_ids: list[str]
) -> dict[str, list[Variant]]:
    """Variants of these patterns, by pattern id, oldest first."""
    found: dict[str, list[Variant]] = {}
    for start in range(0, len(pattern_ids), 500):
        chunk = pattern_ids[start : start + 500]
        marks = ",".join("?" * len(chunk))
        for row in conn.execute(
            f"SELECT {VARIANT_COLUMNS} FROM pattern_variants WHERE pattern_id IN ({marks}) ORDER BY id",
            tuple(chunk),
        ):
            v = variant_of(row)
            found.setdefault(v.pattern_id, []).append(v)
    return found
