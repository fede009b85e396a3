"""B1 ingest, B2 re-ingest, B9 peak memory, B10 scaling: the write path.

The B1 floor writes exactly the rows the ingest wrote (read back from the ingested
database, prebuilt as tuples) with the engine's own INSERT statements, into a database
opened by the engine's own `Database` class: same schema, same indexes, same pragmas,
same durability (WAL + synchronous=NORMAL), one transaction. It is measured two ways:
with every index in place, and with the indexes the ingest drops for an empty store
dropped + rebuilt at the end. The ratio is taken against the faster of the two.

Details also show, for reading only, SQLite's share of the ingest's own strategy (the
same rows through the ingest's multi-row writer): what is left of B1 when every Python
step (reading, validating, hashing, building rows) is taken away.
"""

from __future__ import annotations

import math
import shutil
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple

import apsw

import driftstore
from benchmarks.generate import SIZES, Size, generate
from benchmarks.harness import Context, Part, Result, median, timed
from driftstore.engine.rows import INSERT_LOCATION, LOCATION_COLUMNS
from driftstore.engine.sqlite import patterns as pattern_sql
from driftstore.engine.sqlite.connection import Database


class Rows(NamedTuple):
    """Every row an ingest wrote, as the tuples its INSERT statements bound."""

    patterns: list[tuple[Any, ...]]
    locations: list[tuple[Any, ...]]
    history: list[tuple[Any, ...]]
    #: the INSERT of each of the three, in that order
    inserts: tuple[str, str, str]


def _bound_columns(conn: apsw.Connection, table: str, *, skip: str = "") -> list[str]:
    """A table's columns (but `skip`, an AUTOINCREMENT id): what the engine binds for
    patterns and history rows, digest columns included, whatever the schema version adds."""
    return [r[1] for r in conn.execute(f"PRAGMA table_info({table})") if r[1] != skip]


def _insert(table: str, columns: list[str]) -> str:
    return f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"


def stored_rows(root: Path) -> Rows:
    """Read back what an ingest wrote; locations without their created_at, which the ingest
    leaves to the column default as the floor then does too."""
    db = Database(root / ".drift" / "drift.db")
    try:
        with db.reader() as conn:
            pattern_columns = _bound_columns(conn, "patterns")
            history_columns = _bound_columns(conn, "pattern_history", skip="id")

            def read(table: str, columns: list[str] | tuple[str, ...]) -> list[tuple[Any, ...]]:
                return [
                    tuple(r)
                    for r in conn.execute(
                        f"SELECT {', '.join(columns)} FROM {table} ORDER BY rowid"
                    )
                ]

            return Rows(
                read("patterns", pattern_columns),
                read("pattern_locations", LOCATION_COLUMNS),
                read("pattern_history", history_columns),
                (
                    _insert("patterns", pattern_columns),
                    INSERT_LOCATION,
                    _insert("pattern_history", history_columns),
                ),
            )
    finally:
        db.close()


def timed_transaction(database: Path, body: Callable[[apsw.Cursor], None]) -> float:
    """Seconds `body` takes inside one write transaction of the engine's own database
    settings (BEGIN IMMEDIATE ... COMMIT, the commit included)."""
    db = Database(database)
    cur = db.writer.cursor()

    def work() -> None:
        cur.execute("BEGIN IMMEDIATE")
        body(cur)
        cur.execute("COMMIT")

    try:
        return timed(work)
    finally:
        db.close()


def floor_insert(ctx: Context, rows: Rows, *, rebuild_indexes: bool) -> float:
    """Seconds for plain executemany of `rows` into a fresh engine database, one transaction.

    `rebuild_indexes`: the indexes the ingest drops for a bulk load (location and pattern
    indexes) are dropped first and built again at the end, as the ingest does."""

    def body(cur: apsw.Cursor) -> None:
        pattern_indexes: list[str] = []
        if rebuild_indexes:
            pattern_sql.drop_location_indexes(cur)
            pattern_indexes = pattern_sql.drop_pattern_indexes(cur)
        cur.executemany(rows.inserts[0], rows.patterns)
        cur.executemany(rows.inserts[1], rows.locations)
        cur.executemany(rows.inserts[2], rows.history)
        if rebuild_indexes:
            pattern_sql.create_location_indexes(cur)
            pattern_sql.create_indexes(cur, pattern_indexes)

    with ctx.scratch("floor-") as folder:
        return timed_transaction(folder / "floor.db", body)


def sql_part(ctx: Context, rows: Rows) -> float:
    """Seconds SQLite alone takes for the ingest's own bulk strategy (indexes rebuilt,
    locations many per INSERT) over the same rows: the share of B1 no Python work can
    remove. Informative; the judged floor is `floor_insert`."""

    def body(cur: apsw.Cursor) -> None:
        pattern_sql.drop_location_indexes(cur)
        pattern_indexes = pattern_sql.drop_pattern_indexes(cur)
        cur.executemany(rows.inserts[0], rows.patterns)
        bulk = pattern_sql.BulkLocations(cur)
        for start in range(0, len(rows.locations), 1000):
            bulk.add(rows.locations[start : start + 1000])
        bulk.flush()
        cur.executemany(rows.inserts[2], rows.history)
        pattern_sql.create_location_indexes(cur)
        pattern_sql.create_indexes(cur, pattern_indexes)

    with ctx.scratch("sqlpart-") as folder:
        return timed_transaction(folder / "floor.db", body)


def ingest_fresh(ctx: Context, scan: Path, *, keep: bool = False) -> tuple[float, Path]:
    """Seconds to ingest `scan` into a new, empty store (opening it is not timed)."""
    root = ctx.fresh_dir("store-")
    with driftstore.open(root) as store:
        seconds = timed(lambda: store.ingest(scan))
    if not keep:
        shutil.rmtree(root, ignore_errors=True)
    return seconds, root


def b1_ingest(ctx: Context) -> Result:
    wl = ctx.workload
    assert wl is not None
    result = Result(
        "B1",
        "ingest a scan (NDJSON file) into an empty store, parsing included",
        unit="s",
        floor_what="apsw executemany of the same rows, same schema/indexes/pragmas, one txn",
        target="<= 1.25x floor",
        drift09=0.93,
    )
    ingests: list[float] = []
    bulk: list[float] = []
    indexed: list[float] = []
    sql_only: list[float] = []
    rows: Rows | None = None
    for rep in range(ctx.repeat):
        last = rep == ctx.repeat - 1
        seconds, root = ingest_fresh(ctx, wl.path, keep=last or rows is None)
        ingests.append(seconds)
        if rows is None:
            rows = stored_rows(root)
            if not last:
                shutil.rmtree(root, ignore_errors=True)
        if last:
            if ctx.loaded_root is not None:
                shutil.rmtree(ctx.loaded_root, ignore_errors=True)
            ctx.loaded_root = root
        bulk.append(floor_insert(ctx, rows, rebuild_indexes=True))
        if rep < max(1, min(ctx.repeat, 3)):
            indexed.append(floor_insert(ctx, rows, rebuild_indexes=False))
        sql_only.append(sql_part(ctx, rows))
        ctx.log(
            f"  B1 rep {rep + 1}: ingest {seconds:.3f}s, floor (rebuild) {bulk[-1]:.3f}s"
            + (f", floor (indexed) {indexed[-1]:.3f}s" if len(indexed) == rep + 1 else "")
            + f", SQLite part of the ingest's strategy {sql_only[-1]:.3f}s"
        )
    assert rows is not None
    value = median(ingests)
    floor_bulk, floor_indexed = median(bulk), median(indexed)
    result.value = value
    result.floor = min(floor_bulk, floor_indexed)
    ctx.b1_seconds = value
    ctx.b1_floor = result.floor
    rate = wl.locations / value
    # benchmarks.md retired the absolute 500k locations/s: the floor itself runs ~270k/s
    result.parts = [Part("ratio", value / result.floor, "x floor", 1.25)]
    location_rows = len(rows.locations)
    result.details = {
        "locations": wl.locations,
        "locationRows": location_rows,
        "patterns": wl.patterns,
        "scanMB": wl.bytes / 1e6,
        "locationsPerSecond": rate,
        "floorRebuildIndexes_s": floor_bulk,
        "floorIndexesInPlace_s": floor_indexed,
        "ratioToIndexesInPlace": value / floor_indexed,
        "floorRowsPerSecond": location_rows / result.floor,
        "sqlPartOfIngest_s": median(sql_only),
        "pythonPartOfIngest_s": value - median(sql_only),
        "samples_s": ingests,
    }
    return result


def b2_reingest(ctx: Context) -> Result:
    wl = ctx.workload
    assert wl is not None and ctx.loaded_root is not None
    result = Result(
        "B2",
        "ingest the same scan again (nothing changed)",
        unit="s",
        floor_what="B1 (ingest into an empty store), this run",
        target="<= 0.3x B1",
    )
    times: list[float] = []
    unchanged: list[int] = []
    with driftstore.open(ctx.loaded_root) as store:
        reports: list[Any] = []
        for _ in range(ctx.repeat):
            times.append(timed(lambda: reports.append(store.ingest(wl.path))))
            unchanged.append(reports[-1].unchanged)
    # a real re-scan stamps lastSeen on every pattern: stored quietly, still "unchanged"
    restamped = generate(
        wl.size, ctx.workdir / "scan-restamped.ndjson", seed=ctx.seed, restamp=True
    )
    stamped: list[float] = []
    try:
        for _ in range(ctx.repeat):
            with ctx.scratch("b2-") as root:
                shutil.copytree(ctx.loaded_root / ".drift", root / ".drift")
                with driftstore.open(root) as store:
                    stamped.append(timed(lambda: reports.append(store.ingest(restamped.path))))
                    unchanged.append(reports[-1].unchanged)
    finally:
        restamped.path.unlink(missing_ok=True)
    b1 = ctx.b1_seconds or math.nan
    result.value = median(times)
    ctx.b2_seconds = result.value
    result.floor = ctx.b1_seconds
    result.parts = [
        Part("ratio", result.value / b1, "x B1", 0.3),
        Part("ratio, lastSeen moved", median(stamped) / b1, "x B1", 0.3),
    ]
    result.details = {
        "unchangedReported": min(unchanged),
        "patterns": wl.patterns,
        "lastSeenMoved_s": median(stamped),
    }
    if min(unchanged) != wl.patterns:
        result.note = f"expected all {wl.patterns} patterns unchanged, store said {min(unchanged)}"
    return result


def b12_rescan(ctx: Context) -> Result:
    """What a scanner in watch mode does all day: a re-scan where a tenth of the patterns
    moved (locations shifted a line, confidence changed), into a store whose by-file index
    is warm; then the index's refresh on the next ask."""
    wl = ctx.workload
    assert wl is not None and ctx.loaded_root is not None
    result = Result(
        "B12",
        "re-ingest with 10% of patterns changed; by-file index refreshed after",
        unit="s",
        floor_what="B1 (ingest into an empty store), this run",
        target="<= 0.4x B1",
    )
    changed = generate(wl.size, ctx.workdir / "scan-changed.ndjson", seed=ctx.seed, changed=0.1)
    times: list[float] = []
    refreshes: list[float] = []
    updated: list[int] = []
    rebuilt: list[int] = []
    files = sorted(wl.files)[:: max(1, len(wl.files) // 50)]
    reports: list[Any] = []
    sql_share: list[float] = []
    try:
        for _ in range(ctx.repeat):
            with ctx.scratch("b12-") as root:
                shutil.copytree(ctx.loaded_root / ".drift", root / ".drift")
                with driftstore.open(root) as store:
                    for f in files:  # an editor has these open: the index is built and warm
                        store.by_file(f)
                    builds = store._file_index().builds
                    before = _max_location_rowid(root)
                    times.append(timed(lambda: reports.append(store.ingest(changed.path))))
                    updated.append(reports[-1].updated)
                    refreshes.append(timed(lambda: store.by_file(files[0])))
                    rebuilt.append(store._file_index().builds - builds)
                if not sql_share:
                    sql_share.append(_rewrite_share(ctx, root, before))
    finally:
        changed.path.unlink(missing_ok=True)
    b1 = ctx.b1_seconds or math.nan
    result.value = median(times)
    result.floor = ctx.b1_seconds
    result.parts = [Part("ratio", result.value / b1, "x B1", 0.4)]
    result.details = {
        "updatedReported": min(updated),
        "patterns": wl.patterns,
        "indexRefresh_s": median(refreshes),
        "indexRebuilds": max(rebuilt),
        "samples_s": times,
        # SQLite alone deleting and writing again the rows of the patterns that moved, with
        # both location indexes kept, and committing: no Python work can remove it
        "rowRewriteSql_s": sql_share[0],
        "rowRewriteSqlRatio": sql_share[0] / b1,
    }
    return result


def _max_location_rowid(root: Path) -> int:
    conn = apsw.Connection(str(root / ".drift" / "drift.db"), flags=apsw.SQLITE_OPEN_READONLY)
    try:
        return int(conn.execute("SELECT ifnull(max(rowid), 0) FROM pattern_locations").get)
    finally:
        conn.close()


def _rewrite_share(ctx: Context, rescanned: Path, before: int) -> float:
    """Seconds plain SQL takes to do the re-scan's row work on the store before it: delete
    the rows of every pattern whose rows the re-scan replaced, insert the new rows (read back
    from the re-scanned store, so the same tuples), commit."""
    source = apsw.Connection(
        str(rescanned / ".drift" / "drift.db"), flags=apsw.SQLITE_OPEN_READONLY
    )
    try:
        new_rows = [
            tuple(r)
            for r in source.execute(
                f"SELECT {', '.join(LOCATION_COLUMNS)} FROM pattern_locations "
                "WHERE rowid > ? ORDER BY rowid",
                (before,),
            )
        ]
    finally:
        source.close()
    moved = sorted({row[0] for row in new_rows})

    def body(cur: apsw.Cursor) -> None:
        cur.executemany(
            "DELETE FROM pattern_locations WHERE pattern_id = ?", [(pid,) for pid in moved]
        )
        cur.executemany(INSERT_LOCATION, new_rows)

    assert ctx.loaded_root is not None
    with ctx.scratch("b12-sql-") as root:
        shutil.copytree(ctx.loaded_root / ".drift", root / ".drift")
        return timed_transaction(root / ".drift" / "drift.db", body)


_RSS_PROBE = textwrap.dedent(
    """
    import sys

    def high_water_kib():
        # VmHWM belongs to this process image; ru_maxrss would also count the parent's
        # pages this process had between fork and exec
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
        import resource
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

    import driftstore
    base = high_water_kib()
    with driftstore.open(sys.argv[1]) as store:
        report = store.ingest(sys.argv[2])
    print(base, high_water_kib(), report.added)
    """
)


def b9_memory(ctx: Context) -> Result:
    wl = ctx.workload
    assert wl is not None
    result = Result(
        "B9",
        "peak RSS of a process ingesting the scan from NDJSON",
        unit="MiB",
        target="<= 200 MiB",
        drift09=268.0,
    )
    peaks: list[float] = []
    bases: list[float] = []
    for _ in range(max(1, min(ctx.repeat, 2))):
        with ctx.scratch("b9-") as root:
            out = subprocess.run(
                [sys.executable, "-c", _RSS_PROBE, str(root), str(wl.path)],
                check=True,
                capture_output=True,
                text=True,
            ).stdout.split()
        bases.append(int(out[0]) / 1024)
        peaks.append(int(out[1]) / 1024)
    result.value = max(peaks)
    result.parts = [Part("peak", result.value, "MiB", 200)]
    result.details = {"afterImport_MiB": median(bases), "samples_MiB": peaks}
    return result


def scaled(size: Size, factor: float) -> Size:
    return Size(
        f"{size.name}x{factor:g}",
        max(10, round(size.patterns * factor)),
        max(100, round(size.locations * factor)),
        max(10, round(size.files * factor)),
    )


def parse_sizes(text: str | None, main: Size) -> list[Size]:
    if text:
        return [SIZES[s.strip().upper()] for s in text.split(",") if s.strip()]
    if main.name == "S":
        return [scaled(main, 0.25), main]
    return [SIZES["S"], main]


def slope(points: list[tuple[float, float]]) -> float:
    """Least-squares slope of log(seconds) over log(locations)."""
    xs = [math.log(x) for x, _ in points]
    ys = [math.log(y) for _, y in points]
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    den = sum((x - mx) ** 2 for x in xs)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / den


def b10_scaling(ctx: Context, sizes: list[Size]) -> Result:
    result = Result(
        "B10",
        f"ingest time vs locations, {' -> '.join(s.name for s in sizes)}",
        unit="slope",
        target="log-log slope <= 1.1",
    )
    points: list[tuple[float, float]] = []
    per_size: dict[str, Any] = {}
    for size in sizes:
        if ctx.workload is not None and size == ctx.workload.size:
            wl = ctx.workload
            owned = False
        else:
            wl = generate(size, ctx.workdir / f"scan-{size.name}.ndjson", seed=ctx.seed)
            owned = True
        reps = 1 if size.locations >= 5_000_000 else ctx.repeat
        if ctx.workload is not None and size == ctx.workload.size and ctx.b1_seconds:
            seconds = ctx.b1_seconds
        else:
            seconds = median([ingest_fresh(ctx, wl.path)[0] for _ in range(reps)])
        ctx.log(f"  B10 {size.name}: {wl.locations} locations in {seconds:.3f}s")
        points.append((float(wl.locations), seconds))
        per_size[size.name] = {
            "locations": wl.locations,
            "seconds": seconds,
            "locationsPerSecond": wl.locations / seconds,
        }
        if owned:
            wl.path.unlink(missing_ok=True)
    result.value = slope(points)
    result.parts = [Part("slope", result.value, "", 1.1)]
    result.details = {"points": per_size}
    return result
