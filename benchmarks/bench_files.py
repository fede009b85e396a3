"""B6 export/import of v2 shards and B7 backup/restore: the file side of the store.

B6 is judged against floors that do the same work without driftstore's code (issue #5):
- export: a plain read of the same rows (one SELECT per table, fetchall, on a reader of the
  same database) + msgspec encode (same 2-space layout) and durable write of the very
  documents the export wrote;
- import + verify: read + msgspec decode of the same documents + plain executemany of the
  rows the import wrote into a fresh database with the same schema, indexes (dropped and
  rebuilt, as the import does for an empty store) and durability, in one transaction (B1's
  floor, `bench_ingest.floor_insert`) + what verify must read: the shard files again, and
  SQLite's own integrity_check and foreign_key_check of the imported database (same cache
  size as verify's).
The spec's literal floors (encode + write alone / decode alone) are kept in `details`.
B7 copies the database file and fsyncs the copy.
"""

from __future__ import annotations

import os
import shutil
from functools import partial
from pathlib import Path
from typing import Any

import msgspec

import driftstore
from benchmarks.bench_ingest import floor_insert, stored_rows
from benchmarks.harness import Context, Part, Result, directory_bytes, median, timed, unavailable
from driftstore.engine.rows import LOCATION_COLUMNS, PATTERN_SELECT
from driftstore.engine.sqlite import integrity
from driftstore.engine.sqlite.connection import Database

#: what export reads, one SELECT per table (every stored column it writes from)
EXPORT_READS = (
    f"SELECT {PATTERN_SELECT} FROM patterns",
    f"SELECT {', '.join(LOCATION_COLUMNS)} FROM pattern_locations",
    "SELECT * FROM pattern_variants",
    "SELECT * FROM pattern_examples",
)
#: verify's integrity_check runs with this page cache (engine.exchange._CHECK_CACHE_KIB)
CHECK_CACHE_KIB = 65536


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


def floor_read_rows(root: Path) -> float:
    """One plain SELECT per table export reads, every row fetched, in one read transaction."""
    db = Database(root / ".drift" / "drift.db")
    try:
        with db.reader() as conn:

            def work() -> None:
                for sql in EXPORT_READS:
                    conn.execute(sql).fetchall()

            return timed(work)
    finally:
        db.close()


def floor_checks(root: Path, files: list[Path]) -> float:
    """What verify must read: the shard files, and SQLite's own checks of the database."""
    db = Database(root / ".drift" / "drift.db")
    try:
        with db.reader() as conn:
            conn.execute(f"PRAGMA cache_size = -{CHECK_CACHE_KIB}")

            def work() -> None:
                for path in files:
                    path.read_bytes()
                conn.execute("PRAGMA integrity_check").fetchall()
                conn.execute("PRAGMA foreign_key_check").fetchall()

            return timed(work)
    finally:
        db.close()


def digest_check(root: Path) -> float | None:
    """Seconds of the per-row digest check alone (`engine.integrity`): part of verify and,
    without the history table, of export. Shown so its share is not mistaken for the
    export's or import's own work; None for a store without digests."""
    check = getattr(integrity, "digest_problems", None)
    if check is None:
        return None
    db = Database(root / ".drift" / "drift.db")
    try:
        with db.reader() as conn:
            return timed(lambda: check(conn))
    finally:
        db.close()


def b6_export_import(ctx: Context) -> Result:
    assert ctx.loaded_root is not None
    result = Result(
        "B6",
        "export v2 shards / import + verify them (each vs its same-work floor)",
        unit="s",
        floor_what="export: read the rows + encode + durable write; import+verify: read + "
        "decode + raw insert of the same rows, same schema/indexes/durability + integrity "
        "check (literal encode+write / decode ratios in details)",
        target="export <= 2x floor, import+verify <= 2x floor",
    )
    with driftstore.open(ctx.loaded_root) as store:
        missing = [m for m in ("export", "import_", "verify") if not hasattr(store, m)]
        if missing:
            return unavailable(result, f"PatternStore.{', '.join(missing)} missing")
        exports: list[float] = []
        writes: list[float] = []
        reads: list[float] = []
        out = ctx.fresh_dir("b6-export-")
        for rep in range(ctx.repeat):
            if rep:
                shutil.rmtree(out, ignore_errors=True)
                out = ctx.fresh_dir("b6-export-")
            exports.append(timed(partial(store.export, out)))
            files = _json_files(out)
            docs = [(p.relative_to(out), msgspec.json.decode(p.read_bytes())) for p in files]
            with ctx.scratch("b6-floor-") as scratch:
                writes.append(floor_encode_write(docs, scratch))
            del docs
            reads.append(floor_read_rows(ctx.loaded_root))
            ctx.log(
                f"  B6 rep {rep + 1}: export {exports[-1]:.3f}s, floor read {reads[-1]:.3f}s "
                f"+ encode/write {writes[-1]:.3f}s"
            )
    shard_bytes = directory_bytes(out)
    imports: list[float] = []
    decodes: list[float] = []
    inserts: list[float] = []
    checks: list[float] = []
    rows = None
    digests: float | None = None
    for rep in range(ctx.repeat):
        with ctx.scratch("b6-import-") as root:
            shutil.copytree(out, root / ".drift")
            with driftstore.open(root) as fresh:

                def import_and_verify(s: Any = fresh) -> None:
                    s.import_()
                    s.verify()

                imports.append(timed(import_and_verify))
            checks.append(floor_checks(root, _json_files(root / ".drift")))
            if rows is None:
                rows = stored_rows(root)
                digests = digest_check(root)
        decodes.append(floor_read_decode(_json_files(out)))
        inserts.append(floor_insert(ctx, rows, rebuild_indexes=True))
        ctx.log(
            f"  B6 rep {rep + 1}: import+verify {imports[-1]:.3f}s, floor decode "
            f"{decodes[-1]:.3f}s + insert {inserts[-1]:.3f}s + checks {checks[-1]:.3f}s"
        )
    shutil.rmtree(out, ignore_errors=True)
    export_s, write_floor, read_floor = median(exports), median(writes), median(reads)
    import_s, decode_floor = median(imports), median(decodes)
    insert_floor, check_floor = median(inserts), median(checks)
    export_floor = read_floor + write_floor
    import_floor = decode_floor + insert_floor + check_floor
    result.value = export_s
    result.floor = export_floor
    result.parts = [
        Part("export ratio", export_s / export_floor, "x floor", 2.0),
        Part("import+verify ratio", import_s / import_floor, "x floor", 2.0),
    ]
    result.details = {
        "export_s": export_s,
        "exportFloor_s": export_floor,
        "exportFloorReadRows_s": read_floor,
        "exportFloorEncodeWrite_s": write_floor,
        "exportVsEncodeWriteOnly": export_s / write_floor,
        "importVerify_s": import_s,
        "importVerifyFloor_s": import_floor,
        "importFloorDecode_s": decode_floor,
        "importFloorInsert_s": insert_floor,
        "verifyFloorChecks_s": check_floor,
        "importVerifyVsDecodeOnly": import_s / decode_floor,
        "importVerifyVsDecodePlusInsert": import_s / (decode_floor + insert_floor),
        "shardMB": shard_bytes / 1e6,
        "files": len(files),
        "locationRows": len(rows[1]) if rows else None,
        "digestCheck_s": digests,
    }
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
    # a restore is a write: the generation moves; everything else must be as it was
    if msgspec.structs.replace(before, generation=0) != msgspec.structs.replace(
        after, generation=0
    ):
        result.note = "status differs after restore"
        result.parts.append(Part("restored same data", 0, "", 1, kind="min"))
    return result
