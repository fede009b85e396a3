"""drift 0.9's files (formats.md §1): finding them and reading every shape.

Reading turns each legacy entry into a Pattern plus a *layout*: the small JSON record
(kept in `patterns.layout`) of what the model does not hold, so a v1 re-export
(`formats.legacy_write`) gives the entry back key for key:

    {"v": 1, "src": "status" | "unified" | "lake", "shape": "A" | "B", "pos": 3,
     "keys": [entry keys in order], "detector": [...], "config": [...],
     "confidence": [...], "metadata": [...], "loc": [...], "out": [...],
     "patch": {"key": [hash of what the model renders, original value]}}

`keys`/`detector`/... are key orders; `loc`/`out` are one order that fits every location
of that list. `patch` is the safety net for anything the model cannot say (a stale
`metadata.lastSeen` beside a newer top-level one, conflicting key orders, ...): the
original value is written instead of the rendered one only while the model still renders
exactly what it rendered at migration, so a later change (an approval) is never hidden.
`pos` is the entry's index in its file, so files come back in their order.

Shapes: A1/A2/A3 (object `confidence`), flavour B (numeric `confidence` plus
`confidenceLevel`, `detectorId`, `detectorName`, `detectionMethod`, top-level
`firstSeen`/`lastSeen`/`tags`/`approvedAt`/`approvedBy`), drift's unified "2.0.0" shards
(B entries with `status`), and lake shards (no detector: one is synthesised as
`{"type": "unknown", "config": {"detectorId": "{category}/{subcategory}", "patternId": id}}`).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import msgspec

from driftstore.errors import InvalidInputError
from driftstore.formats.canonical import (
    compact_es,
    es_decoder,
    nests_deeper_than,
)
from driftstore.formats.checksum import legacy_checksum_of_bytes, unified_checksum
from driftstore.formats.entries import check_nesting, entry_from_builtins
from driftstore.formats.shards import V2_VERSION, is_v2_shard
from driftstore.formats.text import json_problem
from driftstore.model.enums import CATEGORY_SET, Status
from driftstore.model.pattern import Pattern

LEGACY_VERSION = "1.0.0"
STATUS_DIRS: tuple[str, ...] = tuple(s.value for s in Status)
BACKUPS_DIR = ".backups"
FILE_KEYS = ("version", "category", "patterns", "lastUpdated", "checksum")
B_META_KEYS = ("firstSeen", "lastSeen", "tags", "approvedAt", "approvedBy")
META_FIELDS = {
    "firstSeen": "first_seen",
    "lastSeen": "last_seen",
    "source": "source",
    "tags": "tags",
    "approvedAt": "approved_at",
    "approvedBy": "approved_by",
    "version": "version",
    "relatedPatterns": "related_patterns",
    "custom": "custom",
}
LOC_FIELDS = {
    "file": "file",
    "line": "line",
    "column": "column",
    "endLine": "end_line",
    "endColumn": "end_column",
    "isOutlier": "is_outlier",
    "confidence": "confidence",
    "outlierReason": "outlier_reason",
    "reason": "reason",
    "deviationScore": "deviation_score",
    "snippet": "snippet",
}

_plain_decoder = msgspec.json.Decoder()


# --- finding the files -----------------------------------------------------------------
@dataclass(frozen=True)
class LegacySource:
    path: Path
    kind: str  # "status" | "unified" | "lake"
    category: str
    status: str | None = None


@dataclass
class LegacyTree:
    files: list[LegacySource] = field(default_factory=list)
    skipped: list[tuple[Path, str]] = field(default_factory=list)


def _category_of(path: Path) -> str:
    category = path.stem
    if category not in CATEGORY_SET:
        raise InvalidInputError(
            f"{path}: {category!r} is not one of drift's categories "
            f"({', '.join(sorted(CATEGORY_SET))}); move the file aside to migrate the rest"
        )
    return category


def discover(drift_dir: Path) -> LegacyTree:
    """Every live drift 0.9 pattern file under `drift_dir`, and what is left alone and why."""
    tree = LegacyTree()
    patterns_dir = drift_dir / "patterns"
    if patterns_dir.is_dir():
        for child in sorted(patterns_dir.iterdir()):
            if child.is_symlink():
                tree.skipped.append((child, "symbolic link (not followed)"))
            elif child.is_dir() and child.name in STATUS_DIRS:
                _discover_status_dir(child, tree)
            elif child.is_dir():
                tree.skipped.append((child, "not a drift status folder"))
            elif child.suffix != ".json":
                tree.skipped.append((child, "not a pattern file"))
            else:
                data = child.read_bytes()
                if is_v2_shard(data):
                    tree.skipped.append(
                        (child, "driftstore v2 export (load it with 'driftstore import')")
                    )
                else:
                    tree.files.append(LegacySource(child, "unified", _category_of(child)))
    lake_dir = drift_dir / "lake" / "patterns"
    if lake_dir.is_dir():
        for child in sorted(lake_dir.iterdir()):
            if child.is_symlink():
                tree.skipped.append((child, "symbolic link (not followed)"))
            elif child.is_file() and child.suffix == ".json":
                tree.files.append(LegacySource(child, "lake", _category_of(child)))
            else:
                tree.skipped.append((child, "not a lake pattern shard"))
    return tree


def _discover_status_dir(folder: Path, tree: LegacyTree) -> None:
    for child in sorted(folder.iterdir()):
        if child.name == BACKUPS_DIR:
            tree.skipped.append((child, "per-file backup copies: history, not live data"))
        elif child.is_symlink():
            tree.skipped.append((child, "symbolic link (not followed)"))
        elif child.is_file() and child.suffix == ".json":
            tree.files.append(
                LegacySource(child, "status", _category_of(child), status=folder.name)
            )
        else:
            tree.skipped.append((child, "not a pattern file"))


# --- reading a file --------------------------------------------------------------------
@dataclass
class LegacyFile:
    """One legacy file as read: plain entries (for the model) and ES-spelled ones (for
    checksums and faithful comparison), with the checksum it claims and the one it has."""

    source: LegacySource
    where: str
    entries: list[Any]
    es_entries: list[Any]
    claimed: str | None
    computed: str
    last_updated: str | None
    file_layout: dict[str, Any] | None

    @property
    def checksum_ok(self) -> bool:
        return self.claimed == self.computed


def read_legacy_file(data: bytes, source: LegacySource, *, where: str) -> LegacyFile:
    """Parse and checksum one file; InvalidInputError (naming the file) if it is unusable."""
    data = data.removeprefix(b"\xef\xbb\xbf")
    try:
        plain = _plain_decoder.decode(data)
        es = es_decoder.decode(data)
    except (msgspec.DecodeError, ValueError, RecursionError) as exc:
        raise InvalidInputError(
            f"{where}: not valid JSON: {json_problem(data, exc)}; the file is damaged or truncated"
        ) from None
    if not isinstance(plain, dict) or not isinstance(plain.get("patterns"), list):
        raise InvalidInputError(
            f"{where}: not a drift pattern file (expected an object with a 'patterns' array)"
        )
    expected = V2_VERSION if source.kind == "unified" else LEGACY_VERSION
    version = plain.get("version")
    if version != expected:
        raise InvalidInputError(
            f"{where}: version {version!r} where drift 0.9 writes {expected!r}; this is not a "
            "file driftstore can migrate"
        )
    entries, es_entries = plain["patterns"], es["patterns"]
    for index, entry in enumerate(entries):
        if not isinstance(entry, dict):
            raise InvalidInputError(f"{where}: patterns[{index}]: expected an object")
    if source.kind == "unified":
        computed = unified_checksum(str(e.get("id")) for e in entries)
    else:
        computed = legacy_checksum_of_bytes(compact_es(es_entries))
    claimed = plain.get("checksum")
    stamp = plain.get("lastUpdated", plain.get("generatedAt"))
    return LegacyFile(
        source=source,
        where=where,
        entries=entries,
        es_entries=es_entries,
        claimed=claimed if isinstance(claimed, str) else None,
        computed=computed,
        last_updated=stamp if isinstance(stamp, str) else None,
        file_layout=_file_layout(es, source.category, where) if source.kind == "status" else None,
    )


def _file_layout(doc: dict[str, Any], category: str, where: str) -> dict[str, Any] | None:
    """Top-level keys beyond the usual five (or in another order), kept for re-export."""
    keys = list(doc)
    values = {k: v for k, v in doc.items() if k not in ("patterns", "lastUpdated", "checksum")}
    if nests_deeper_than(values):
        raise InvalidInputError(f"{where}: a top-level value nests too deep; flatten it")
    if tuple(keys) == FILE_KEYS and values == {"version": LEGACY_VERSION, "category": category}:
        return None
    return {"keys": keys, "values": plain_json(values)}


def plain_json(value: Any) -> Any:
    """ES-decoded data back to plain JSON values (Raw numbers -> int/float)."""
    return _plain_decoder.decode(compact_es(value))


# --- entries -> model ------------------------------------------------------------------
def merged_order(sequences: Iterable[Sequence[str]]) -> list[str] | None:
    """One key order consistent with every sequence, or None if they contradict."""
    distinct = list(dict.fromkeys(tuple(s) for s in sequences))
    if not distinct:
        return None
    if len(distinct) == 1:
        return list(distinct[0])
    nodes = list(dict.fromkeys(key for seq in distinct for key in seq))
    rank = {key: i for i, key in enumerate(nodes)}
    after: dict[str, set[str]] = {key: set() for key in nodes}
    pending = dict.fromkeys(nodes, 0)
    for seq in distinct:
        for a, b in itertools.pairwise(seq):
            if b not in after[a]:
                after[a].add(b)
                pending[b] += 1
    ready = [key for key in nodes if pending[key] == 0]
    order: list[str] = []
    while ready:
        ready.sort(key=rank.__getitem__)
        key = ready.pop(0)
        order.append(key)
        for nxt in after[key]:
            pending[nxt] -= 1
            if pending[nxt] == 0:
                ready.append(nxt)
    return order if len(order) == len(nodes) else None


def _keys_of(value: Any) -> list[str] | None:
    return list(value) if isinstance(value, dict) else None


def _location_order(items: Any) -> list[str] | None:
    if not isinstance(items, list):
        return None
    return merged_order(tuple(item) for item in items if isinstance(item, dict))


def is_flavour_b(entry: dict[str, Any]) -> bool:
    confidence = entry.get("confidence")
    return isinstance(confidence, int | float) and not isinstance(confidence, bool)


def _b_to_model(entry: dict[str, Any], category: str) -> dict[str, Any]:
    """A flavour-B entry in the model's (A-like) shape; unknown keys ride along."""
    data: dict[str, Any] = {}
    raw_meta = entry.get("metadata")
    meta = dict(raw_meta) if isinstance(raw_meta, dict) else {}
    for key, value in entry.items():
        if key == "confidence":
            data["confidence"] = {"score": value}
        elif key in B_META_KEYS:
            meta[key] = value  # the top-level value is the one drift kept current
        elif key in ("metadata", "detector", "detectorId"):
            continue
        else:
            data[key] = value
    if "confidenceLevel" in entry:
        data["confidence"]["level"] = entry["confidenceLevel"]
    raw_det = entry.get("detector")
    detector = dict(raw_det) if isinstance(raw_det, dict) else {}
    raw_config = detector.get("config")
    config = dict(raw_config) if isinstance(raw_config, dict) else {}
    detector_id = entry.get("detectorId")
    if not isinstance(detector_id, str) or not detector_id:
        detector_id = f"{category}/{entry.get('subcategory', 'unknown')}"
    config.setdefault("detectorId", detector_id)
    config.setdefault("patternId", config["detectorId"])
    kind = detector.get("type")
    if not isinstance(kind, str) or not kind:
        method = entry.get("detectionMethod")
        kind = method if isinstance(method, str) and method else "unknown"
    detector.update(type=kind, config=config)
    data["detector"] = detector
    data["metadata"] = meta
    return data


def _lake_to_model(entry: dict[str, Any], category: str) -> dict[str, Any]:
    data = dict(entry)
    data.pop("status", None)
    pid = entry.get("id")
    data["detector"] = {
        "type": "unknown",
        "config": {
            "detectorId": f"{category}/{entry.get('subcategory', 'unknown')}",
            "patternId": pid if isinstance(pid, str) and pid else "unknown",
        },
    }
    return data


def _entry_status(entry: dict[str, Any], where: str) -> Status:
    value = entry.get("status", Status.DISCOVERED.value)
    try:
        return Status(value)
    except ValueError:
        raise InvalidInputError(
            f"{where}: status: {value!r} is not one of discovered, approved, ignored"
        ) from None


def legacy_entry(
    entry: dict[str, Any], source: LegacySource, *, where: str, pos: int
) -> tuple[Pattern, dict[str, Any]]:
    """One legacy entry -> (validated Pattern, layout without its patch)."""
    pid = entry.get("id")
    label = f"{where} (pattern {pid!r})" if isinstance(pid, str) else where
    if source.kind == "status":
        assert source.status is not None
        status = Status(source.status)
    else:
        status = _entry_status(entry, label)
    layout: dict[str, Any] = {"v": 1, "src": source.kind}
    if source.kind == "lake":
        if is_flavour_b(entry):
            data = _b_to_model(entry, source.category)
            data.pop("status", None)
        else:
            data = _lake_to_model(entry, source.category)
    else:
        shape = "B" if is_flavour_b(entry) else "A"
        data = _b_to_model(entry, source.category) if shape == "B" else dict(entry)
        keys = [k for k in entry if not (source.kind == "unified" and k == "status")]
        layout.update(shape=shape, pos=pos, keys=keys)
        detector = entry.get("detector")
        for name, order in (
            ("detector", _keys_of(detector)),
            ("config", _keys_of(detector.get("config")) if isinstance(detector, dict) else None),
            ("confidence", _keys_of(entry.get("confidence"))),
            ("metadata", _keys_of(entry.get("metadata"))),
            ("loc", _location_order(entry.get("locations"))),
            ("out", _location_order(entry.get("outliers"))),
        ):
            if order is not None:
                layout[name] = order
    data["category"] = source.category
    data["status"] = status.value
    pattern = entry_from_builtins(data, where=label)
    check_nesting(pattern, where=label)
    return pattern, layout
