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

from collections.abc import Sequence
from typing import Any, NamedTuple

import msgspec
import xxhash

from driftstore.engine.damage import StoredValueError
from driftstore.engine.rows import LOCATION_COLUMNS, PATTERN_COLUMNS
from driftstore.errors import IntegrityError, Remedy

_pack = msgspec.msgpack.Encoder().encode
_LOCATION_COUNT = PATTERN_COLUMNS.index("location_count")
_OUTLIER_COUNT = PATTERN_COLUMNS.index("outlier_count")
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


class DigestMismatchError(StoredValueError, IntegrityError):
    """Stored values that do not match the digest written with them: the file was damaged
    (or edited by hand). An IntegrityError where it is raised (inside a unit of work too),
    and a StoredValueError, so the unit of work reports it as damaged data, in one line,
    sending the user to verify and restore."""

    def __init__(self, message: str) -> None:
        IntegrityError.__init__(self, message, remedy=Remedy.RESTORE_BACKUP)

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

    Hot: a scan's million rows pass through here (benchmarks/NOTES.md), so the list is
    encoded in C once, with no normalising: `location_rows` already binds every value in
    its stored type (its floats pass through `+ 0.0`, which turns an int into a float, and
    -0.0, which SQLite stores as 0.0, into 0.0).
    """
    return str(_xxh(_pack(rows)))


EMPTY_ROWS_DIGEST = rows_digest([])


class LocationSummary(NamedTuple):
    """A stored pattern's locations as a history snapshot summarises them (`model.digest.
    snapshot`): their hash and counts, known without reading the rows back."""

    hash: str
    locations: int
    outliers: int


def location_summary(locations_hash: str | None, row: Sequence[Any], rows: str) -> str | None:
    """What `patterns.locations_summary` holds once a pattern's rows (digest `rows`) are
    written beside its row (`PATTERN_COLUMNS` values, which count them): the summary,
    tied to those rows (None without a hash)."""
    if locations_hash is None:
        return None
    return f"{locations_hash} {row[_LOCATION_COUNT]} {row[_OUTLIER_COUNT]} {rows}"


def _count(text: str) -> bool:
    return text.isascii() and text.isdigit()


def read_location_summary(text: str | None, rows: str | None) -> LocationSummary | None:
    """The stored summary while the rows are still the ones it was made from (any later
    write of them, or damage, changed their digest), else None."""
    if not text or not rows:
        return None
    parts = text.split(" ")
    if len(parts) != 4 or parts[3] != rows or not all(_count(x) for x in parts[1:3]):
        return None
    return LocationSummary(parts[0], int(parts[1]), int(parts[2]))


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
