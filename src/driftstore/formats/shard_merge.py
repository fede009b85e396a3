"""Three-way merges of driftstore's git files: v2 shards by pattern id, index files by key.

Git hands a merge driver three versions of a file (the common ancestor, ours, theirs). For a
v2 shard the unit is the pattern:

- a pattern changed on one side only takes that side's version; changes to different
  patterns never conflict;
- a pattern changed on both sides is merged field by field: a field changed on one side
  takes that change; `status` follows the user's decision (approved or ignored wins over
  discovered, and approvedAt/approvedBy come with it); firstSeen takes the earlier time,
  lastSeen the later; any other field both sides changed differently (two scans) takes the
  version of the side that saw the pattern last (its lastSeen); left at a tie, it conflicts;
- a pattern deleted on one side and changed on the other is kept as changed (nothing a
  user decided is dropped by a merge);
- a true conflict is two different decisions (one side approved, the other ignored): the
  file is written with that pattern's two versions between git-style markers, naming the
  pattern and the two decisions, and the merge reports it (git then stops for the user).

The merged shard is written the way `export` writes it: patterns sorted by id, counts and
checksum recomputed, `lastUpdated` the later of the two sides, so merging is deterministic.
Index files (`by-category.json`, `by-file.json`) are derived data: their id lists are
recomputed from both sides (what each side added or removed), counts follow, and
`generatedAt` is the later of the two.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import msgspec

from driftstore.errors import InvalidInputError
from driftstore.formats.canonical import es_decoder, pretty_es
from driftstore.formats.shards import V2_VERSION, encode_v2_shard, entries_checksum

DECISIONS = ("approved", "ignored")
_CONFLICT = "@@driftstore-conflict:{}@@"


class MergeOutcome(NamedTuple):
    data: bytes
    #: one line per pattern (or key) that could not be merged
    conflicts: list[str]
    #: patterns whose result differs from ours
    changed: int


def _decode(data: bytes, what: str) -> dict[str, Any] | None:
    if not data.strip():
        return None  # the file does not exist on that side
    try:
        doc = es_decoder.decode(data)
    except (msgspec.DecodeError, ValueError, UnicodeDecodeError) as exc:
        raise InvalidInputError(f"{what}: not JSON ({exc}); resolve this file by hand") from None
    if not isinstance(doc, dict):
        raise InvalidInputError(f"{what}: not a driftstore file; resolve it by hand")
    return doc


def _entries(doc: dict[str, Any] | None, what: str) -> dict[str, dict[str, Any]]:
    if doc is None:
        return {}
    if doc.get("version") != V2_VERSION or not isinstance(doc.get("patterns"), list):
        raise InvalidInputError(
            f"{what}: not a v2 shard (version {doc.get('version')!r}); resolve it by hand"
        )
    found: dict[str, dict[str, Any]] = {}
    for entry in doc["patterns"]:
        if not isinstance(entry, dict) or not isinstance(entry.get("id"), str):
            raise InvalidInputError(f"{what}: a pattern without an id; resolve it by hand")
        found[entry["id"]] = entry
    return found


def _meta(entry: dict[str, Any] | None) -> dict[str, Any]:
    meta = (entry or {}).get("metadata")
    return meta if isinstance(meta, dict) else {}


def _status(entry: dict[str, Any] | None) -> Any:
    return None if entry is None else entry.get("status")


def _later(a: Any, b: Any) -> Any:
    if isinstance(a, str) and isinstance(b, str):
        return max(a, b)
    return a if a is not None else b


def _earlier(a: Any, b: Any) -> Any:
    if isinstance(a, str) and isinstance(b, str):
        return min(a, b)
    return a if a is not None else b


_MISSING = object()


def _three_way(base: Any, ours: Any, theirs: Any) -> tuple[Any, bool]:
    """(value, clean) for one value changed on zero, one or both sides."""
    if ours == theirs:
        return ours, True
    if ours == base:
        return theirs, True
    if theirs == base:
        return ours, True
    return ours, False


def _status_winner(base: Any, ours: Any, theirs: Any) -> str | None:
    """'ours' / 'theirs' / 'same' for the status, or None for a true conflict."""
    if ours == theirs:
        return "same"
    if ours == base:
        return "theirs"
    if theirs == base:
        return "ours"
    if ours in DECISIONS and theirs not in DECISIONS:
        return "ours"
    if theirs in DECISIONS and ours not in DECISIONS:
        return "theirs"
    return None


def merge_entry(
    base: dict[str, Any] | None, ours: dict[str, Any] | None, theirs: dict[str, Any] | None
) -> tuple[dict[str, Any] | None, str | None]:
    """One pattern's merged entry (None: deleted) and, when it cannot be merged, why."""
    if ours == theirs:
        return ours, None
    if ours == base:
        return theirs, None
    if theirs == base:
        return ours, None
    if ours is None or theirs is None:
        return (ours if ours is not None else theirs), None  # changed beats deleted
    winner = _status_winner(_status(base), _status(ours), _status(theirs))
    if winner is None:
        return None, (
            f"pattern {ours.get('id')!r}: {_status(ours)} on our side, {_status(theirs)} on "
            "theirs; keep one decision"
        )
    newer = _newer_side(ours, theirs)
    merged: dict[str, Any] = {}
    keys = list(dict.fromkeys([*ours, *theirs]))
    for key in keys:
        b = (base or {}).get(key, _MISSING)
        o, t = ours.get(key, _MISSING), theirs.get(key, _MISSING)
        if key == "status":
            value = t if winner == "theirs" else o
        elif key == "metadata":
            value, problem = _merge_metadata(_meta(base), _meta(ours), _meta(theirs), winner, newer)
            if problem is not None:
                return None, f"pattern {ours.get('id')!r}: {problem}"
        else:
            value, clean = _three_way(b, o, t)
            if not clean:
                if newer is None:
                    return None, (
                        f"pattern {ours.get('id')!r}: {key!r} changed on both sides by scans "
                        "of the same time; keep one"
                    )
                value = o if newer == "ours" else t
        if value is not _MISSING:
            merged[key] = value
    return merged, None


def _newer_side(ours: dict[str, Any], theirs: dict[str, Any]) -> str | None:
    a, b = _meta(ours).get("lastSeen"), _meta(theirs).get("lastSeen")
    if isinstance(a, str) and isinstance(b, str) and a != b:
        return "ours" if a > b else "theirs"
    return None


_DECISION_KEYS = ("approvedAt", "approvedBy")


def _merge_metadata(
    base: dict[str, Any],
    ours: dict[str, Any],
    theirs: dict[str, Any],
    winner: str,
    newer: str | None,
) -> tuple[dict[str, Any], str | None]:
    merged: dict[str, Any] = {}
    for key in dict.fromkeys([*ours, *theirs]):
        b, o, t = base.get(key, _MISSING), ours.get(key, _MISSING), theirs.get(key, _MISSING)
        if key == "firstSeen":
            value = _earlier(None if o is _MISSING else o, None if t is _MISSING else t)
        elif key == "lastSeen":
            value = _later(None if o is _MISSING else o, None if t is _MISSING else t)
        elif key in _DECISION_KEYS and winner in ("ours", "theirs"):
            value = o if winner == "ours" else t
        else:
            value, clean = _three_way(b, o, t)
            if not clean:
                if key in _DECISION_KEYS:  # the same decision, taken twice: the later one
                    mine, yours = _s(ours.get("approvedAt")), _s(theirs.get("approvedAt"))
                    value = o if _later(mine, yours) == mine else t
                elif newer is None:
                    return {}, f"metadata {key!r} changed on both sides; keep one"
                else:
                    value = o if newer == "ours" else t
        if value is not _MISSING and value is not None:
            merged[key] = value
    return merged, None


def _s(value: Any) -> Any:
    return value if isinstance(value, str) else None


def merge_shards(base: bytes, ours: bytes, theirs: bytes, *, path: str) -> MergeOutcome:
    """Merge three versions of one v2 shard (an empty `bytes` is a missing file)."""
    docs = [
        _decode(data, f"{path} ({side})")
        for data, side in ((base, "base"), (ours, "ours"), (theirs, "theirs"))
    ]
    sides = [
        _entries(doc, f"{path} ({side})")
        for doc, side in zip(docs, ("base", "ours", "theirs"), strict=True)
    ]
    b, o, t = sides
    category = next(
        (d["category"] for d in (docs[1], docs[2], docs[0]) if d is not None and "category" in d),
        None,
    )
    if not isinstance(category, str):
        raise InvalidInputError(f"{path}: no category in any version; resolve it by hand")
    merged: list[dict[str, Any]] = []
    conflicts: list[str] = []
    conflicted: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {}
    changed = 0
    for pid in sorted(set(b) | set(o) | set(t)):
        entry, problem = merge_entry(b.get(pid), o.get(pid), t.get(pid))
        if problem is not None:
            conflicts.append(problem)
            conflicted[pid] = (o[pid], t[pid])
            merged.append({"id": _CONFLICT.format(pid), "status": o[pid].get("status")})
            continue
        if entry != o.get(pid):
            changed += 1
        if entry is not None:
            merged.append(entry)
    stamps = [d.get("lastUpdated") for d in (docs[1], docs[2]) if d is not None]
    last_updated = max((s for s in stamps if isinstance(s, str)), default="")
    if not conflicts:
        data = encode_v2_shard(
            category, merged, last_updated=last_updated, checksum=entries_checksum(merged)
        )
        return MergeOutcome(data, [], changed)
    data = encode_v2_shard(category, merged, last_updated=last_updated, checksum="conflict")
    return MergeOutcome(_mark_conflicts(data, conflicted), conflicts, changed)


def _mark_conflicts(
    data: bytes, conflicted: dict[str, tuple[dict[str, Any], dict[str, Any]]]
) -> bytes:
    """Replace each placeholder entry with both versions between git-style markers; each
    version is complete with its separator, so keeping either one leaves valid JSON."""
    lines = data.split(b"\n")
    out: list[bytes] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        pid = next(
            (p for p in conflicted if line.strip() == f'"id": "{_CONFLICT.format(p)}",'.encode()),
            None,
        )
        if pid is None:
            out.append(line)
            i += 1
            continue
        out.pop()  # the placeholder's opening brace
        while not lines[i].strip().startswith(b"}"):
            i += 1
        comma = b"," if lines[i].strip().endswith(b",") else b""
        ours, theirs = conflicted[pid]
        out.append(f"<<<<<<< ours: pattern {pid} is {ours.get('status')} here".encode())
        out.extend(_indented(ours, comma))
        out.append(b"=======")
        out.extend(_indented(theirs, comma))
        out.append(f">>>>>>> theirs: pattern {pid} is {theirs.get('status')} there".encode())
        i += 1
    return b"\n".join(out)


def _indented(entry: dict[str, Any], comma: bytes) -> list[bytes]:
    parts = [b"    " + part for part in pretty_es(entry, final_newline=False).split(b"\n")]
    parts[-1] += comma
    return parts


def merge_index(base: bytes, ours: bytes, theirs: bytes, *, path: str) -> MergeOutcome:
    """Merge three versions of a derived index file: each key's id list becomes what both
    sides added and removed; `counts` (by-category) follow the lists."""
    b, o, t = (
        _decode(data, f"{path} ({side})") or {}
        for data, side in ((base, "base"), (ours, "ours"), (theirs, "theirs"))
    )
    lists: list[dict[str, Any]] = []
    for doc in (b, o, t):
        found = doc.get("patterns")
        lists.append(found if isinstance(found, dict) else {})
    bl, ol, tl = lists
    merged: dict[str, list[str]] = {}
    for key in sorted(set(bl) | set(ol) | set(tl)):
        before = set(_ids(bl.get(key)))
        mine, yours = set(_ids(ol.get(key))), set(_ids(tl.get(key)))
        ids = (before | (mine - before) | (yours - before)) - (before - mine) - (before - yours)
        if ids:
            merged[key] = sorted(ids)
    document: dict[str, Any] = dict(o or t)
    document["generatedAt"] = _later(o.get("generatedAt"), t.get("generatedAt")) or ""
    document["patterns"] = merged
    if "counts" in document or "counts" in t:
        document["counts"] = {key: len(ids) for key, ids in merged.items()}
    newline = (ours or theirs).endswith(b"\n")
    data = pretty_es(document, final_newline=newline)
    return MergeOutcome(data, [], int(data != ours))


def _ids(value: Any) -> list[str]:
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []
