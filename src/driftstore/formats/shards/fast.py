"""Fast paths of the v2 shard reader and writer, each giving exactly what the general path
in `shards` gives, and handing anything unusual back to it.

A million locations pass through export, import and verify, so the common row must cost no
Python code: SQL rows become writer structs through `starmap` (export), and entries decode
into typed structs in C (the checksum pass and the import pass). Whatever these paths cannot
prove they write or read exactly as the general path does (unknown keys, numbers JavaScript
spells differently, odd stored values) goes back to the general path: answers None or a
NEEDS_* marker.
"""

from __future__ import annotations

from collections import deque
from itertools import repeat
from operator import attrgetter, truth
from typing import Any

import msgspec
from msgspec import UNSET, UnsetType

from driftstore.formats.canonical import canonical_encode, es_float, es_float_hook, has_astral
from driftstore.model.pattern import Pattern


# --- export: stored rows -> written locations ------------------------------------------
class LeanLocation(msgspec.Struct, rename="camel", omit_defaults=True, gc=False):
    """A stored location as the v2 writer writes it, built straight from a SQL row
    (`engine.exchange.LEAN_COLUMNS`, same order), for rows with none of the columns only
    `ExportLocation` has. None is an absent key, so it encodes exactly as
    `shards.location_out` of the same Location. `flag` is the writer's (see
    `export_lists`) and is never written.

    Scalars only, so no reference cycle is possible: `gc=False` spares the collector a
    million objects to scan.
    """

    file: str
    line: int
    column: int
    is_outlier: Any = None
    confidence: Any = None
    outlier_reason: Any = None
    reason: Any = None
    deviation_score: Any = None
    original_file: Any = None
    flag: Any = None


class ExportLocation(msgspec.Struct, rename="camel", omit_defaults=True, gc=False):
    """`LeanLocation` with every column (`engine.exchange.FULL_COLUMNS`)."""

    file: str
    line: int
    column: int
    end_line: Any = None
    end_column: Any = None
    is_outlier: Any = None
    confidence: Any = None
    outlier_reason: Any = None
    reason: Any = None
    deviation_score: Any = None
    snippet: Any = None
    original_file: Any = None
    flag: Any = None


#: bits of a row's `flag` (`engine.exchange`): in the outliers list, has a column only
#: ExportLocation holds, needs the general path
FLAG_OUTLIERS, FLAG_FULL, FLAG_GENERAL = 1, 2, 4
#: what `export_lists` answers when rows need more than they hold
NEEDS_FULL_ROWS = "full"
NEEDS_GENERAL_PATH = "general"
_flag = attrgetter("flag")
_outlier_key = attrgetter("is_outlier")


def export_lists(rows: list[Any]) -> tuple[list[Any], list[Any]] | str:
    """(locations, outliers) ready to encode from LeanLocation or ExportLocation rows, or
    what the caller must do first: fetch ExportLocation rows (NEEDS_FULL_ROWS, lean rows
    only) or take the general Location path (NEEDS_GENERAL_PATH).

    The checks run in C (`map` over attribute getters); Python touches single rows only to
    turn a stored 0/1 into JSON's false/true and to split off an outliers list.
    """
    flags = set(map(_flag, rows))
    flags.discard(None)
    bits = 0
    for flag in flags:
        bits |= flag
    if bits & FLAG_GENERAL:
        return NEEDS_GENERAL_PATH
    if bits & FLAG_FULL and isinstance(rows[0], LeanLocation):
        return NEEDS_FULL_ROWS
    keys = list(map(_outlier_key, rows))
    absent = keys.count(None)
    if not absent:  # drift's usual shape: every location says isOutlier; set in C
        deque(map(setattr, rows, repeat("is_outlier"), map(truth, keys)), maxlen=0)
    elif absent != len(keys):
        for row in rows:
            if row.is_outlier is not None:
                row.is_outlier = bool(row.is_outlier)
    if not bits:
        return rows, []
    locations: list[Any] = []
    outliers: list[Any] = []
    for row in rows:
        if row.flag is not None and row.flag & FLAG_OUTLIERS:
            outliers.append(row)
        else:
            locations.append(row)
        row.flag = None
    return locations, outliers


# --- the checksum pass: raw entry -> canonical JSON -------------------------------------
class _CheckLocation(
    msgspec.Struct,
    rename="camel",
    omit_defaults=True,
    forbid_unknown_fields=True,
    kw_only=True,
    gc=False,
):
    """A location exactly as a shard holds it (every key typed, none may be null), so the
    checksum pass decodes it without building a dict.

    Fields are declared in the canonical (sorted JSON name) order, so the sorted encoding
    of a million of them needs no per-object sort (~2x faster)."""

    column: int
    confidence: float | UnsetType = UNSET
    deviation_score: float | UnsetType = UNSET
    end_column: int | UnsetType = UNSET
    end_line: int | UnsetType = UNSET
    file: str
    is_outlier: bool | UnsetType = UNSET
    line: int
    original_file: str | UnsetType = UNSET
    outlier_reason: str | UnsetType = UNSET
    reason: str | UnsetType = UNSET
    snippet: str | UnsetType = UNSET


class _CheckEntry(msgspec.Struct, rename="camel", omit_defaults=True, forbid_unknown_fields=True):
    """A v2 entry with its location lists typed and every other key kept as it parsed
    (fields in canonical order, as `_CheckLocation`)."""

    auto_fixable: Any = UNSET
    confidence: Any = UNSET
    confidence_level: Any = UNSET
    description: Any = UNSET
    detection_method: Any = UNSET
    detector: Any = UNSET
    examples: Any = UNSET
    id: Any = UNSET
    locations: list[_CheckLocation] | UnsetType = UNSET
    metadata: Any = UNSET
    name: Any = UNSET
    outliers: list[_CheckLocation] | UnsetType = UNSET
    severity: Any = UNSET
    status: Any = UNSET
    subcategory: Any = UNSET
    variants: Any = UNSET


#: untyped values get ES-safe floats from the hook; the typed location floats are checked
#: after decoding (`_es_safe_locations`)
_check_decoder = msgspec.json.Decoder(_CheckEntry, float_hook=es_float_hook)
_confidence = attrgetter("confidence")
_deviation = attrgetter("deviation_score")
#: typed floats in this range, not integral, are written by msgspec as JavaScript would;
#: 1e15 also keeps out floats that were integers too big for a double
_SAFE_LOW, _SAFE_HIGH = 1e-4, 1e15


def _es_safe_locations(items: list[_CheckLocation]) -> bool:
    """Make the typed floats of `items` ES-safe in place; False when one may have lost
    precision (the general path must decide)."""
    for field, get in (("confidence", _confidence), ("deviation_score", _deviation)):
        values = set(map(get, items))
        values.discard(UNSET)
        odd = {v for v in values if not _SAFE_LOW <= abs(v) < _SAFE_HIGH or v.is_integer()}
        if not odd:
            continue
        if any(abs(v) >= _SAFE_HIGH for v in odd):
            return False
        for item in items:
            value = getattr(item, field)
            if value in odd:
                setattr(item, field, es_float(value))
    return True


def canonical_entry(raw: bytes | msgspec.Raw) -> tuple[bytes, Any] | None:
    """(RFC 8785 JSON, status) of one shard entry, or None for the general path."""
    try:
        entry = _check_decoder.decode(raw)
    except (msgspec.DecodeError, msgspec.ValidationError, ValueError, RecursionError):
        return None
    for items in (entry.locations, entry.outliers):
        if items is not UNSET and not _es_safe_locations(items):
            return None
    encoded = canonical_encode(entry)
    if has_astral(encoded):
        return None
    return encoded, entry.status


# --- the import pass: raw entry -> Pattern ----------------------------------------------
class _ImportEntry(Pattern, kw_only=True):
    """A Pattern as a shard entry holds it: `category` is absent unless the entry names
    one, and variants and examples ride along untyped (checked by the caller)."""

    category: str | UnsetType = UNSET  # type: ignore[assignment]
    variants: Any = None
    examples: Any = None


_import_decoder = msgspec.json.Decoder(_ImportEntry)
_PATTERN_FIELDS = Pattern.__struct_fields__


def decode_pattern(raw: bytes | msgspec.Raw, category: str) -> tuple[Pattern, Any, Any] | None:
    """(pattern, raw variants, raw examples) of an entry of a `category` shard, decoded in
    C, or None for the general path (any error, or an entry naming another category)."""
    try:
        entry = _import_decoder.decode(raw)
    except (msgspec.DecodeError, msgspec.ValidationError, UnicodeDecodeError, RecursionError):
        return None
    if entry.category is not UNSET and entry.category != category:
        return None
    entry.category = category
    pattern = Pattern(**{name: getattr(entry, name) for name in _PATTERN_FIELDS})
    return pattern, entry.variants, entry.examples
