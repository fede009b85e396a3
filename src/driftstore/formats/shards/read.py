"""Reading v2 shards: the header checked, the checksum computed, the raw entries kept
(decoded by `shards.entries` when an import wants them)."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import msgspec
import xxhash
from msgspec import UNSET

from driftstore.errors import InvalidInputError
from driftstore.formats.canonical import (
    canonical_fast,
    es_decoder,
)
from driftstore.formats.checksum import V2_ALGORITHM, v2_checksum_of_parts
from driftstore.formats.shards.fast import canonical_entry
from driftstore.formats.shards.layout import V2_VERSION, status_counts
from driftstore.formats.text import json_problem
from driftstore.model.enums import CATEGORY_SET
from driftstore.model.validate import (
    describe_validation_error,
)


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
        fast = canonical_entry(raw)
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
