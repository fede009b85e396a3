"""SQL for pattern_examples (good and bad code examples)."""

from __future__ import annotations

from typing import Any

import apsw

from driftstore.engine import digests
from driftstore.model.records import Example

#: the digested columns (`digests.EXAMPLE_COLUMNS`) follow id, in table order
_COLUMNS = (
    "id, pattern_id, file, code, line_start, line_end, is_positive, created_at, language, "
    "row_digest"
)


def _example(row: tuple[Any, ...]) -> Example:
    """A row selected with _COLUMNS, checked against its digest (DigestMismatchError)."""
    digests.check_row("pattern_examples", row[0], row[1:9], row[9])
    return Example(
        id=row[0],
        pattern_id=row[1],
        file=row[2],
        code=row[3],
        line_start=row[4],
        line_end=row[5],
        is_positive=bool(row[6]),
        created_at=row[7],
        language=row[8],
    )


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
