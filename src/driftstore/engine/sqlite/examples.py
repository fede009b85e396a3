"""SQL for pattern_examples (good and bad code examples)."""

from __future__ import annotations

import apsw

from driftstore.engine import digests
from driftstore.engine.records import EXAMPLE_COLUMNS, example_of
from driftstore.model.records import Example


def insert_example(cur: apsw.Cursor, e: Example, *, created_at: str) -> int:
    row = (
        e.pattern_id,
        e.file,
        e.code,
        e.line_start,
        e.line_end,
        int(e.is_positive),
        e.created_at or created_at,
        e.language,
    )
    cur.execute(
        "INSERT INTO pattern_examples (pattern_id, file, code, line_start, line_end, "
        "is_positive, created_at, language, row_digest) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (*row, digests.row_digest("pattern_examples", row)),
    )
    return int(cur.connection.last_insert_rowid())


def list_examples(
    conn: apsw.Connection | apsw.Cursor, pattern_id: str | None = None
) -> list[Example]:
    if pattern_id is None:
        rows = conn.execute(f"SELECT {EXAMPLE_COLUMNS} FROM pattern_examples ORDER BY id")
    else:
        rows = conn.execute(
            f"SELECT {EXAMPLE_COLUMNS} FROM pattern_examples WHERE pattern_id = ? ORDER BY id",
            (pattern_id,),
        )
    return [example_of(r) for r in rows]


def delete_example(cur: apsw.Cursor, example_id: int) -> bool:
    cur.execute("DELETE FROM pattern_examples WHERE id = ?", (example_id,))
    return bool(cur.connection.changes())


def get_example(conn: apsw.Connection | apsw.Cursor, example_id: int) -> Example | None:
    row = conn.execute(
        f"SELECT {EXAMPLE_COLUMNS} FROM pattern_examples WHERE id = ?", (example_id,)
    ).fetchone()
    return None if row is None else example_of(row)
