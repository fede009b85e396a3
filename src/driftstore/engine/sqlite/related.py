"""Related patterns: what `show` lists beside a pattern."""

from __future__ import annotations

import apsw

from driftstore.engine.base import RelatedPattern
from driftstore.engine.damage import stored
from driftstore.engine.sqlite.sql import scalar
from driftstore.model.enums import Status


def related_patterns(
    conn: apsw.Connection | apsw.Cursor,
    pattern_id: str,
    category: str,
    subcategory: str,
    *,
    limit: int,
) -> tuple[list[RelatedPattern], int]:
    """Other patterns of the same category and subcategory, most confident first, and how
    many there are in all."""
    where = "category = ? AND subcategory = ? AND id != ?"
    params = (category, subcategory, pattern_id)
    total = scalar(conn, f"SELECT count(*) FROM patterns WHERE {where}", params)
    rows = [
        RelatedPattern(
            id=row[0],
            name=row[1],
            status=stored(Status, row[2]),
            confidence=row[3],
            location_count=row[4],
        )
        for row in conn.execute(
            "SELECT id, name, status, confidence_score, location_count FROM patterns "
            f"WHERE {where} ORDER BY confidence_score DESC, id LIMIT ?",
            (*params, limit),
        )
    ]
    return rows, int(total)
