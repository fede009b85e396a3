"""Export: the store -> the JSON files of formats.md (import and verify live beside it).

Export reads one consistent snapshot, writes each file to a temp name and renames it (a
file whose bytes did not change is not rewritten), removes the shard of a category that
has no patterns left, and rebuilds the index files. `lastUpdated` (and the indexes'
`generatedAt`) come from `export_state` and move only when the content's checksum did,
so two exports of an unchanged store are byte-identical.

A million location rows pass through a v2 export: they reach the writer as structs built
in C from SQL rows (`fast.LeanLocation`), each shard is one encoding plus one
canonical encoding for its checksum, and files are written by a thread of their own while
the next shard is built.
"""

from __future__ import annotations

from collections import defaultdict
from concurrent.futures import Future, ThreadPoolExecutor
from operator import attrgetter
from pathlib import Path
from typing import Any

import msgspec
from msgspec import UNSET

from driftstore.engine.base import Engine, Reader
from driftstore.errors import (
    IntegrityError,
    InvalidInputError,
    ReadOnlyStoreError,
    Remedy,
)
from driftstore.facade.paths import display, grouped
from driftstore.facade.results import ExportReport
from driftstore.formats import legacy, legacy_write, shards
from driftstore.formats.atomic import (
    fsync_dir,
    read_if_exists,
    remove_file,
    remove_stale_temps,
    write_atomic,
)
from driftstore.formats.indexes import INDEX_NAMES, content_checksum, encode_index, index_contents
from driftstore.formats.shards import fast
from driftstore.model.clock import now_iso
from driftstore.model.enums import CATEGORY_SET
from driftstore.model.pattern import Pattern
from driftstore.model.records import Example, Variant

LAYOUTS = ("v2", "v1")
#: export_state rows of the index files are named `index:{name}`
INDEX_STATE = "index:"
#: store_meta keys `legacy-file:{status}/{category}`: top-level keys of a drift 0.9 file
#: beyond the usual five, kept for a faithful v1 re-export
LEGACY_FILE_META = "legacy-file:"
_file = attrgetter("file")


def _add_original_files(by_file: defaultdict[str, list[str]], found: list[Pattern]) -> None:
    """Each pattern under every file it has a location or an outlier in, spelled as the
    input did (the v1 layout's index)."""
    for p in found:
        names = {
            loc.file if loc.original_file is UNSET else loc.original_file
            for loc in p.all_locations()
        }
        for name in names:
            by_file[name].append(p.id)


# --- export ----------------------------------------------------------------------------
class _Writer:
    """Writes files that changed, counts the rest, remembers new export_state rows.

    Files are written by a thread of its own, in order, so the write and fsync of one
    shard overlap the building of the next (the OS works without the GIL). Each file is
    fsynced; each folder once, by `flush`, after its files' renames. After a failed write
    nothing further is written; `flush` waits and raises that failure.
    """

    def __init__(self, root: Path, report: ExportReport, layout: str) -> None:
        self.root = root
        self.report = report
        self.layout = layout
        self.states: dict[tuple[str, str], tuple[str, str]] = {}
        self.new_states: dict[tuple[str, str], tuple[str, str]] = {}
        self.dropped_states: list[tuple[str, str]] = []
        self.now = now_iso()
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="driftstore-export")
        self._pending: list[Future[None]] = []
        self._failed = False
        self._unsynced: set[Path] = set()

    def __enter__(self) -> _Writer:
        return self

    def __exit__(self, *exc: object) -> None:
        self._pool.shutdown(wait=True)  # files queued before a failure are still written

    def stamp(self, key: tuple[str, str], checksum: str) -> str:
        """The old timestamp when the content is the same, else now."""
        old = self.states.get(key)
        if old is not None and old[0] == checksum:
            return old[1]
        self.new_states[key] = (checksum, self.now)
        return self.now

    def put(self, path: Path, data: bytes) -> None:
        """Queue `data` for `path`; raises a failure of an earlier write."""
        for done in [f for f in self._pending if f.done()]:
            done.result()
            self._pending.remove(done)
        self._pending.append(self._pool.submit(self._write, path, data))

    def flush(self) -> None:
        """Wait for every queued file, then make their renames durable; raises the first
        failure."""
        pending, self._pending = self._pending, []
        for future in pending:
            future.result()
        folders, self._unsynced = self._unsynced, set()
        for folder in sorted(folders):
            fsync_dir(folder)

    def _write(self, path: Path, data: bytes) -> None:
        if self._failed:
            return
        try:
            if read_if_exists(path) == data:
                self.report.unchanged.append(display(path, self.root))
            else:
                write_atomic(path, data, sync_folder=False)
                self._unsynced.add(path.parent)
                self.report.written.append(display(path, self.root))
        except BaseException:
            self._failed = True
            raise

    def drop(self, path: Path, key: tuple[str, str] | None) -> None:
        if remove_file(path):
            self.report.removed.append(display(path, self.root))
        if key is not None and key in self.states:
            self.dropped_states.append(key)


def export_store(engine: Engine, out_dir: Path, *, layout: str, root: Path) -> ExportReport:
    if layout not in LAYOUTS:
        raise InvalidInputError(f"layout {layout!r} is unknown; choose v2 or v1")
    try:
        return _export(engine, out_dir, layout=layout, root=root)
    except RecursionError:
        raise IntegrityError(
            "a stored value nests too deep to write as JSON; fix or delete the pattern",
            remedy=Remedy.RESTORE_BACKUP,
        ) from None


def _export(engine: Engine, out_dir: Path, *, layout: str, root: Path) -> ExportReport:
    out_dir = out_dir.resolve()
    if out_dir.exists() and not out_dir.is_dir():
        raise InvalidInputError(f"{out_dir}: not a folder; give a folder to export into")
    patterns_dir = out_dir / "patterns"
    indexes_dir = out_dir / "indexes"
    report = ExportReport(layout=layout, out=str(out_dir))
    for folder in (patterns_dir, indexes_dir, *(patterns_dir / s for s in legacy.STATUS_DIRS)):
        remove_stale_temps(folder)
    with _Writer(root, report, layout) as writer:
        _write_files(engine, writer, patterns_dir, indexes_dir)
    if writer.new_states or writer.dropped_states:
        try:
            with engine.write() as w:
                for (category, status), (checksum, stamp) in writer.new_states.items():
                    w.put_export_state(category, layout, status, checksum, stamp)
                for category, status in writer.dropped_states:
                    w.drop_export_state(category, layout, status)
        except ReadOnlyStoreError:
            pass  # a read-only store exports all the same; it cannot remember the stamps
    return report


def _write_files(engine: Engine, writer: _Writer, patterns_dir: Path, indexes_dir: Path) -> None:
    layout, report = writer.layout, writer.report
    with engine.read() as r:
        r.require_intact()  # never write damaged rows into checksummed files
        writer.states = r.export_states(layout)
        by_category = r.ids_by_category()
        by_file: defaultdict[str, list[str]] = defaultdict(list)
        variants = grouped(r.variants())
        examples = grouped(r.examples())
        layouts = r.layouts() if layout == "v1" else {}
        file_layouts = r.meta(LEGACY_FILE_META)
        written: set[Path] = set()
        strange = sorted(set(by_category) - CATEGORY_SET)
        if strange:  # a file name comes from it: never let one point elsewhere
            raise IntegrityError(
                "stored patterns have categories drift does not know "
                f"({', '.join(map(repr, strange))}); give them one of drift's categories "
                "(PatternStore.update) or delete them, then export again"
            )
        for category in by_category:
            if layout == "v2":
                entries = _v2_entries(r, category, variants, examples, by_file)
                report.patterns += len(entries)
                written.add(_export_v2_category(writer, patterns_dir, category, entries))
            else:
                found = r.category_patterns(category)
                report.patterns += len(found)
                _add_original_files(by_file, found)
                written.update(
                    _export_v1_category(
                        writer, patterns_dir, category, found, layouts, file_layouts
                    )
                )
        writer.flush()
        _remove_stale(writer, r, patterns_dir, written)
    _write_indexes(writer, indexes_dir, index_contents(by_category, by_file))
    writer.flush()


def _v2_entries(
    r: Reader,
    category: str,
    variants: dict[str, list[Variant]],
    examples: dict[str, list[Example]],
    by_file: defaultdict[str, list[str]],
) -> list[dict[str, Any]]:
    """The category's v2 entries, each pattern also listed under its files in `by_file`.

    Location rows arrive as writer structs (`fast.LeanLocation`); a pattern with a row
    the fast path cannot write exactly takes the general Location path instead.
    """
    entries = []
    rows_of = r.category_rows(category, fast.LeanLocation)
    for p, lean in rows_of:
        rows: list[Any] = lean
        ready = fast.export_lists(rows)
        if ready == fast.NEEDS_FULL_ROWS:
            rows = r.pattern_rows(p.id, fast.ExportLocation)
            ready = fast.export_lists(rows)
        if isinstance(ready, str):
            stored = r.pattern(p.id)
            assert stored is not None
            locations, outliers = stored.locations, stored.outliers
            ready = (
                [shards.location_out(loc) for loc in locations],
                [shards.location_out(loc) for loc in outliers],
            )
            names = {loc.file for loc in locations}
            names.update([loc.file for loc in outliers])
        else:
            names = set(map(_file, rows))
        pid = p.id
        for name in names:  # hot at M (benchmarks/NOTES.md): a plain loop beats map tricks
            by_file[name].append(pid)
        entries.append(shards.v2_entry(p, variants.get(p.id), examples.get(p.id), ready=ready))
    return entries


def _export_v2_category(
    writer: _Writer, patterns_dir: Path, category: str, entries: list[dict[str, Any]]
) -> Path:
    checksum = shards.entries_checksum(entries)
    stamp = writer.stamp((category, ""), checksum)
    path = shards.shard_path(patterns_dir, category)
    writer.put(
        path, shards.encode_v2_shard(category, entries, last_updated=stamp, checksum=checksum)
    )
    return path


def _export_v1_category(
    writer: _Writer,
    patterns_dir: Path,
    category: str,
    found: list[Pattern],
    layouts: dict[str, str],
    file_layouts: dict[str, str],
) -> list[Path]:
    decode = msgspec.json.decode
    by_status: dict[str, list[tuple[Pattern, dict[str, Any] | None]]] = {}
    for p in found:
        raw = layouts.get(p.id)
        by_status.setdefault(p.status.value, []).append((p, decode(raw) if raw else None))
    paths: list[Path] = []
    for status, members in sorted(by_status.items()):
        members.sort(key=lambda item: legacy_write.render_order_key(item[0], item[1]))
        entries = [legacy_write.render_entry(p, lay) for p, lay in members]
        checksum = legacy_write.entries_checksum(entries)
        stamp = writer.stamp((category, status), checksum)
        raw_layout = file_layouts.get(f"{status}/{category}")
        path = patterns_dir / status / f"{category}.json"
        writer.put(
            path,
            legacy_write.encode_legacy_file(
                category,
                entries,
                last_updated=stamp,
                checksum=checksum,
                file_layout=decode(raw_layout) if raw_layout else None,
            ),
        )
        paths.append(path)
    return paths


def _remove_stale(writer: _Writer, r: Reader, patterns_dir: Path, written: set[Path]) -> None:
    """Shards of categories with no patterns left. A v1 file is removed only when every id
    in it is one this store has seen, so an export never deletes unmigrated drift data."""
    if writer.layout == "v2":
        for path in sorted(patterns_dir.glob("*.json")):
            if path in written or path.stem not in CATEGORY_SET or path.is_symlink():
                continue
            data = read_if_exists(path)
            if data is not None and shards.is_v2_shard(data):
                writer.drop(path, (path.stem, ""))
        return
    for status in legacy.STATUS_DIRS:
        for path in sorted((patterns_dir / status).glob("*.json")):
            if path in written or path.stem not in CATEGORY_SET or path.is_symlink():
                continue
            source = legacy.LegacySource(path, "status", path.stem, status)
            try:
                old = legacy.read_legacy_file(path.read_bytes(), source, where=str(path))
            except (InvalidInputError, OSError):
                writer.report.kept.append(display(path, writer.root))
                continue
            ids = [str(e.get("id")) for e in old.entries]
            if set(ids) <= r.known_ids(ids):
                writer.drop(path, (path.stem, status))
            else:
                writer.report.kept.append(display(path, writer.root))


def _write_indexes(writer: _Writer, indexes_dir: Path, contents: dict[str, Any]) -> None:
    for name in INDEX_NAMES:
        content = contents[name]
        stamp = writer.stamp((INDEX_STATE + name, ""), content_checksum(content))
        writer.put(
            indexes_dir / f"{name}.json",
            encode_index(content, generated_at=stamp, final_newline=writer.layout == "v2"),
        )
