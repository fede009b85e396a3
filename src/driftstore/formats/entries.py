"""Decoding pattern entries from outside JSON, keeping keys driftstore does not model.

Fast path: msgspec decodes straight into the structs (which forbid unknown fields). Only
an entry that carries unknown keys takes the slow path, where those keys are moved into
each level's `__extras__` slot so they survive a round trip.
"""

from __future__ import annotations

from operator import attrgetter
from typing import Any

import msgspec
from msgspec import UNSET

from driftstore.errors import InvalidInputError
from driftstore.formats.canonical import MAX_NESTING, nests_deeper_than
from driftstore.formats.text import json_problem
from driftstore.model.pattern import (
    EXTRAS_KEY,
    Confidence,
    Detector,
    DetectorConfig,
    Location,
    Metadata,
    Pattern,
)
from driftstore.model.validate import check_category, describe_validation_error, normalise_locations

_decoder = msgspec.json.Decoder(Pattern)
_any_decoder = msgspec.json.Decoder()


def _names(struct: type[msgspec.Struct]) -> frozenset[str]:
    return frozenset(f.encode_name for f in msgspec.structs.fields(struct))


_KNOWN: dict[type[msgspec.Struct], frozenset[str]] = {
    t: _names(t) for t in (Pattern, Detector, DetectorConfig, Confidence, Metadata, Location)
}
#: which nested keys hold which struct (lists of locations are handled item by item)
_CHILDREN: dict[type[msgspec.Struct], dict[str, type[msgspec.Struct]]] = {
    Pattern: {"detector": Detector, "confidence": Confidence, "metadata": Metadata},
    Detector: {"config": DetectorConfig},
}
_LISTS: dict[type[msgspec.Struct], dict[str, type[msgspec.Struct]]] = {
    Pattern: {"locations": Location, "outliers": Location},
}


def split_unknown(obj: Any, struct: type[msgspec.Struct]) -> Any:
    """Copy of `obj` with keys unknown to `struct` moved under `__extras__`, recursively."""
    if not isinstance(obj, dict):
        return obj
    known = _KNOWN[struct]
    out: dict[str, Any] = {}
    extras: dict[str, Any] = {}
    for key, value in obj.items():
        if key == EXTRAS_KEY or key not in known:
            extras[key] = value
            continue
        child = _CHILDREN.get(struct, {}).get(key)
        item = _LISTS.get(struct, {}).get(key)
        if child is not None:
            value = split_unknown(value, child)
        elif item is not None and isinstance(value, list):
            value = [split_unknown(v, item) for v in value]
        out[key] = value
    if extras:
        out[EXTRAS_KEY] = extras
    return out


def entry_from_builtins(obj: Any, *, where: str, category: str | None = None) -> Pattern:
    """A parsed JSON value -> validated Pattern (unknown keys kept)."""
    if not isinstance(obj, dict):
        raise InvalidInputError(f"{where}: expected a JSON object for a pattern entry")
    if category is not None and "category" not in obj:
        obj = {**obj, "category": category}
    try:
        p = msgspec.convert(split_unknown(obj, Pattern), Pattern)
    except msgspec.ValidationError as exc:
        pid = obj.get("id")
        label = f"{where} (id {pid!r})" if isinstance(pid, str) else where
        raise InvalidInputError(f"{label}: {describe_validation_error(exc)}") from None
    return _finish(p, where)


def decode_entry(
    raw: bytes | memoryview,
    *,
    where: str,
    category: str | None = None,
    clean_paths: set[str] | None = None,
) -> Pattern:
    """JSON bytes of one entry -> validated Pattern.

    `clean_paths`, shared across the entries of one scan, remembers paths already found
    to need no normalising, so each distinct path is checked once per scan.
    """
    try:
        p = _decoder.decode(raw)
    except msgspec.ValidationError as exc:
        text = str(exc)
        if "unknown field" in text or (category is not None and "`category`" in text):
            return entry_from_builtins(_decode_any(raw, where), where=where, category=category)
        raise InvalidInputError(f"{_label(raw, where)}: {describe_validation_error(exc)}") from None
    except (msgspec.DecodeError, UnicodeDecodeError) as exc:
        raise InvalidInputError(f"{where}: {json_problem(raw, exc)}") from None
    except RecursionError:
        raise InvalidInputError(f"{where}: {TOO_DEEP}") from None
    if not p.category and category is not None:
        p.category = category
    return _finish(p, where, clean_paths)


def _label(raw: bytes | memoryview, where: str) -> str:
    """`where (id 'x')` when the entry's id can be read, so a user can find the entry."""
    try:
        obj = _any_decoder.decode(raw)
    except (msgspec.DecodeError, UnicodeDecodeError, RecursionError):
        return where
    pid = obj.get("id") if isinstance(obj, dict) else None
    return f"{where} (id {pid!r})" if isinstance(pid, str) else where


def _decode_any(raw: bytes | memoryview, where: str) -> Any:
    try:
        return _any_decoder.decode(raw)
    except (msgspec.DecodeError, UnicodeDecodeError) as exc:
        raise InvalidInputError(f"{where}: {json_problem(raw, exc)}") from None
    except RecursionError:
        raise InvalidInputError(f"{where}: {TOO_DEEP}") from None


#: the one nesting limit for free-form values (unknown keys, custom metadata, variant
#: config): what a scan may hold is what export writes and import reads back
TOO_DEEP = f"a value nests deeper than {MAX_NESTING} levels; flatten it"
_extras = attrgetter("extras")


def check_nesting(p: Pattern, *, where: str) -> None:
    """Refuse free-form values nested deeper than MAX_NESTING (the writers recurse into
    them, so deeper input would fail later, on export)."""
    m = p.metadata
    for name, value in (
        ("entry", p.extras),
        ("detector", p.detector.extras),
        ("detector.config", p.detector.config.extras),
        ("confidence", p.confidence.extras),
        ("metadata", m.extras),
        ("metadata.custom", m.custom),
        ("metadata.version", m.version),
    ):
        if value is not UNSET and nests_deeper_than(value):
            raise InvalidInputError(f"{where}: {name}: {TOO_DEEP}")
    for name, items in (("locations", p.locations), ("outliers", p.outliers)):
        extras = list(map(_extras, items))
        if extras.count(UNSET) == len(extras):
            continue  # the common case, decided in C
        for index, value in enumerate(extras):
            if value is not UNSET and nests_deeper_than(value):
                raise InvalidInputError(f"{where}: {name}[{index}]: {TOO_DEEP}")


def _finish(p: Pattern, where: str, clean_paths: set[str] | None = None) -> Pattern:
    label = f"{where} (id {p.id!r})"
    check_nesting(p, where=label)
    if not p.category:
        raise InvalidInputError(
            f"{label}: category: missing; every scan entry must name its category"
        )
    check_category(p, where=label)
    if _paths_need_work(p, clean_paths):
        normalise_locations(p, where=label)
    return p


def _paths_need_work(p: Pattern, clean: set[str] | None = None) -> bool:
    """True when some location path must be normalised or refused.

    Checks each distinct path once (a scan repeats a file across many locations and
    patterns), with the same tests `normalise_locations` applies; only when one fails does
    the per-location pass run. Paths that pass are added to `clean`.
    """
    files = {loc.file for loc in p.locations}
    if p.outliers:
        files.update([loc.file for loc in p.outliers])
    if clean is not None:
        files = files - clean  # not -=, which walks all of `clean` for every entry
    for f in files:
        if (
            not f
            or "\\" in f
            or "//" in f
            or "/./" in f
            or ".." in f
            or f[0] == "/"
            or f.startswith("./")
            or (len(f) > 1 and f[1] == ":")
        ):
            return True
    if clean is not None:
        clean |= files
    return False
