"""B16-B19, git and CI: the gate over an unchanged scan, SARIF of a capped run, diff over
100k history rows, and as-of of one pattern with 1,000 history rows."""

from __future__ import annotations

import math
import random
import shutil
from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec

import driftstore
from benchmarks.harness import Context, Part, Result, latencies, median, percentile, timed
from driftstore import PatternFilter, Status
from driftstore.engine.base import HistoryRecord
from driftstore.model.clock import format_iso
from driftstore.model.digest import snapshot
from driftstore.model.enums import HistoryAction


def _copy(ctx: Context, prefix: str) -> Any:
    assert ctx.loaded_root is not None
    root = ctx.fresh_dir(prefix)
    # the store alone: earlier benchmarks' backups are not part of these workloads
    shutil.copytree(
        ctx.loaded_root / ".drift", root / ".drift", ignore=shutil.ignore_patterns("backups")
    )
    return root


def b16_check(ctx: Context) -> Result:
    wl = ctx.workload
    assert wl is not None
    result = Result(
        "B16",
        "check an unchanged scan against the store (a tenth of the patterns approved)",
        unit="s",
        floor_what="B2 (re-ingest of the same scan), this run",
        target="<= 0.5x B2",
    )
    root = _copy(ctx, "b16-")
    times: list[float] = []
    with driftstore.open(root) as store:
        ids = sorted(random.Random(f"{ctx.seed}/b16").sample(wl.ids, max(1, len(wl.ids) // 10)))
        store.decide_where(PatternFilter(ids=ids), Status.APPROVED)
        if ctx.b2_seconds is None:
            ctx.b2_seconds = timed(lambda: store.ingest(wl.path))
        reports: list[Any] = []
        for _ in range(ctx.repeat):
            times.append(timed(lambda: reports.append(store.check(wl.path))))
    shutil.rmtree(root, ignore_errors=True)
    b2 = ctx.b2_seconds or math.nan
    result.value = median(times)
    result.floor = ctx.b2_seconds
    result.parts = [Part("ratio", result.value / b2, "x B2", 0.5)]
    last = reports[-1]
    result.details = {
        "approved": len(ids),
        "outliersReported": last.unchanged,
        "new": last.new,
        "samples_s": times,
    }
    if last.new or last.absent:
        result.note = f"an unchanged scan gave {last.new} new and {last.absent} absent outliers"
    return result


def b17_sarif(ctx: Context) -> Result:
    result = Result(
        "B17",
        "sarif of every approved pattern (a capped run of 25,000 results at M)",
        unit="s",
        floor_what="same work: read the outlier rows and pattern heads, msgspec-encode the log",
        target="<= 2x floor",
    )
    root = _copy(ctx, "b17-")
    times: list[float] = []
    floors: list[float] = []
    encodes: list[float] = []
    documents: list[Any] = []
    with driftstore.open(root) as store:
        store.decide_where(PatternFilter(statuses=[Status.DISCOVERED]), Status.APPROVED)
        ids = [s.id for s in store.query(limit=None).patterns]

        def build() -> None:
            documents.append(msgspec.json.decode(store.sarif_log()[0]))

        def same_work() -> None:
            with store.engine.read() as r:
                r.patterns(ids, with_locations=False)
                r.outliers_of(ids)
            msgspec.json.encode(documents[-1])

        for _ in range(ctx.repeat):
            times.append(timed(build))
            floors.append(timed(same_work))
            encodes.append(timed(lambda: msgspec.json.encode(documents[-1])))
    shutil.rmtree(root, ignore_errors=True)
    run = documents[-1]["runs"][0]
    result.value = median(times)
    result.floor = median(floors)
    result.parts = [Part("ratio", result.value / result.floor, "x floor", 2.0)]
    result.details = {
        "results": len(run["results"]),
        "omitted": run["properties"]["driftstoreOmittedResults"],
        "rules": len(run["tool"]["driver"]["rules"]),
        "encodeOnly_s": median(encodes),
        "ratioToEncodeOnly": result.value / median(encodes),
    }
    return result


def _history_store(ctx: Context, rows: int, pattern_rows: int) -> tuple[Any, str, str]:
    """A copy of the loaded store whose history holds `rows` more rows: rounds of updates
    to every pattern (a tenth of them status moves), plus `pattern_rows` updates of one
    pattern; returns (root, a moment half-way, the id of that pattern)."""
    root = _copy(ctx, "hist-")
    start = datetime(2026, 6, 1, tzinfo=UTC)
    with driftstore.open(root) as store:
        patterns = store.engine
        with patterns.read() as r:
            heads = r.patterns(with_locations=False)
            snaps = [(p.id, snapshot(p)) for p in heads]
            busy = snaps[0][0]
            whole = r.pattern(busy)  # with its locations: their count and hash are real
        assert whole is not None
        snaps[0] = (busy, snapshot(whole))
        records: list[HistoryRecord] = []
        tick = 0
        while len(records) < rows:
            for pid, snap in snaps:
                tick += 1
                at = format_iso(start + timedelta(milliseconds=tick))
                if tick % 10 == 0:
                    records.append(
                        HistoryRecord(
                            pid,
                            HistoryAction.APPROVED,
                            {"status": "discovered"},
                            {"status": "approved", "approvedAt": at, "approvedBy": "b"},
                            at,
                            "b",
                        )
                    )
                else:
                    new = dict(snap)
                    new["description"] = f"round {tick}"
                    records.append(HistoryRecord(pid, HistoryAction.UPDATED, snap, new, at))
                if len(records) >= rows:
                    break
        middle = format_iso(start + timedelta(milliseconds=tick // 2))
        busy_snap = dict(snaps[0][1])
        for i in range(pattern_rows):
            tick += 1
            at = format_iso(start + timedelta(milliseconds=tick))
            records.append(
                HistoryRecord(
                    busy, HistoryAction.UPDATED, busy_snap, {**busy_snap, "name": f"n{i}"}, at
                )
            )
        with patterns.write() as w:
            for begin in range(0, len(records), 10_000):
                w.record_history(records[begin : begin + 10_000])
    return root, middle, busy


def b18_diff(ctx: Context) -> Result:
    result = Result("B18", "diff --since over 100,000 history rows", unit="s", target="<= 1 s")
    rows = 10_000 if ctx.quick else 100_000
    root, middle, _busy = _history_store(ctx, rows, 0)
    with driftstore.open(root) as store:
        times = [timed(lambda: store.diff(since=middle)) for _ in range(ctx.repeat)]
        report = store.diff(since=middle)
        total = len(store.history())
    shutil.rmtree(root, ignore_errors=True)
    result.value = median(times)
    result.parts = [Part("seconds", result.value, "s", 1.0)]
    result.details = {
        "historyRows": total,
        "changed": len(report.changed),
        "statusMoves": len(report.status_moves),
        "samples_s": times,
    }
    return result


def b19_as_of(ctx: Context) -> Result:
    result = Result(
        "B19",
        "as_of of one pattern with 1,000 history rows (p95)",
        unit="ms",
        target="p95 <= 10 ms",
    )
    root, _middle, busy = _history_store(ctx, 0, 1_000)
    with driftstore.open(root) as store:
        moment = format_iso(datetime.now(UTC))
        samples = latencies(lambda i: store.as_of(moment).get(busy), 30, budget_s=10, warmup=2)
        rows = len(store.history(busy))
    shutil.rmtree(root, ignore_errors=True)
    ms = [s * 1000 for s in samples]
    result.value = percentile(ms, 95)
    result.parts = [Part("p95", result.value, "ms", 10.0)]
    result.details = {"p50_ms": percentile(ms, 50), "rowsOfThePattern": rows}
    return result
