"""Digests stored beside the data, so a value that changed on disk is noticed.

SQLite keeps no page checksums: a flipped bit inside a text or a number that no index
covers reads back as another valid value, and `PRAGMA integrity_check` passes. Every row
a user can be served therefore carries a digest written in the same statement (or the
same transaction) as the row, and `verify`, `export` and the reads of one pattern
recompute it from what is stored.

What is hashed (xxh3-64, 16 hex digits, of the msgpack encoding; any tool can recompute it):

- `patterns.row_digest`: the row's `PATTERN_COLUMNS` values, in that order, as one array;
- `patterns.rows_digest`: the pattern's location rows, `LOCATION_COLUMNS` each, ordered by
  id, as one array of arrays (every location and outlier column a user sees);
- `row_digest` of `pattern_variants`, `pattern_examples`, `pattern_history`: the row's
  columns but `id` and `row_digest`, in table order.

Values are hashed as SQLite hands them back: NULL as nil, INTEGER as int, REAL as float.
A write hashes the values it binds after applying each column's type affinity (an int
bound to a REAL column reads back as a float, -0.0 as 0.0), so both sides agree. Row ids
are not hashed: every table here has an index holding them, and the integrity check
compares each index with its table.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from itertools import groupby
from operator import itemgetter
from typing import Any

import apsw
import msgspec
import xxhash

from driftstore.engine.errors import StoredValueError
from driftstore.engine.rows import LOCATION_COLUMNS, PATTERN_COLUMNS

_pack = msgspec.msgpack.Encoder().encode
_xxh = xxhash.xxh3_64_hexdigest
_INT64 = 2**63

#: the columns each row digest covers, in order (table order, without id and row_digest)
VARIANT_COLUMNS = (
    "pattern_id",
    "scope",
    "scope_path",
    "severity_override",
    "enabled_override",
    "threshold_override",
    "config_override",
    "expires_at",
    "created_at",
)
EXAMPLE_COLUMNS = (
    "pattern_id",
    "file",
    "code",
    "line_start",
    "line_end",
    "is_positive",
    "created_at",
    "language",
)
HISTORY_COLUMNS = (
    "pattern_id",
    "action",
    "old_value",
    "new_value",
    "created_at",
    "changed_by",
    "reason",
)
#: table -> its digested columns
DIGESTED: dict[str, tuple[str, ...]] = {
    "patterns": PATTERN_COLUMNS,
    "pattern_locations": LOCATION_COLUMNS,
    "pattern_variants": VARIANT_COLUMNS,
    "pattern_examples": EXAMPLE_COLUMNS,
    "pattern_history": HISTORY_COLUMNS,
}

#: columns with REAL / INTEGER affinity (every other digested column is TEXT); a test
#: holds these equal to the schema's declared types
REAL_COLUMNS = frozenset(
    {
        "confidence_frequency",
        "confidence_consistency",
        "confidence_score",
        "confidence",
        "deviation_score",
        "threshold_override",
    }
)
INTEGER_COLUMNS = frozenset(
    {
        "confidence_age",
        "confidence_spread",
        "auto_fixable",
        "location_count",
        "outlier_count",
        "line",
        "column_num",
        "is_outlier",
        "list_kind",
        "outlier_key",
        "end_line",
        "end_column",
        "enabled_override",
        "line_start",
        "line_end",
        "is_positive",
    }
)


def _affinities(columns: tuple[str, ...]) -> tuple[tuple[int, bool], ...]:
    """(position, is REAL) of each numeric column."""
    return tuple(
        (i, name in REAL_COLUMNS)
        for i, name in enumerate(columns)
        if name in REAL_COLUMNS or name in INTEGER_COLUMNS
    )


_NUMERIC = {table: _affinities(columns) for table, columns in DIGESTED.items()}


class DigestMismatchError(StoredValueError):
    """Stored values that do not match the digest written with them: the file was damaged
    (or edited by hand). A subclass of StoredValueError, so every read and write reports
    it as damaged data, in one line, sending the user to verify and restore."""

    #: how `engine.errors.damaged` opens its message
    lead = "stored data changed after it was written"


# --- computing -------------------------------------------------------------------------
def digest(values: Sequence[Any]) -> str:
    """The digest of values exactly as SQLite returns them (a read, or normalised)."""
    return str(_xxh(_pack(values)))


def _stored_real(value: Any) -> Any:
    if value is None or isinstance(value, str | bytes):
        return value
    number = float(value)
    if number != number:  # NaN is stored as NULL
        return None
    return number + 0.0  # -0.0 -> 0.0


def _stored_integer(value: Any) -> Any:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, float):
        if value != value:
            return None
        if value.is_integer() and -_INT64 < value < _INT64:
            return int(value)
    return value


def as_stored(table: str, values: Sequence[Any]) -> list[Any]:
    """`values` bound to `table`'s digested columns, as SQLite will hand them back."""
    out = list(values)
    for index, real in _NUMERIC[table]:
        value = out[index]
        if value is None:
            continue
        if real:  # the common float passes untouched; 0.0 may be -0.0
            if type(value) is not float or value == 0.0 or value != value:
                out[index] = _stored_real(value)
        elif type(value) is not int:
            out[index] = _stored_integer(value)
    return out


def row_digest(table: str, values: Sequence[Any]) -> str:
    """Digest of a row about to be written with these bound values."""
    return digest(as_stored(table, values))


def rows_digest(rows: list[tuple[Any, ...]]) -> str:
    """Digest of a pattern's location rows (`LOCATION_COLUMNS` tuples, in id order), as
    `engine.rows.location_rows` builds them or SQLite returns them.

    Hot: a scan's million rows pass through here (~80 ms at size M), so the list is
    encoded in C once, with no normalising: `location_rows` already binds every value in
    its stored type (its floats pass through `+ 0.0`, which turns an int into a float, and
    -0.0, which SQLite stores as 0.0, into 0.0).
    """
    return str(_xxh(_pack(rows)))


EMPTY_ROWS_DIGEST = rows_digest([])


# --- checking one pattern or row (reads) -----------------------------------------------
#: the words every digest failure uses
MISMATCH = "the digest stored with"


def _mismatch(what: str, *, plural: bool = False) -> DigestMismatchError:
    verb, pronoun = ("do", "them") if plural else ("does", "it")
    return DigestMismatchError(f"{what} {verb} not match {MISMATCH} {pronoun}")


def check_pattern_row(row: Sequence[Any], stored: Any) -> None:
    """`row`: PATTERN_COLUMNS values as read; DigestMismatchError unless they match."""
    if stored is None or digest(row) != stored:
        raise _mismatch(f"pattern {row[0]!r}")


def check_rows(pattern_id: Any, rows: list[tuple[Any, ...]], stored: Any) -> None:
    """`rows`: the pattern's LOCATION_COLUMNS rows as read, in id order."""
    if stored is None or rows_digest(rows) != stored:
        raise _mismatch(f"the locations of pattern {pattern_id!r}", plural=True)


def check_row(table: str, row_id: Any, values: Sequence[Any], stored: Any) -> None:
    """A variant, example or history row as read (its digested columns)."""
    if stored is None or digest(values) != stored:
        raise _mismatch(f"{table} row {row_id}")


# --- checking everything (verify, export) ----------------------------------------------
_LOCATION_SELECT = ", ".join(LOCATION_COLUMNS)
_LOCATIONS_OF = f"SELECT {_LOCATION_SELECT} FROM pattern_locations WHERE pattern_id = ? ORDER BY id"
_first = itemgetter(0)
#: the one way a row's raw values fail to read (the digest check reads nothing else)
_NOT_UTF8 = "holds text that is not UTF-8"
_WAY_OUT = (
    "(damaged on disk, or changed outside driftstore); restore a backup with "
    "'driftstore backup restore ID'"
)


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
    another tool) is read again through its index. ~0.8 s for a million rows.
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
