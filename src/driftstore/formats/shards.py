"""driftstore's own v2 shard files: `.drift/patterns/{category}.json` (formats.md §2).

Top-level keys, in this order (the seed's PatternFile, plus the checksum rule at the end
so a reader that knows only the seed's shape still finds its keys first):
`version` "2.0.0", `category`, `patterns`, `lastUpdated`, `checksum`, `patternCount`,
`statusCounts` {discovered, approved, ignored}, `checksumAlgorithm` "xxh3-64/jcs".

Entry keys, in this order: `id, subcategory, name, description, status, detectionMethod,
detector, confidence, confidenceLevel, locations, outliers, metadata, severity,
autoFixable`, then `variants` and `examples` when the pattern has any, then unknown keys
kept from the input. Patterns are sorted by id; locations keep their stored order. Files
are 2-space indented with a final newline; numbers are written the ECMAScript way, so
the bytes depend only on the content.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

import msgspec
import xxhash
from msgspec import UNSET

from driftstore.errors import InvalidInputError
from driftstore.formats import shard_fast
from driftstore.formats.canonical import (
    canonical_encode,
    canonical_fast,
    es_decoder,
    es_float,
    es_ready,
    has_astral,
    pretty_es,
)
from driftstore.formats.checksum import V2_ALGORITHM, v2_checksum_of_array, v2_checksum_of_parts
from driftstore.formats.shard_entries import ImportedEntry as ImportedEntry
from driftstore.formats.shard_entries import check_nesting as check_nesting
from driftstore.formats.shard_entries import decode_v2_entries as decode_v2_entries
from driftstore.formats.text import json_problem
from driftstore.model.enums import CATEGORY_SET, Status
from driftstore.model.pattern import (
    Confidence,
    Detector,
    Location,
    Metadata,
    Pattern,
)
from driftstore.model.records import Example, Variant
from driftstore.model.validate import (
    describe_validation_error,
)

V2_VERSION = "2.0.0"
STATUS_KEYS = tuple(s.value for s in Status)


# --- writing ---------------------------------------------------------------------------
def _needs_es(value: float) -> bool:
    return value.is_integer() or -1e-5 < value < 1e-5 or not -1e21 < value < 1e21


def location_out(loc: Location, *, legacy_file: bool = False) -> Location | dict[str, Any]:
    """A location ready for msgspec: ES-safe numbers, unknown keys flattened in place.

    Most locations pass through untouched (msgspec encodes the struct itself, omitting
    absent keys); only one with unknown keys becomes a dict. `legacy_file` writes the
    path as the input spelled it (drift 0.9 files), else the normalised path plus
    `originalFile`.
    """
    if loc.extras is not UNSET and loc.extras:
        data: dict[str, Any] = msgspec.to_builtins(msgspec.structs.replace(loc, extras=UNSET))
        if legacy_file and "originalFile" in data:
            data["file"] = data.pop("originalFile")
        for key, value in loc.extras.items():
            data.setdefault(key, value)
        return es_ready(data)  # type: ignore[no-any-return]
    c, d = loc.confidence, loc.deviation_score
    fix_c = c is not UNSET and isinstance(c, float) and _needs_es(c)
    fix_d = d is not UNSET and isinstance(d, float) and _needs_es(d)
    swap = legacy_file and loc.original_file is not UNSET
    if fix_c or fix_d or swap:
        loc = msgspec.structs.replace(
            loc,
            confidence=es_float(c) if fix_c else c,  # type: ignore[arg-type]
            deviation_score=es_float(d) if fix_d else d,  # type: ignore[arg-type]
            file=loc.original_file if swap else loc.file,
            original_file=UNSET if swap else loc.original_file,
        )
    return loc


def _with_extras(data: dict[str, Any], extras: Any) -> dict[str, Any]:
    if extras is not UNSET and extras:
        for key, value in extras.items():
            data.setdefault(key, es_ready(value))
    return data


def _set(data: dict[str, Any], key: str, value: Any) -> None:
    if value is not UNSET:
        data[key] = es_ready(value)


def detector_out(det: Detector) -> dict[str, Any]:
    config = _with_extras(
        {"detectorId": det.config.detector_id, "patternId": det.config.pattern_id},
        det.config.extras,
    )
    return _with_extras({"type": det.type, "config": config}, det.extras)


def confidence_out(c: Confidence) -> dict[str, Any]:
    data: dict[str, Any] = {}
    _set(data, "frequency", c.frequency)
    _set(data, "consistency", c.consistency)
    _set(data, "age", c.age)
    _set(data, "spread", c.spread)
    data["score"] = es_ready(c.score)
    _set(data, "level", c.level)
    return _with_extras(data, c.extras)


def metadata_out(m: Metadata) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for key, value in (
        ("firstSeen", m.first_seen),
        ("lastSeen", m.last_seen),
        ("source", m.source),
        ("tags", m.tags),
        ("approvedAt", m.approved_at),
        ("approvedBy", m.approved_by),
        ("version", m.version),
        ("relatedPatterns", m.related_patterns),
        ("custom", m.custom),
    ):
        _set(data, key, value)
    return _with_extras(data, m.extras)


def variant_out(v: Variant) -> dict[str, Any]:
    data: dict[str, Any] = {"scope": v.scope.value}
    for key, value in (
        ("scopePath", v.scope_path),
        ("severityOverride", v.severity_override),
        ("enabledOverride", v.enabled_override),
        ("thresholdOverride", v.threshold_override),
        ("configOverride", v.config_override),
        ("expiresAt", v.expires_at),
        ("createdAt", v.created_at),
    ):
        if value is not None:
            data[key] = es_ready(value)
    return data


def example_out(e: Example) -> dict[str, Any]:
    data: dict[str, Any] = {"file": e.file, "code": e.code}
    if e.line_start is not None:
        data["lineStart"] = e.line_start
    if e.line_end is not None:
        data["lineEnd"] = e.line_end
    data["isPositive"] = e.is_positive
    if e.language is not None:
        data["language"] = e.language
    if e.created_at is not None:
        data["createdAt"] = e.created_at
    return data


def v2_entry(
    p: Pattern,
    variants: list[Variant] | None = None,
    examples: list[Example] | None = None,
    *,
    ready: tuple[list[Any], list[Any]] | None = None,
) -> dict[str, Any]:
    """The v2 entry of a pattern, ready for msgspec (see the module docstring for order).

    `ready` gives (locations, outliers) already in written form (`export_lists`), in
    place of `p.locations` and `p.outliers`.
    """
    locations, outliers = (
        ready
        if ready is not None
        else ([location_out(loc) for loc in p.locations], [location_out(loc) for loc in p.outliers])
    )
    entry: dict[str, Any] = {
        "id": p.id,
        "subcategory": p.subcategory,
        "name": p.name,
        "description": p.description,
        "status": p.status.value,
        "detectionMethod": p.method,
        "detector": detector_out(p.detector),
        "confidence": confidence_out(p.confidence),
        "confidenceLevel": p.level.value,
        "locations": locations,
        "outliers": outliers,
        "metadata": metadata_out(p.metadata),
        "severity": p.severity.value,
        "autoFixable": p.auto_fixable,
    }
    if variants:
        entry["variants"] = [variant_out(v) for v in variants]
    if examples:
        entry["examples"] = [example_out(e) for e in examples]
    return _with_extras(entry, p.extras)


def entries_checksum(entries: list[dict[str, Any]]) -> str:
    """The v2 checksum of entries whose floats are ES-safe: one canonical encoding of the
    whole array, or one per entry when a key could sort differently in UTF-16."""
    whole = canonical_encode(entries)
    if not has_astral(whole):
        return v2_checksum_of_array(whole)
    return v2_checksum_of_parts(canonical_fast(entry) for entry in entries)


def status_counts(statuses: list[str]) -> dict[str, int]:
    counts = dict.fromkeys(STATUS_KEYS, 0)
    for status in statuses:
        counts[status] = counts.get(status, 0) + 1
    return counts


def encode_v2_shard(
    category: str, entries: list[dict[str, Any]], *, last_updated: str, checksum: str
) -> bytes:
    document = {
        "version": V2_VERSION,
        "category": category,
        "patterns": entries,
        "lastUpdated": last_updated,
        "checksum": checksum,
        "patternCount": len(entries),
        "statusCounts": status_counts([e["status"] for e in entries]),
        "checksumAlgorithm": V2_ALGORITHM,
    }
    return pretty_es(document, final_newline=True)


# --- reading ---------------------------------------------------------------------------
class _Head(msgspec.Struct):
    version: str
    category: str
    patterns: list[msgspec.Raw]
    lastUpdated: str
    checksum: str
    patternCount: int | msgspec.UnsetType = UNSET
    statusCounts: dict[str, int] | msgspec.UnsetType = UNSET
    checksumAlgorithm: str | msgspec.UnsetType = UNSET


class _VersionOnly(msgspec.Struct):
    version: Any = None
    checksumAlgorithm: Any = None


_head_decoder = msgspec.json.Decoder(_Head)
_version_decoder = msgspec.json.Decoder(_VersionOnly)


@dataclass
class ShardFile:
    """A v2 shard as read: its header, what its checksum should be, and its raw entries
    (split out of the file's bytes when first asked for: verify never needs them)."""

    path: str
    category: str
    last_updated: str
    claimed: str
    computed: str
    data: bytes = field(repr=False)
    problems: list[str] = field(default_factory=list)
    _entries: list[msgspec.Raw] | None = field(default=None, repr=False)

    @property
    def checksum_ok(self) -> bool:
        return self.claimed == self.computed

    @property
    def entries(self) -> list[msgspec.Raw]:
        if self._entries is None:
            self._entries = _head_decoder.decode(self.data).patterns
        return self._entries


class _Checked(NamedTuple):
    """What reading a shard's bytes gives, all of it a function of the bytes alone."""

    category: str
    last_updated: str
    claimed: str
    computed: str
    problems: tuple[str, ...]


#: read results by the xxh3-128 of a file's bytes: the same bytes always read the same, so
#: an import and a verify in one process decode and re-encode each shard once (a checksum
#: pass is ~1 s at size M; hashing the bytes ~10 ms)
_CHECKED: dict[bytes, _Checked] = {}
_CHECKED_MAX = 256
_checked_lock = threading.Lock()


def _remember(key: bytes, checked: _Checked) -> None:
    with _checked_lock:  # the oldest goes first
        while len(_CHECKED) >= _CHECKED_MAX:
            del _CHECKED[next(iter(_CHECKED))]
        _CHECKED[key] = checked


def is_v2_shard(data: bytes) -> bool:
    """True for a file driftstore wrote (version 2.0.0 and our checksum rule)."""
    if xxhash.xxh3_128_digest(data) in _CHECKED:
        return True
    try:
        head = _version_decoder.decode(data)
    except (msgspec.DecodeError, msgspec.ValidationError, UnicodeDecodeError, RecursionError):
        return False
    return bool(head.version == V2_VERSION and head.checksumAlgorithm == V2_ALGORITHM)


def _head(data: bytes, path: str) -> _Head:
    """The shard's header and raw entries; InvalidInputError naming what is wrong.

    One pass over the file when it is a shard; the slower probe only runs to name the
    problem of a file that is not one (in the order: JSON, version, algorithm, shape).
    """
    try:
        head = _head_decoder.decode(data)
    except (msgspec.DecodeError, msgspec.ValidationError, UnicodeDecodeError, RecursionError):
        head = None
    probe: Any = head
    if head is None:
        try:
            probe = _version_decoder.decode(data)
        except msgspec.ValidationError:
            raise InvalidInputError(
                f"{path}: not a shard (expected a JSON object with version, category, patterns)"
            ) from None
        except (msgspec.DecodeError, UnicodeDecodeError, RecursionError) as exc:
            raise InvalidInputError(
                f"{path}: not valid JSON: {json_problem(data, exc)}; the file is damaged or "
                "truncated — re-export it"
            ) from None
    version, algorithm = probe.version, probe.checksumAlgorithm
    if version != V2_VERSION:
        raise InvalidInputError(
            f"{path}: version {version!r} is not a driftstore v2 shard (expected "
            f"{V2_VERSION!r}); drift 0.9 folders are read by 'driftstore migrate'"
        )
    if algorithm != V2_ALGORITHM:
        algorithm = None if algorithm is UNSET else algorithm
        raise InvalidInputError(
            f"{path}: checksumAlgorithm {algorithm!r} is not {V2_ALGORITHM!r}, "
            "so this is not a driftstore export (drift's own 2.0.0 shards are read by "
            "'driftstore migrate')"
        )
    if head is None:
        try:
            return _head_decoder.decode(data)
        except msgspec.ValidationError as exc:
            raise InvalidInputError(f"{path}: {describe_validation_error(exc)}") from None
        except RecursionError as exc:
            raise InvalidInputError(f"{path}: not valid JSON ({exc})") from None
    return head


def read_v2_shard(data: bytes, *, path: str, expected_category: str | None) -> ShardFile:
    """Check a shard's shape and compute its checksum; InvalidInputError on a bad file.

    The checksum is not enforced here: the caller decides (import refuses, verify lists).
    """
    key = xxhash.xxh3_128_digest(data)
    known = _CHECKED.get(key)
    entries = None
    if known is None:
        head = _head(data, path)
        _check_category(head.category, path, expected_category)
        computed, problems = _check_entries(head, path)
        known = _Checked(head.category, head.lastUpdated, head.checksum, computed, problems)
        _remember(key, known)
        entries = head.patterns
    else:
        _check_category(known.category, path, expected_category)
    return ShardFile(
        path=path,
        category=known.category,
        last_updated=known.last_updated,
        claimed=known.claimed,
        computed=known.computed,
        data=data,
        problems=list(known.problems),
        _entries=entries,
    )


def _check_category(category: str, path: str, expected: str | None) -> None:
    if category not in CATEGORY_SET:
        raise InvalidInputError(
            f"{path}: category {category!r} is not one of drift's categories "
            f"({', '.join(sorted(CATEGORY_SET))})"
        )
    if expected is not None and category != expected:
        raise InvalidInputError(
            f"{path}: the file says category {category!r} but is named "
            f"{expected}.json; rename the file or fix its category"
        )


def _check_entries(head: _Head, path: str) -> tuple[str, tuple[str, ...]]:
    """(checksum of the entries, problems of the header's counts): the costly part of
    reading a shard, a function of the file's bytes alone."""
    statuses: list[str] = []
    parts: list[bytes] = []
    for index, raw in enumerate(head.patterns):
        fast = shard_fast.canonical_entry(raw)
        if fast is None:
            part, status = _canonical_entry(raw, where=f"{path}: patterns[{index}]")
        else:
            part, status = fast
        statuses.append(status if isinstance(status, str) else "")
        parts.append(part)
    problems = []
    if head.patternCount is not UNSET and head.patternCount != len(head.patterns):
        problems.append(
            f"patternCount says {head.patternCount} but the file holds {len(head.patterns)}"
        )
    if head.statusCounts is not UNSET and head.statusCounts != status_counts(statuses):
        problems.append(
            f"statusCounts {head.statusCounts} do not match the entries ({status_counts(statuses)})"
        )
    return v2_checksum_of_parts(parts), tuple(problems)


def _canonical_entry(raw: msgspec.Raw, *, where: str) -> tuple[bytes, Any]:
    """(canonical JSON, status) of an entry by the general path; InvalidInputError if bad."""
    try:
        value = es_decoder.decode(raw)
    except (msgspec.DecodeError, ValueError, RecursionError) as exc:
        raise InvalidInputError(f"{where}: {exc}") from None
    if not isinstance(value, dict):
        raise InvalidInputError(f"{where}: expected an object")
    return canonical_fast(value), value.get("status")


def shard_path(patterns_dir: Path, category: str) -> Path:
    return patterns_dir / f"{category}.json"
