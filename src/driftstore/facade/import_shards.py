"""Import: v2 shards -> the store.

Semantics (interface.md is silent on these; chosen here):
- every shard is read and its checksum checked before anything is written; one mismatch
  refuses the whole import, naming the file (`force` imports anyway; history says so);
- shards are authoritative for the patterns they contain: new ids are created, known ids
  take the shard's data, status and decisions included (no transition rules: this is a
  restore), and their variants and examples become the shard's; patterns in no shard are
  kept; identical patterns are left untouched;
- one transaction: a bad entry anywhere rolls everything back;
- the shard's checksum and `lastUpdated` (and the index files' `generatedAt`) are
  recorded, so exporting the imported store gives the same files back.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import msgspec
from msgspec import UNSET

from driftstore.engine.base import Engine, HistoryRecord, PatternState, PatternWrite, Writer
from driftstore.errors import ChecksumMismatchError, InvalidInputError, Remedy
from driftstore.facade.export import INDEX_STATE
from driftstore.facade.paths import display, grouped
from driftstore.facade.results import ImportReport
from driftstore.formats import shards
from driftstore.formats.atomic import read_if_exists
from driftstore.formats.indexes import INDEX_NAMES, content_checksum
from driftstore.model.digest import fingerprints, snapshot
from driftstore.model.enums import CATEGORY_SET, HistoryAction
from driftstore.model.records import Example, Variant


def _shards_dir(source: Path) -> Path:
    if not source.exists():
        raise InvalidInputError(f"{source}: no such folder; give the folder 'export' wrote")
    if not source.is_dir():
        raise InvalidInputError(f"{source}: not a folder; give the folder 'export' wrote")
    nested = source / "patterns"
    return nested if nested.is_dir() else source


@dataclass
class ImportPlan:
    """What an import will load: checked shards, the ones that failed (forced), and the
    index files' timestamps (kept so a re-export writes the same index bytes)."""

    shards: list[shards.ShardFile]
    failed: list[str]
    index_stamps: dict[str, tuple[str, str]] = field(default_factory=dict)


def _index_stamps(folder: Path) -> dict[str, tuple[str, str]]:
    """name -> (content checksum, generatedAt) of index files beside the shards."""
    stamps: dict[str, tuple[str, str]] = {}
    for name in INDEX_NAMES:
        data = read_if_exists(folder / f"{name}.json")
        try:
            doc = msgspec.json.decode(data) if data is not None else None
        except (msgspec.DecodeError, UnicodeDecodeError, RecursionError):
            continue  # derived data: a damaged index is rebuilt by the next export
        if isinstance(doc, dict) and isinstance(doc.get("generatedAt"), str):
            stamp = doc.pop("generatedAt")
            stamps[name] = (content_checksum(doc), stamp)
    return stamps


def read_import(source: Path, *, root: Path, force: bool) -> ImportPlan:
    """Every shard of `source`, checked; ChecksumMismatchError unless all are intact or
    `force` (then the failing paths are listed in the plan)."""
    folder = _shards_dir(source)
    paths = sorted(p for p in folder.glob("*.json") if p.is_file())
    if not paths:
        raise InvalidInputError(
            f"{folder}: no v2 shards ({{category}}.json) here; export them first (drift 0.9 "
            "status folders are migrated, not imported)",
            remedy=Remedy.EXPORT_SHARDS,
            path=str(folder),
        )
    found: list[shards.ShardFile] = []
    failed: list[str] = []
    for path in paths:
        name = display(path, root)
        if path.is_symlink():
            raise InvalidInputError(f"{name}: a symbolic link; import reads plain files only")
        if path.stem not in CATEGORY_SET:
            raise InvalidInputError(
                f"{name}: {path.stem!r} is not one of drift's categories "
                f"({', '.join(sorted(CATEGORY_SET))}); move the file aside"
            )
        shard = shards.read_v2_shard(path.read_bytes(), path=name, expected_category=path.stem)
        if not shard.checksum_ok or shard.problems:
            failed.append(name)
            if not force:
                detail = (
                    f"checksum mismatch (the file says {shard.claimed}, its content gives "
                    f"{shard.computed})"
                    if not shard.checksum_ok
                    else "; ".join(shard.problems)
                )
                raise ChecksumMismatchError(
                    f"{name}: {detail}; nothing was imported — re-export the file, or force "
                    "the import to accept it as it is",
                    remedy=Remedy.FORCE_IMPORT,
                    path=name,
                )
        found.append(shard)
    stamps = _index_stamps(folder.parent / "indexes") if folder.name == "patterns" else {}
    return ImportPlan(found, failed, stamps)


def _same_children(
    stored: list[Any], incoming: list[Any] | None, out: Callable[[Any], Any]
) -> bool:
    return [out(r) for r in stored] == [out(r) for r in incoming or []]


def apply_import(engine: Engine, plan: ImportPlan) -> ImportReport:
    found, failed = plan.shards, plan.failed
    report = ImportReport(read_files=[s.path for s in found], forced_files=list(failed))
    try:
        with engine.write() as w:
            states = w.pattern_states()
            if not states:  # an empty store: the engine may build its indexes at the end
                w.bulk_load()
            stored_variants = grouped(w.variants())
            stored_examples = grouped(w.examples())
            seen: dict[str, str] = {}
            for shard in found:
                reason = "import --force" if shard.path in failed else "import"
                for item in shards.decode_v2_entries(shard):
                    _import_one(
                        w,
                        item,
                        shard.path,
                        reason,
                        states,
                        seen,
                        report,
                        stored_variants.get(item.pattern.id, []),
                        stored_examples.get(item.pattern.id, []),
                    )
                w.put_export_state(shard.category, "v2", "", shard.computed, shard.last_updated)
            for name, (checksum, stamp) in plan.index_stamps.items():
                w.put_export_state(INDEX_STATE + name, "v2", "", checksum, stamp)
    except OverflowError as exc:
        raise InvalidInputError(
            f"a number in the shards is too large to store ({exc}); nothing was imported"
        ) from None
    return report


def _import_one(
    w: Writer,
    item: shards.ImportedEntry,
    path: str,
    reason: str,
    states: dict[str, PatternState],
    seen: dict[str, str],
    report: ImportReport,
    old_variants: list[Variant],
    old_examples: list[Example],
) -> None:
    p = item.pattern
    now = w.now
    if p.id in seen:
        raise InvalidInputError(
            f"{path}: pattern {p.id!r} is also in {seen[p.id]}; a pattern belongs to one "
            "category — remove one of the two entries"
        )
    seen[p.id] = path
    digest, locations_hash = fingerprints(p)
    state = states.get(p.id)
    if state is None:
        w.put_patterns([PatternWrite(p, digest, now, created_at=now)])
        if item.variants or item.examples:
            _replace_children(w, p.id, item)
        w.record_history(
            [
                HistoryRecord(
                    p.id,
                    HistoryAction.CREATED,
                    None,
                    snapshot(p, locations_hash=locations_hash),
                    now,
                    None,
                    reason,
                )
            ]
        )
        report.imported += 1
        return
    m = p.metadata
    same_row = state[:6] == (
        p.status.value,
        digest,
        None if m.approved_at is UNSET else m.approved_at,
        None if m.approved_by is UNSET else m.approved_by,
        None if m.first_seen is UNSET else m.first_seen,
        None if m.last_seen is UNSET else m.last_seen,
    )
    same_children = _same_children(old_variants, item.variants, shards.variant_out) and (
        _same_children(old_examples, item.examples, shards.example_out)
    )
    if same_row and same_children:
        report.unchanged += 1
        return
    stored = w.pattern(p.id)
    assert stored is not None
    moved = stored.locations != p.locations or stored.outliers != p.outliers
    w.put_patterns([PatternWrite(p, digest, now, locations=moved)])
    if not same_children:
        _replace_children(w, p.id, item)
    w.record_history(
        [
            HistoryRecord(
                p.id,
                HistoryAction.UPDATED,
                snapshot(stored),
                snapshot(p, locations_hash=locations_hash),
                now,
                None,
                reason,
            )
        ]
    )
    report.updated += 1


def _replace_children(w: Writer, pattern_id: str, item: shards.ImportedEntry) -> None:
    w.replace_children(pattern_id, item.variants or [], item.examples or [])
