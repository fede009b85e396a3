"""The PostgreSQL column: B1, B2, B5, B8 and B11 at the run's size on a PostgreSQL store
(issue 15), each beside its floor in the same run. Ids P1, P2, P5, P8, P11 ("B1 on
PostgreSQL", ...).

The server is DRIFTSTORE_TEST_PG's, else a throwaway one started for the run
(tests/pg_server.py: data and socket in a private temp folder, fsync off, as in the tests;
durability settings are the server's business, not driftstore's).
"""

from __future__ import annotations

import io
import random
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg

import driftstore
from benchmarks.bench_reads import _queries
from benchmarks.generate import generate
from benchmarks.harness import Context, Part, Result, latencies, median, percentile, timed


@contextmanager
def database() -> Iterator[str]:
    """A scratch database on the benchmark's server; yields its URL."""
    from tests import pg_server

    with pg_server.server() as url, pg_server.scratch_database(url) as scratch:
        yield scratch


class PgRun:
    """What the PostgreSQL benchmarks share: the database, a project holding the workload."""

    def __init__(self, ctx: Context, url: str) -> None:
        self.ctx = ctx
        self.url = url
        self.root = ctx.fresh_dir("pg-root-")
        self.loaded: str | None = None
        self.b1: float | None = None
        self._n = 0

    def project(self) -> str:
        self._n += 1
        return f"bench-{self._n}"

    def open(self, project: str, *, create: bool = True) -> driftstore.PatternStore:
        return driftstore.open(self.root, store=self.url, project=project, create=create)

    def ingest_fresh(self) -> tuple[float, str]:
        wl = self.ctx.workload
        assert wl is not None
        name = self.project()
        with self.open(name) as store:
            seconds = timed(lambda: store.ingest(wl.path))
        return seconds, name

    def ensure_loaded(self) -> str:
        if self.loaded is None:
            self.b1, self.loaded = self.ingest_fresh()
        return self.loaded


_TABLES = ("patterns", "pattern_locations", "pattern_history")


def _copy_out(url: str, project: str) -> dict[str, tuple[list[str], bytes]]:
    """The project's rows of the tables an ingest fills, in COPY's text format, with the
    project column left for the floor to fill in."""
    out: dict[str, tuple[list[str], bytes]] = {}
    with psycopg.connect(url) as conn:
        for table in _TABLES:
            columns = [
                r[0]
                for r in conn.execute(
                    "SELECT column_name FROM information_schema.columns WHERE table_name = %s "
                    "AND column_name <> 'project' ORDER BY ordinal_position",
                    (table,),
                )
            ]
            buffer = io.BytesIO()
            with conn.cursor().copy(
                f"COPY (SELECT {', '.join(columns)} FROM {table} WHERE project = %s) TO STDOUT",
                (project,),
            ) as copy:
                for block in copy:
                    buffer.write(block)
            out[table] = (columns, buffer.getvalue())
    return out


def _floor_copy(url: str, project: str, rows: dict[str, tuple[list[str], bytes]]) -> float:
    """Seconds to COPY the same rows into a new project of the same schema, indexes in
    place, in one transaction (the project key supplied by a column default for the copy)."""
    with psycopg.connect(url) as conn:
        for table in _TABLES:  # lets COPY leave the project column out
            conn.execute(
                f"ALTER TABLE {table} ALTER COLUMN project SET DEFAULT {_literal(project)}"
            )
        conn.commit()

        def work() -> None:
            with conn.transaction():
                conn.execute(
                    "INSERT INTO driftstore_projects (project, created_at) VALUES (%s, 'x')",
                    (project,),
                )
                for table in _TABLES:
                    columns, data = rows[table]
                    with conn.cursor().copy(
                        f"COPY {table} ({', '.join(columns)}) FROM STDIN"
                    ) as copy:
                        view = memoryview(data)
                        for start in range(0, len(view), 1 << 20):
                            copy.write(view[start : start + (1 << 20)])

        try:
            return timed(work)
        finally:
            for table in _TABLES:
                conn.execute(f"ALTER TABLE {table} ALTER COLUMN project DROP DEFAULT")
            conn.commit()


def _literal(text: str) -> str:
    assert text.replace("-", "").isalnum()
    return f"'{text}'"


def p1_ingest(run: PgRun) -> Result:
    ctx = run.ctx
    result = Result(
        "P1",
        "B1 on PostgreSQL: ingest a scan into an empty project",
        unit="s",
        floor_what="COPY of the same rows into a new project, same schema, indexes in place",
        target="<= 1.3x floor",
    )
    reps = max(1, min(ctx.repeat, 3))
    ingests, floors = [], []
    rows = None
    for rep in range(reps):
        seconds, name = run.ingest_fresh()
        ingests.append(seconds)
        if rows is None:
            rows = _copy_out(run.url, name)
            run.loaded = name
        floors.append(_floor_copy(run.url, f"floor-{rep}", rows))
        ctx.log(f"  P1 rep {rep + 1}: ingest {seconds:.3f}s, COPY floor {floors[-1]:.3f}s")
    result.value, result.floor = median(ingests), median(floors)
    run.b1 = result.value
    result.parts = [Part("ratio", result.value / result.floor, "x floor", 1.3)]
    result.details = {"samples_s": ingests, "floorSamples_s": floors}
    return result


def p2_reingest(run: PgRun) -> Result:
    wl = run.ctx.workload
    assert wl is not None
    name = run.ensure_loaded()
    result = Result(
        "P2",
        "B2 on PostgreSQL: ingest the same scan again (nothing changed)",
        unit="s",
        floor_what="P1, this run",
        target="<= 0.3x P1",
    )
    times: list[float] = []
    reports: list[driftstore.IngestReport] = []
    with run.open(name) as store:
        for _ in range(max(1, min(run.ctx.repeat, 3))):
            times.append(timed(lambda: reports.append(store.ingest(wl.path))))
    unchanged = [r.unchanged for r in reports]
    result.value, result.floor = median(times), run.b1
    result.parts = [Part("ratio", result.value / (run.b1 or float("nan")), "x P1", 0.3)]
    if min(unchanged) != wl.patterns:
        result.note = f"expected {wl.patterns} unchanged, got {min(unchanged)}"
    return result


def p5_query_status(run: PgRun) -> Result:
    name = run.ensure_loaded()
    result = Result(
        "P5",
        "B5 on PostgreSQL: filtered, sorted query at offset 1,000, limit 50 (p95) / status",
        unit="ms",
        target="query p95 <= 5 ms",
    )
    n = 60 if run.ctx.quick else 300
    plans = _queries(n)
    with run.open(name) as store:
        pages = latencies(
            lambda i: store.query(filter=plans[i][0], sort=plans[i][1], offset=1000, limit=50),
            n,
            budget_s=15.0,
        )
        status = latencies(lambda i: store.status(), min(n, 60), budget_s=15.0)
    q_ms, s_ms = [s * 1000 for s in pages], [s * 1000 for s in status]
    result.value = percentile(q_ms, 95)
    result.parts = [Part("query p95", result.value, "ms", 5.0)]
    result.details = {
        "queryP50_ms": percentile(q_ms, 50),
        "statusP50_ms": percentile(s_ms, 50),
        "statusP95_ms": percentile(s_ms, 95),
    }
    return result


_WRITER = textwrap.dedent(
    """
    import sys
    import driftstore
    with driftstore.open(sys.argv[1], store=sys.argv[2], project=sys.argv[3]) as store:
        for scan in sys.argv[4:]:
            store.ingest(scan)
    """
)


def p8_reads_during_ingest(run: PgRun) -> Result:
    ctx = run.ctx
    wl = ctx.workload
    assert wl is not None
    name = run.ensure_loaded()
    result = Result(
        "P8",
        "B8 on PostgreSQL: 4 threads doing by_file while another process ingests",
        unit="reads/s",
        target=">= 10,000 reads/s total, zero errors",
    )
    changed = generate(wl.size, ctx.workdir / "pg-changed.ndjson", seed=ctx.seed, changed=0.1)
    files = random.Random(f"{ctx.seed}/p8").choices(wl.files, k=50_000)
    counts, errors = [0, 0, 0, 0], []
    go, stop = threading.Event(), threading.Event()
    try:
        with run.open(name) as store:
            store.by_file(files[0])

            def reader(slot: int) -> None:
                rng = random.Random(slot)
                go.wait()
                n = 0
                while not stop.is_set():
                    try:
                        store.by_file(files[rng.randrange(len(files))])
                    except Exception as exc:  # counted; none may happen
                        errors.append(f"{type(exc).__name__}: {exc}")
                    n += 1
                counts[slot] = n

            threads = [threading.Thread(target=reader, args=(i,)) for i in range(4)]
            for t in threads:
                t.start()
            writer = subprocess.Popen(
                [sys.executable, "-c", _WRITER, str(run.root), run.url, name,
                 str(changed.path), str(wl.path)],
                stderr=subprocess.PIPE, text=True,
            )  # fmt: skip
            start = time.perf_counter()
            go.set()
            _, err = writer.communicate(timeout=1800)
            stop.set()
            elapsed = time.perf_counter() - start
            for t in threads:
                t.join()
    finally:
        changed.path.unlink(missing_ok=True)
    result.value = sum(counts) / elapsed
    result.parts = [
        Part("reads/s", result.value, "reads/s", 10_000, kind="min"),
        Part("errors", float(len(errors)), "errors", 0),
    ]
    result.details = {"window_s": elapsed, "errors": len(errors)}
    if writer.returncode != 0:
        result.note = f"the writer failed: {err.strip()[-200:]}"
    elif errors:
        result.note = f"first error: {errors[0][:200]}"
    return result


def p11_approve(run: PgRun) -> Result:
    ctx = run.ctx
    wl = ctx.workload
    assert wl is not None
    name = run.ensure_loaded()
    result = Result(
        "P11",
        "B11 on PostgreSQL: one approve with its history row, committed (p95)",
        unit="ms",
        target="p95 <= 10 ms",
    )
    n = 40 if ctx.quick else 300
    ids = random.Random(f"{ctx.seed}/p11").sample(wl.ids, min(len(wl.ids), n))
    with run.open(name) as store:
        samples = latencies(lambda i: store.approve(ids[i]), len(ids), budget_s=20, warmup=0)
    ms = [s * 1000 for s in samples]
    result.value = percentile(ms, 95)
    result.parts = [Part("p95", result.value, "ms", 10.0)]
    result.details = {"p50_ms": percentile(ms, 50)}
    return result


STEPS = {
    "P1": p1_ingest,
    "P2": p2_reingest,
    "P5": p5_query_status,
    "P8": p8_reads_during_ingest,
    "P11": p11_approve,
}


def run_all(ctx: Context, wanted: set[str]) -> dict[str, Result]:
    """The PostgreSQL benchmarks asked for, on one server and database."""
    out: dict[str, Result] = {}
    with database() as url:
        run = PgRun(ctx, url)
        for bid, step in STEPS.items():
            if bid in wanted:
                ctx.log(f"{bid} ...")
                out[bid] = step(run)
    return out
