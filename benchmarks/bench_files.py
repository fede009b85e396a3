"""B6 export/import of v2 shards and B7 backup/restore: the file side of the store.

Floors do the same file work without the store: B6 encodes (msgspec, same 2-space
layout) and durably writes the very documents the export wrote, or reads and decodes
them; B7 copies the database file and fsyncs the copy.
"""

from __future__ import annotations

import os
import shutil
from functools import partial
from pathlib import Path
from typing import Any

import msgspec

import driftstore
from benchmarks.harness import Context, Part, Result, directory_bytes, median, timed, unavailable


def _json_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*.json") if p.is_file())


def _write_durably(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)


def floor_encode_write(docs: list[tuple[Path, Any]], out: Path) -> float:
    """msgspec encode (2-space indent, final newline) + durable write of each document."""

    def work() -> None:
        for rel, doc in docs:
            target = out / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            data = msgspec.json.format(msgspec.json.encode(doc), indent=2) + b"\n"
            _write_durably(target, data)

    return timed(work)


def floor_read_decode(files: list[Path]) -> float:
    def work() -> None:
        for path in files:
            msgspec.json.decode(path.read_bytes())

    return timed(work)


def b6_export_import(ctx: Context) -> Result:
    assert ctx.loaded_root is not None
    result = Result(
        "B6",
        "export v2 shards / import + verify them (each vs its floor)",
        unit="s",
        floor_what="msgspec encode + durable write / read + decode of the same documents",
        target="export <= 2x floor, import+verify <= 2x floor",
    )
    with driftstore.open(ctx.loaded_root) as store:
        missing = [m for m in ("export", "import_", "verify") if not hasattr(store, m)]
        if missing:
            return unavailable(result, f"PatternStore.{', '.join(missing)} missing")
        exports: list[float] = []
        floors: list[float] = []
        out = ctx.fresh_dir("b6-export-")
        for rep in range(ctx.repeat):
            if rep:
                shutil.rmtree(out, ignore_errors=True)
                out = ctx.fresh_dir("b6-export-")
            exports.append(timed(partial(store.export, out)))
            files = _json_files(out)
            docs = [(p.relative_to(out), msgspec.json.decode(p.read_bytes())) for p in files]
            with ctx.scratch("b6-floor-") as scratch:
                floors.append(floor_encode_write(docs, scratch))
    shard_bytes = directory_bytes(out)
    imports: list[float] = []
    decode_floors: list[float] = []
    for _ in range(ctx.repeat):
        with ctx.scratch("b6-import-") as root:
            shutil.copytree(out, root / ".drift")
            with driftstore.open(root) as fresh:

                def import_and_verify(s: Any = fresh) -> None:
                    s.import_()
                    s.verify()

                imports.append(timed(import_and_verify))
        decode_floors.append(floor_read_decode(_json_files(out)))
    shutil.rmtree(out, ignore_errors=True)
    export_s, export_floor = median(exports), median(floors)
    import_s, import_floor = median(imports), median(decode_floors)
    result.value = export_s
    result.floor = export_floor
    result.parts = [
        Part("export ratio", export_s / export_floor, "x floor", 2.0),
        Part("import+verify ratio", import_s / import_floor, "x floor", 2.0),
    ]
    result.details = {
        "export_s": export_s,
        "exportFloor_s": export_floor,
        "importVerify_s": import_s,
        "importFloor_s": import_floor,
        "shardMB": shard_bytes / 1e6,
        "files": len(files),
    }
    if ctx.b1_floor:
        # importing into an empty store writes every row: set against decoding plus B1's
        # raw insert of the same rows, too
        result.details["importVsDecodePlusB1Floor"] = import_s / (import_floor + ctx.b1_floor)
    return result


def _database_bytes(root: Path) -> int:
    db = root / ".drift" / "drift.db"
    wal = db.with_name(db.name + "-wal")
    return db.stat().st_size + (wal.stat().st_size if wal.exists() else 0)


def floor_copy(src: Path, dst: Path) -> float:
    def work() -> None:
        shutil.copyfile(src, dst)
        with dst.open("rb+") as handle:
            os.fsync(handle.fileno())

    return timed(work)


def b7_backup_restore(ctx: Context) -> Result:
    assert ctx.loaded_root is not None
    result = Result(
        "B7",
        "backup create / restore throughput (MB of database per second)",
        unit="MB/s",
        floor_what="copying the database file (+ fsync)",
        target="backup >= 200 MB/s, restore >= 200 MB/s",
    )
    with driftstore.open(ctx.loaded_root) as store:
        missing = [m for m in ("backup", "restore") if not hasattr(store, m)]
        if missing:
            return unavailable(result, f"PatternStore.{', '.join(missing)} missing")
        size = _database_bytes(ctx.loaded_root)
        before = store.status()
        backups: list[float] = []
        restores: list[float] = []
        ids: list[str] = []
        for _ in range(ctx.repeat):
            backups.append(timed(lambda: ids.append(store.backup("benchmark"))))
            restores.append(timed(lambda: store.restore(ids[-1])))
    with driftstore.open(ctx.loaded_root) as store:
        after = store.status()
    copies: list[float] = []
    db = ctx.loaded_root / ".drift" / "drift.db"
    for _ in range(ctx.repeat):
        with ctx.scratch("b7-floor-") as scratch:
            copies.append(floor_copy(db, scratch / "copy.db"))
    mb = size / 1e6
    backup_rate, restore_rate = mb / median(backups), mb / median(restores)
    result.value = backup_rate
    result.floor = mb / median(copies)
    result.parts = [
        Part("backup", backup_rate, "MB/s", 200, kind="min"),
        Part("restore", restore_rate, "MB/s", 200, kind="min"),
    ]
    archive = ctx.loaded_root / ".drift" / "backups"
    result.details = {
        "databaseMB": mb,
        "backup_s": median(backups),
        "restore_s": median(restores),
        "restoreMBps": restore_rate,
        "copy_s": median(copies),
        "backupFolderMB": directory_bytes(archive) / 1e6 if archive.exists() else None,
    }
    if before != after:
        result.note = "status differs after restore"
        result.parts.append(Part("restored same data", 0, "", 1, kind="min"))
    return result
