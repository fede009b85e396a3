"""SQL for pattern_examples (good and bad code examples)."""

from __future__ import annotations

from typing import Any

import apsw

from driftstore.model.records import Example

_COLUMNS = "id, pattern_id, file, code, line_start, line_end, is_positive, language, created_at"


def _example(row: tuple[Any, ...]) -> Example:
    return Example(
        id=row[0],
        pattern_id=row[1],
        file=row[2],
        code=row[3],
        line_start=row[4],
        line_end=row[5],
        is_positive=bool(row[6]),
        language=row[7],
        created_at=row[8],
    )


def insert_example(cur: apsw.Cursor, e: Example, *, created_at: str) -> int:
    cur.execute(
        "INSERT INTO pattern_examples (pattern_id, file, code, line_start, line_end, "
        "is_positive, language, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (
            e.pattern_id,
            e.file,
            e.code,
            e.line_start,
            e.line_end,
            int(e.is_positive),
            e.language,
            e.created_at or created_at,
        ),
    )
    return int(cur.connection.last_insert_rowid())


def list_examples(
    conn: apsw.Connection | apsw.Cursor, pattern_id: str | None = None
) -> list[Example]:
    if pattern_id is None:
        rows = conn.execute(f"SELECT {_COLUMNS} FROM pattern_examples ORDER BY id")
    else:
        rows = conn.execute(
            f"SELECT {_COLUMNS} FROM pattern_examples WHERE pattern_id = ? ORDER BY id",
            (pattern_id,),
        )
    return [_example(r) for r in rows]


def delete_example(cur: apsw.Cursor, example_id: int) -> bool:
    cur.execute("DELETE FROM pattern_examples WHERE id = ?", (example_id,))
    return bool(cur.connection.changes())


def get_example(conn: apsw.Connection | apsw.Cursor, example_id: int) -> Example | None:
    row = conn.execute(
        f"SELECT {_COLUMNS} FROM pattern_examples WHERE id = ?", (example_id,)
    ).fetchone()
    return None if row is None else _example(row)
