"""Related patterns: what `show` lists beside a pattern."""

from __future__ import annotations

from typing import Any

import apsw

from driftstore.engine.sql import scalar
from driftstore.model.enums import Status


def related_patterns(
    conn: apsw.Connection, pattern_id: str, category: str, subcategory: str, *, limit: int
) -> tuple[list[dict[str, Any]], int]:
    """Other patterns of the same category and subcategory, most confident first, and how
    many there are in all."""
    where = "category = ? AND subcategory = ? AND id != ?"
    params = (category, subcategory, pattern_id)
    total = scalar(conn, f"SELECT count(*) FROM patterns WHERE {where}", params)
    rows = [
        {
            "id": row[0],
            "name": row[1],
            "status": Status(row[2]).value,
            "confidence": row[3],
            "locationCount": row[4],
        }
        for row in conn.execute(
            "SELECT id, name, status, confidence_score, location_count FROM patterns "
            f"WHERE {where} ORDER BY confidence_score DESC, id LIMIT ?",
            (*params, limit),
        )
    ]
    return rows, int(total)
