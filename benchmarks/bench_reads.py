"""B3 by_file, B4 `driftstore file` as a process, B5 query/status, B8 reads during an
ingest, B11 one approve: the read path and single decisions.

Every latency sample is one call on a different, seeded-random input, so no figure can
come from a cached answer to the same question.
"""

from __future__ import annotations

import random
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path
from typing import Any

import apsw
import msgspec

import driftstore
from benchmarks.generate import generate
from benchmarks.harness import (
    Context,
    Part,
    Result,
    latencies,
    median,
    percentile,
    timed,
    unavailable,
)
from driftstore.engine.sqlite.engine import SqliteEngine
from driftstore.engine.sqlite.sql import scalar
from driftstore.model.enums import ConfidenceLevel, Severity, Status
from driftstore.model.pattern import Location
from driftstore.model.query import PatternFilter, Sort, SortField

FLOOR_FILE_SQL = (
    "SELECT pattern_id, line, column_num, is_outlier FROM pattern_locations WHERE file = ?"
)


def _files(ctx: Context, count: int, salt: str) -> list[str]:
    wl = ctx.workload
    assert wl is not None
    return random.Random(f"{ctx.seed}/{salt}").choices(wl.files, k=count)


def _db_path(root: Path) -> Path:
    return root / ".drift" / "drift.db"


def _objects_only(answers: list[list[Any]]) -> list[float]:
    """Seconds to build each answer's objects again from ready Python values: a fresh
    copy of each pattern carrying fresh Locations, nothing looked up, nothing decoded.
    What CPython needs at the least to hand out a first answer of that size as copies
    (what by_file did before its answers became views)."""
    replace = msgspec.structs.replace
    out: list[float] = []
    for answer in answers:
        values = [
            (p.pattern, [(x.file, x.line, x.column) for x in p.locations], p.outliers)
            for p in answer
        ]
        start = time.perf_counter()
        for p, rows, outliers in values:
            replace(
                p, locations=[Location(f, line, col) for f, line, col in rows], outliers=outliers
            )
        out.append(time.perf_counter() - start)
    return out


def _read_every_row(answer: list[Any]) -> int:
    return sum(len(p.locations) + len(p.outliers) for p in answer)


def b3_by_file(ctx: Context) -> Result:
    assert ctx.loaded_root is not None
    result = Result(
        "B3",
        "store.by_file(path) for random files (p50)",
        unit="µs",
        floor_what="SQL lookup through the file index (apsw, same database)",
        target="p50 <= 10 µs, p99 <= 100 µs, index build <= 1 s",
        drift09=10_200.0,
    )
    count = 2_000 if ctx.quick else 20_000
    files = _files(ctx, count, "b3")
    later = _files(ctx, count // 4, "b3-rows")
    with driftstore.open(ctx.loaded_root) as store:
        if not hasattr(store, "by_file"):
            return unavailable(result, "PatternStore.by_file is missing")
        build = timed(lambda: store.by_file(files[0]))
        samples = latencies(lambda i: store.by_file(files[i]), count, budget_s=10.0)
        checked = [len(store.by_file(f)) for f in files[:20]]
        # what a caller pays who reads every row of a first answer (views build them then)
        every_row = latencies(
            lambda i: _read_every_row(store.by_file(later[i])), len(later), budget_s=5.0
        )
        objects_only = [s * 1e6 for s in _objects_only([store.by_file(f) for f in files[:2000]])]
    conn = apsw.Connection(str(_db_path(ctx.loaded_root)), flags=apsw.SQLITE_OPEN_READONLY)
    try:
        floor = latencies(
            lambda i: conn.execute(FLOOR_FILE_SQL, (files[i],)).fetchall(), count, budget_s=5.0
        )
        expected = [len({r[0] for r in conn.execute(FLOOR_FILE_SQL, (f,))}) for f in files[:20]]
    finally:
        conn.close()
    us = [s * 1e6 for s in samples]
    floor_us = [s * 1e6 for s in floor]
    # the store may keep answers per file: split first asks of a file from repeated ones
    seen = set(files[:3])  # asked during warm-up
    cold: list[float] = []
    warm: list[float] = []
    for i, sample in enumerate(us):
        (warm if files[i] in seen else cold).append(sample)
        seen.add(files[i])
    result.value = percentile(us, 50)
    result.floor = percentile(floor_us, 50)
    result.parts = [
        Part("p50", result.value, "µs", 10),
        Part("p99", percentile(us, 99), "µs", 100),
        Part("build", build, "s", 1.0),
    ]
    result.details = {
        "calls": len(us),
        "p99_us": percentile(us, 99),
        "floorP99_us": percentile(floor_us, 99),
        "firstCall_s": build,
        "firstAskP50_us": percentile(cold, 50) if cold else None,
        "firstAskP99_us": percentile(cold, 99) if cold else None,
        "repeatAskP50_us": percentile(warm, 50) if warm else None,
        "firstAsks": len(cold),
        "everyRowReadP50_us": percentile([s * 1e6 for s in every_row], 50),
        "everyRowReadP99_us": percentile([s * 1e6 for s in every_row], 99),
        # the least a first ask costs in CPython when it copies patterns and builds rows
        "objectsOnlyP50_us": percentile(objects_only, 50),
        "objectsOnlyP99_us": percentile(objects_only, 99),
    }
    if checked != expected:
        result.note = "by_file returned a different number of patterns than the SQL lookup"
        result.parts.append(Part("correct", 0, "", 1, kind="min"))
    return result


def _cli() -> list[str]:
    exe = Path(sys.executable).parent / "driftstore"
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "driftstore.cli.main"]


def b4_file_process(ctx: Context) -> Result:
    assert ctx.loaded_root is not None
    result = Result(
        "B4",
        "`driftstore file PATH --json` as a whole process (median wall)",
        unit="ms",
        floor_what="python -c pass",
        target="<= 150 ms wall",
    )
    runs = 3 if ctx.quick else 15
    files = _files(ctx, runs, "b4")
    walls: list[float] = []
    floors: list[float] = []
    for path in files:
        start = time.perf_counter()
        out = subprocess.run(
            [*_cli(), "file", path, "--json", "--root", str(ctx.loaded_root)],
            capture_output=True,
            text=True,
        )
        walls.append((time.perf_counter() - start) * 1000)
        if out.returncode != 0 or '"patterns"' not in out.stdout:
            result.note = f"driftstore file failed: {out.stderr.strip()[:200]}"
            result.parts = [Part("wall", None, "ms", 150)]
            return result
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", "pass"], check=True)
        floors.append((time.perf_counter() - start) * 1000)
    result.value = median(walls)
    result.floor = median(floors)
    result.parts = [Part("wall", result.value, "ms", 150)]
    result.details = {"runs": runs, "max_ms": max(walls)}
    return result


def _queries(n: int) -> list[tuple[PatternFilter, Sort]]:
    """A rotation of filtered, sorted queries that each match well over 1,000 patterns at M."""
    half = ["api", "auth", "security", "errors", "logging", "data-access", "config", "testing"]
    shapes = [
        (
            PatternFilter(statuses=[Status.DISCOVERED], min_confidence=0.5),
            Sort(SortField.CONFIDENCE, descending=True),
        ),
        (PatternFilter(categories=half), Sort(SortField.LOCATION_COUNT, descending=True)),
        (PatternFilter(severities=[Severity.INFO, Severity.WARNING]), Sort(SortField.NAME)),
        (
            PatternFilter(
                levels=[ConfidenceLevel.HIGH, ConfidenceLevel.MEDIUM, ConfidenceLevel.LOW]
            ),
            Sort(SortField.SEVERITY, descending=True),
        ),
    ]
    return [shapes[i % len(shapes)] for i in range(n)]


def b5_query_status(ctx: Context) -> Result:
    assert ctx.loaded_root is not None
    result = Result(
        "B5",
        "filtered, sorted query at offset 1,000, limit 50 (p95) / status (p95)",
        unit="ms",
        target="query p95 <= 1 ms, status p95 <= 1 ms",
        drift09=1.13,
    )
    n = 60 if ctx.quick else 400
    plans = _queries(n)
    with driftstore.open(ctx.loaded_root) as store:
        pages = latencies(
            lambda i: store.query(filter=plans[i][0], sort=plans[i][1], offset=1000, limit=50),
            n,
            budget_s=10.0,
        )
        status = latencies(lambda i: store.status(), n, budget_s=10.0)
        sample = store.query(filter=plans[0][0], sort=plans[0][1], offset=1000, limit=50)
    q_ms = [s * 1000 for s in pages]
    s_ms = [s * 1000 for s in status]
    result.value = percentile(q_ms, 95)
    result.parts = [
        Part("query p95", result.value, "ms", 1.0),
        Part("status p95", percentile(s_ms, 95), "ms", 1.0),
    ]
    result.details = {
        "queryP50_ms": percentile(q_ms, 50),
        "statusP50_ms": percentile(s_ms, 50),
        "statusP95_ms": percentile(s_ms, 95),
        "pageSize": len(sample.patterns),
        "matching": sample.total,
        "drift09StatusP50_ms": 1.7,
    }
    return result


_WRITER = textwrap.dedent(
    """
    import sys
    import driftstore
    with driftstore.open(sys.argv[1]) as store:
        for scan in sys.argv[2:]:
            store.ingest(scan)
    """
)


def b8_reads_during_ingest(ctx: Context) -> Result:
    wl = ctx.workload
    assert wl is not None and ctx.loaded_root is not None
    result = Result(
        "B8",
        "4 threads doing by_file while another process ingests (reads/s)",
        unit="reads/s",
        target=">= 10,000 reads/s total, zero errors",
    )
    changed = generate(wl.size, ctx.workdir / "scan-changed.ndjson", seed=ctx.seed, changed=0.1)
    files = _files(ctx, 50_000, "b8")
    counts = [0, 0, 0, 0]
    errors: list[str] = []
    go = threading.Event()
    stop = threading.Event()
    try:
        with driftstore.open(ctx.loaded_root) as store:
            store.by_file(files[0])

            def reader(slot: int) -> None:
                rng = random.Random(slot)
                go.wait()
                n = 0
                while not stop.is_set():
                    try:
                        store.by_file(files[rng.randrange(len(files))])
                    except Exception as exc:  # every failure is counted, none may happen
                        errors.append(f"{type(exc).__name__}: {exc}")
                    n += 1
                counts[slot] = n

            threads = [threading.Thread(target=reader, args=(i,)) for i in range(4)]
            for t in threads:
                t.start()
            writer = subprocess.Popen(
                [
                    sys.executable,
                    "-c",
                    _WRITER,
                    str(ctx.loaded_root),
                    str(changed.path),
                    str(wl.path),
                ],
                stderr=subprocess.PIPE,
                text=True,
            )
            start = time.perf_counter()
            go.set()
            _, err = writer.communicate()
            stop.set()
            elapsed = time.perf_counter() - start
            for t in threads:
                t.join()
    finally:
        changed.path.unlink(missing_ok=True)
    total = sum(counts)
    result.value = total / elapsed
    result.parts = [
        Part("reads/s", result.value, "reads/s", 10_000, kind="min"),
        Part("errors", float(len(errors)), "errors", 0),
    ]
    result.details = {"window_s": elapsed, "reads": total, "errors": len(errors)}
    if writer.returncode != 0:
        result.note = f"the writer failed: {err.strip()[-200:]}"
        result.parts.append(Part("writer ok", 0, "", 1, kind="min"))
    elif errors:
        result.note = f"first error: {errors[0][:200]}"
    return result


def b11_approve(ctx: Context) -> Result:
    wl = ctx.workload
    assert wl is not None and ctx.loaded_root is not None
    result = Result(
        "B11",
        "one approve of one pattern, committed with its history row (p95)",
        unit="ms",
        target="p95 <= 2 ms",
        drift09=814.0,
    )
    n = 40 if ctx.quick else 300
    ids = random.Random(f"{ctx.seed}/b11").sample(wl.ids, min(len(wl.ids), 2 * n))
    normal, full = ids[:n], ids[n:]
    with driftstore.open(ctx.loaded_root) as store:
        if not hasattr(store, "approve"):
            return unavailable(result, "PatternStore.approve is missing")
        mode = int(scalar(_sqlite_writer(store), "PRAGMA synchronous"))
        samples = latencies(lambda i: store.approve(normal[i]), len(normal), budget_s=20, warmup=0)
        _sqlite_writer(store).execute("PRAGMA synchronous = FULL")
        fsynced = latencies(lambda i: store.approve(full[i]), len(full), budget_s=20, warmup=0)
        approved = store.count(PatternFilter(statuses=[Status.APPROVED]))
    ms = [s * 1000 for s in samples]
    full_ms = [s * 1000 for s in fsynced]
    result.value = percentile(ms, 95)
    result.parts = [Part("p95", result.value, "ms", 2.0)]
    result.details = {
        "p50_ms": percentile(ms, 50),
        "synchronous": {0: "OFF", 1: "NORMAL", 2: "FULL", 3: "EXTRA"}.get(mode, str(mode)),
        "p95WithSynchronousFull_ms": percentile(full_ms, 95) if full_ms else None,
        "approvedAfter": approved,
    }
    if approved < len(samples) + len(fsynced):
        result.note = "fewer patterns approved than approve calls made"
        result.parts.append(Part("correct", 0, "", 1, kind="min"))
    return result


def _sqlite_writer(store: driftstore.PatternStore) -> Any:
    """B11 sets durability on a SQLite store's writer connection."""
    engine = store.engine
    assert isinstance(engine, SqliteEngine)
    return engine.db.writer
