"""Checking every stored row against its digest (verify, export), and filling digests
(a schema migration): the SQLite side of `engine.digests`."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from itertools import groupby
from operator import itemgetter
from typing import Any

import apsw

from driftstore.engine.digests import (
    DIGESTED,
    EMPTY_ROWS_DIGEST,
    MISMATCH,
    DigestMismatchError,
    digest,
    rows_digest,
)
from driftstore.engine.rows import LOCATION_COLUMNS, PATTERN_COLUMNS

# --- checking everything (verify, export) ----------------------------------------------
_LOCATION_SELECT = ", ".join(LOCATION_COLUMNS)
_LOCATIONS_OF = f"SELECT {_LOCATION_SELECT} FROM pattern_locations WHERE pattern_id = ? ORDER BY id"
_first = itemgetter(0)
#: the one way a row's raw values fail to read (the digest check reads nothing else)
_NOT_UTF8 = "holds text that is not UTF-8"
_WAY_OUT = "(damaged on disk, or changed outside driftstore); restore a backup"


def _scan(
    conn: apsw.Connection | apsw.Cursor, table: str, columns: str
) -> Iterator[tuple[int, tuple[Any, ...] | None]]:
    """(rowid, row) of every row of a small table; row is None when it cannot be read (text
    that is not UTF-8 stops a whole scan, so the rows are then read one by one)."""
    try:
        rows = conn.execute(f"SELECT rowid, {columns} FROM {table}").fetchall()
    except UnicodeDecodeError:
        pass
    else:
        for row in rows:
            yield int(row[0] or 0), tuple(row[1:])
        return
    for (rowid,) in conn.execute(f"SELECT rowid FROM {table}").fetchall():
        try:
            found = conn.execute(
                f"SELECT {columns} FROM {table} WHERE rowid = ?", (rowid,)
            ).fetchone()
        except UnicodeDecodeError:
            found = None
        yield int(rowid or 0), None if found is None else tuple(found)


def _pattern_locations(conn: apsw.Connection | apsw.Cursor, pattern_id: str) -> str | None:
    """One pattern's rows digest through the pattern_id index; None if a row is unreadable."""
    try:
        return rows_digest(conn.execute(_LOCATIONS_OF, (pattern_id,)).fetchall())
    except UnicodeDecodeError:
        return None


def _location_digests(
    conn: apsw.Connection | apsw.Cursor, pattern_ids: Iterable[str]
) -> dict[str, str | None]:
    """pattern id -> digest of its location rows (None: a row cannot be read).

    One pass over the table in row-id order: a pattern's rows are written by one insert,
    so they are one run of consecutive rows; a pattern met in two runs (rows written by
    another tool) is read again through its index.
    """
    found: dict[str, str | None] = {}
    again: set[str] = set()
    try:
        for pid, group in groupby(
            conn.execute(f"SELECT {_LOCATION_SELECT} FROM pattern_locations ORDER BY id"), _first
        ):
            if pid in found:
                again.add(pid)
            found[pid] = rows_digest(list(group))
    except UnicodeDecodeError:
        found.clear()
        again = set(pattern_ids)
    for pid in again:
        found[pid] = _pattern_locations(conn, pid)
    return found


def _mismatches(conn: apsw.Connection | apsw.Cursor, *, history: bool) -> Iterator[tuple[str, str]]:
    """(what, problem) for every stored row that does not match its digest."""
    columns = ", ".join(PATTERN_COLUMNS)
    expected: dict[str, Any] = {}
    for rowid, row in _scan(conn, "patterns", f"{columns}, row_digest, rows_digest"):
        if row is None:
            yield f"patterns row {rowid}", _NOT_UTF8
            continue
        pid = row[0]
        expected[pid] = row[-1]
        if row[-2] is None:
            yield f"pattern {pid!r}", "has no digest"
        elif digest(row[:-2]) != row[-2]:
            yield f"pattern {pid!r}", f"does not match {MISMATCH} it"
    computed = _location_digests(conn, list(expected))
    for pid, stored in expected.items():
        got = computed.get(pid, EMPTY_ROWS_DIGEST)
        if got is None:
            yield f"the locations of pattern {pid!r}", "hold text that is not UTF-8"
        elif stored is None:
            yield f"the locations of pattern {pid!r}", "have no digest"
        elif got != stored:
            yield f"the locations of pattern {pid!r}", f"do not match {MISMATCH} them"
    tables = ["pattern_variants", "pattern_examples"] + (["pattern_history"] if history else [])
    for table in tables:
        names = ", ".join(DIGESTED[table])
        for rowid, row in _scan(conn, table, f"{names}, row_digest"):
            what = f"{table} row {rowid}" + ("" if row is None else f" (pattern {row[0]!r})")
            if row is None:
                yield what, _NOT_UTF8
            elif row[-1] is None:
                yield what, "has no digest"
            elif digest(row[:-1]) != row[-1]:
                yield what, f"does not match {MISMATCH} it"


#: mismatches verify lists one by one; the rest are counted
LISTED = 100


def digest_problems(conn: apsw.Connection | apsw.Cursor) -> list[str]:
    """verify: every row that does not match its digest, named (pattern id, or table and
    row id), with the way out."""
    problems: list[str] = []
    extra = 0
    for what, problem in _mismatches(conn, history=True):
        if len(problems) < LISTED:
            problems.append(f"{what} {problem} {_WAY_OUT}")
        else:
            extra += 1
    if extra:
        problems.append(f"{extra} more rows do not match their digests {_WAY_OUT}")
    return problems


def require_intact(conn: apsw.Connection | apsw.Cursor) -> None:
    """Before an export writes checksummed files: DigestMismatchError (damaged data, one
    line) unless every pattern, location, variant and example row matches its digest.
    Run it inside the export's read transaction, so it checks exactly what is exported."""
    found = list(_mismatches(conn, history=False))
    if found:
        what, problem = found[0]
        more = f", and {len(found) - 1} more" if len(found) > 1 else ""
        raise DigestMismatchError(f"{what} {problem}{more}; nothing was exported")


# --- filling (schema migration; stores whose rows were edited on purpose) --------------
def fill_digests(cur: apsw.Cursor) -> None:
    """Compute every digest from the values stored now.

    What a schema migration runs on a store written before digests existed. It takes the
    stored values as the truth, so it is never run on a store that may be damaged
    without an explicit request.
    """
    columns = ", ".join(PATTERN_COLUMNS)
    patterns = cur.execute(f"SELECT {columns} FROM patterns").fetchall()
    locations = _location_digests(cur, [str(row[0]) for row in patterns])
    cur.executemany(
        "UPDATE patterns SET row_digest = ?, rows_digest = ? WHERE id = ?",
        [(digest(row), locations.get(str(row[0]), EMPTY_ROWS_DIGEST), row[0]) for row in patterns],
    )
    for table in ("pattern_variants", "pattern_examples", "pattern_history"):
        names = ", ".join(DIGESTED[table])
        rows = cur.execute(f"SELECT rowid, {names} FROM {table}").fetchall()
        cur.executemany(
            f"UPDATE {table} SET row_digest = ? WHERE rowid = ?",
            [(digest(row[1:]), row[0]) for row in rows],
        )
