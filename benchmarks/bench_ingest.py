"""B1 ingest, B2 re-ingest, B9 peak memory, B10 scaling: the write path.

The B1 floor writes exactly the rows the ingest wrote (read back from the ingested
database, prebuilt as tuples) with the engine's own INSERT statements, into a database
opened by the engine's own `Database` class: same schema, same indexes, same pragmas,
same durability (WAL + synchronous=NORMAL), one transaction. It is measured two ways:
with the location indexes in place, and dropped + rebuilt at the end as the ingest does
for an empty store. The ratio is taken against the faster of the two.
"""

from __future__ import annotations

import math
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import driftstore
from benchmarks.generate import SIZES, Size, generate
from benchmarks.harness import Context, Part, Result, median, timed
from driftstore.engine.connection import Database
from driftstore.engine.history import INSERT_HISTORY
from driftstore.engine.rows import (
    INSERT_LOCATION,
    INSERT_PATTERN,
    LOCATION_COLUMNS,
    PATTERN_COLUMNS,
)
from driftstore.engine.schema import LOCATION_INDEXES

HISTORY_COLUMNS = "pattern_id, action, old_value, new_value, created_at, changed_by, reason"

Rows = tuple[list[tuple[Any, ...]], list[tuple[Any, ...]], list[tuple[Any, ...]]]


def stored_rows(root: Path) -> Rows:
    """Every row an ingest wrote, as the tuples its INSERT statements bound."""
    db = Database(root / ".drift" / "drift.db")
    try:
        with db.reader() as conn:
            patterns = [
                tuple(r) for r in conn.execute(f"SELECT {', '.join(PATTERN_COLUMNS)} FROM patterns")
            ]
            locations = [
                tuple(r)
                for r in conn.execute(
                    f"SELECT {', '.join(LOCATION_COLUMNS)} FROM pattern_locations ORDER BY id"
                )
            ]
            history = [
                tuple(r)
                for r in conn.execute(f"SELECT {HISTORY_COLUMNS} FROM pattern_history ORDER BY id")
            ]
    finally:
        db.close()
    return patterns, locations, history


def floor_insert(ctx: Context, rows: Rows, *, rebuild_indexes: bool) -> float:
    """Seconds for plain executemany of `rows` into a fresh engine database, one transaction."""
    patterns, locations, history = rows
    with ctx.scratch("floor-") as folder:
        db = Database(folder / "floor.db")
        cur = db.writer.cursor()

        def work() -> None:
            cur.execute("BEGIN IMMEDIATE")
            if rebuild_indexes:
                for name in LOCATION_INDEXES:
                    cur.execute(f"DROP INDEX {name}")
            cur.executemany(INSERT_PATTERN, patterns)
            cur.executemany(INSERT_LOCATION, locations)
            cur.executemany(INSERT_HISTORY, history)
            if rebuild_indexes:
                for ddl in LOCATION_INDEXES.values():
                    cur.execute(ddl)
            cur.execute("COMMIT")

        try:
            return timed(work)
        finally:
            db.close()


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
        target="<= 1.5x floor and >= 500k locations/s",
        drift09=0.93,
    )
    ingests: list[float] = []
    bulk: list[float] = []
    indexed: list[float] = []
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
        ctx.log(
            f"  B1 rep {rep + 1}: ingest {seconds:.3f}s, floor (rebuild) {bulk[-1]:.3f}s"
            + (f", floor (indexed) {indexed[-1]:.3f}s" if len(indexed) == rep + 1 else "")
        )
    assert rows is not None
    value = median(ingests)
    floor_bulk, floor_indexed = median(bulk), median(indexed)
    result.value = value
    result.floor = min(floor_bulk, floor_indexed)
    ctx.b1_seconds = value
    ctx.b1_floor = result.floor
    rate = wl.locations / value
    result.parts = [
        Part("ratio", value / result.floor, "x floor", 1.5),
        Part("rate", rate, "locations/s", 500_000, kind="min"),
    ]
    result.details = {
        "locations": wl.locations,
        "locationRows": len(rows[1]),
        "patterns": wl.patterns,
        "scanMB": wl.bytes / 1e6,
        "locationsPerSecond": rate,
        "floorRebuildIndexes_s": floor_bulk,
        "floorIndexesInPlace_s": floor_indexed,
        "ratioToIndexesInPlace": value / floor_indexed,
        "floorRowsPerSecond": len(rows[1]) / result.floor,
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
