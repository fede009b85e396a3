"""The benchmark program: `python -m benchmarks --size S|M|L [--json] [--only B1,B3] ...`.

Generates the seeded workload, runs B1-B19 (benchmarks.md) with their floors in the same
run, prints a table (or one JSON document with --json) and exits 0; 1 only when a
benchmark itself crashed. Targets are reported, never enforced: the figures are for people
and for scripts reading `met`.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import shutil
import sys
import tempfile
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

import apsw
import msgspec

from benchmarks import bench_ci, bench_files, bench_ingest, bench_reads, bench_servers
from benchmarks.generate import DEFAULT_SEED, SIZES, generate
from benchmarks.harness import Context, Part, Result

ORDER = (
    "B1",
    "B2",
    "B3",
    "B4",
    "B5",
    "B6",
    "B7",
    "B8",
    "B11",
    "B12",
    "B16",
    "B17",
    "B18",
    "B19",
    "L1",
    "H1",
    "M1",
    "B9",
    "B10",
    "P1",
    "P2",
    "P5",
    "P8",
    "P11",
)
#: the PostgreSQL column (bench_postgres): run on one server after the SQLite benchmarks
POSTGRES = ("P1", "P2", "P5", "P8", "P11")
NEEDS_STORE = {
    "B2", "B3", "B4", "B5", "B6", "B7", "B8", "B11", "B12", "B16", "B17", "B18", "B19",
    "L1", "H1", "M1",
}  # fmt: skip


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks", description="driftstore benchmarks B1-B19 (benchmarks.md)"
    )
    parser.add_argument("--size", choices=sorted(SIZES), default="M", help="workload (default M)")
    parser.add_argument("--json", action="store_true", help="one JSON document on stdout")
    parser.add_argument("--only", help="comma-separated ids, e.g. B1,B3")
    parser.add_argument("--repeat", type=int, default=None, help="repetitions (default 5; 2 quick)")
    parser.add_argument("--out", type=Path, help="also write the JSON document to this file")
    parser.add_argument("--sizes", help="sizes for B10 scaling, e.g. S,M,L (default: S and --size)")
    parser.add_argument("--quick", action="store_true", help="fewer repetitions and samples")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--workdir", type=Path, help="scratch folder (default: a temp folder)")
    args = parser.parse_args(argv)
    wanted = set(ORDER)
    if args.only:
        wanted = {s.strip().upper() for s in args.only.split(",") if s.strip()}
        unknown = wanted - set(ORDER)
        if unknown:
            parser.error(f"--only: unknown benchmark(s) {', '.join(sorted(unknown))}")
    args.wanted = wanted
    if args.repeat is None:
        args.repeat = 2 if args.quick else 5
    if args.repeat < 1:
        parser.error("--repeat must be 1 or more")
    return args


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _prepare_store(ctx: Context) -> None:
    """A loaded store for the read benchmarks when B1 (which leaves one) was not run."""
    assert ctx.workload is not None
    _, root = bench_ingest.ingest_fresh(ctx, ctx.workload.path, keep=True)
    ctx.loaded_root = root


def run(args: argparse.Namespace) -> tuple[dict[str, Any], bool]:
    size = SIZES[args.size]
    base = args.workdir or Path(tempfile.gettempdir())
    base.mkdir(parents=True, exist_ok=True)
    workdir = Path(tempfile.mkdtemp(prefix=f"driftstore-bench-{size.name}-", dir=base))
    ctx = Context(
        size=size,
        repeat=args.repeat,
        quick=args.quick,
        workdir=workdir,
        seed=args.seed,
        log=_log,
    )
    crashed = False
    results: dict[str, Result] = {}
    try:
        _log(f"generating size {size.name} (seed {args.seed}) in {workdir}")
        ctx.workload = generate(size, workdir / f"scan-{size.name}.ndjson", seed=args.seed)
        wl = ctx.workload
        _log(
            f"  {wl.patterns} patterns, {wl.locations} locations, {wl.rows} location rows, "
            f"{len(wl.files)} files, {wl.bytes / 1e6:.1f} MB"
        )
        sizes = bench_ingest.parse_sizes(args.sizes, size)
        steps: dict[str, Callable[[], Result]] = {
            "B1": lambda: bench_ingest.b1_ingest(ctx),
            "B2": lambda: bench_ingest.b2_reingest(ctx),
            "B3": lambda: bench_reads.b3_by_file(ctx),
            "B4": lambda: bench_reads.b4_file_process(ctx),
            "B5": lambda: bench_reads.b5_query_status(ctx),
            "B6": lambda: bench_files.b6_export_import(ctx),
            "B7": lambda: bench_files.b7_backup_restore(ctx),
            "B8": lambda: bench_reads.b8_reads_during_ingest(ctx),
            "B11": lambda: bench_reads.b11_approve(ctx),
            "B12": lambda: bench_ingest.b12_rescan(ctx),
            "B16": lambda: bench_ci.b16_check(ctx),
            "B17": lambda: bench_ci.b17_sarif(ctx),
            "B18": lambda: bench_ci.b18_diff(ctx),
            "B19": lambda: bench_ci.b19_as_of(ctx),
            "L1": lambda: bench_servers.l1_lsp(ctx),
            "H1": lambda: bench_servers.h1_http(ctx),
            "M1": lambda: bench_servers.m1_mcp(ctx),
            "B9": lambda: bench_ingest.b9_memory(ctx),
            "B10": lambda: bench_ingest.b10_scaling(ctx, sizes),
        }
        for bid in ORDER:
            if bid not in args.wanted or bid in POSTGRES:
                continue
            if bid in ("B2", "B12") and ctx.b1_seconds is None:
                ctx.b1_seconds = bench_ingest.ingest_fresh(ctx, wl.path)[0]
            if bid in NEEDS_STORE and ctx.loaded_root is None:
                _prepare_store(ctx)
            _log(f"{bid} ...")
            try:
                results[bid] = steps[bid]()
            except Exception as exc:
                crashed = True
                _log(traceback.format_exc())
                failed = Result(bid, "crashed", note=f"crashed: {type(exc).__name__}: {exc}")
                failed.parts = [Part("ran", None, "", 1, kind="min")]
                results[bid] = failed
            r = results[bid]
            _log(f"{bid}: {_fmt(r.value)} {r.unit} (floor {_fmt(r.floor)}) met={r.met} {r.note}")
        pg_wanted = args.wanted & set(POSTGRES)
        if pg_wanted:
            try:
                from benchmarks import bench_postgres

                results.update(bench_postgres.run_all(ctx, pg_wanted))
            except Exception as exc:
                crashed = True
                _log(traceback.format_exc())
                for bid in sorted(pg_wanted - set(results)):
                    failed = Result(bid, "crashed", note=f"crashed: {type(exc).__name__}: {exc}")
                    failed.parts = [Part("ran", None, "", 1, kind="min")]
                    results[bid] = failed
            for bid in sorted(pg_wanted & set(results)):
                r = results[bid]
                _log(f"{bid}: {_fmt(r.value)} {r.unit} (floor {_fmt(r.floor)}) met={r.met}")
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    document = {
        "size": size.name,
        "seed": args.seed,
        "repeat": args.repeat,
        "quick": args.quick,
        "workload": {
            "patterns": size.patterns,
            "locations": size.locations,
            "files": size.files,
            "locationRows": ctx.workload.rows if ctx.workload else None,
            "scanMB": round(ctx.workload.bytes / 1e6, 1) if ctx.workload else None,
        },
        "machine": {
            "python": platform.python_version(),
            "sqlite": apsw.sqlite_lib_version(),
            "apsw": apsw.apsw_version(),
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
        },
        "at": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "results": {bid: results[bid].as_json() for bid in ORDER if bid in results},
    }
    return document, crashed


def _fmt(value: float | None) -> str:
    if value is None:
        return "-"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.3g}"


def table(document: dict[str, Any]) -> str:
    header = ("id", "value", "floor", "ratio", "target", "met", "drift 0.9", "what")
    rows = [header]
    for bid, r in document["results"].items():
        unit = f" {r['unit']}" if r["unit"] else ""
        rows.append(
            (
                bid,
                f"{_fmt(r['value'])}{unit}",
                _fmt(r["floor"]),
                "-" if r["ratio"] is None else f"{r['ratio']:.2f}x",
                r["target"],
                "yes" if r["met"] else "NO",
                _fmt(r["drift09"]),
                r["what"] + (f" [{r['note']}]" if r["note"] else ""),
            )
        )
    widths = [max(len(str(row[i])) for row in rows) for i in range(len(header) - 1)]
    lines = [
        f"driftstore benchmarks, size {document['size']} ({document['workload']['locations']:,} "
        f"locations), repeat {document['repeat']}, SQLite {document['machine']['sqlite']}, "
        f"{document['machine']['cpus']} CPUs"
    ]
    for row in rows:
        cells = [str(c).ljust(w) for c, w in zip(row[:-1], widths, strict=True)]
        lines.append("  ".join([*cells, str(row[-1])]))
    for bid, r in document["results"].items():
        parts = ", ".join(
            f"{name} {_fmt(p['value'])} {p['unit']} ({'ok' if p['met'] else 'missed'}: {p['target']})"
            for name, p in r["parts"].items()
        )
        lines.append(f"  {bid}: {parts}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    args = _parse(argv)
    document, crashed = run(args)
    encoded = msgspec.json.format(msgspec.json.encode(document), indent=2)
    if args.out:
        args.out.write_bytes(encoded + b"\n")
    if args.json:
        sys.stdout.write(encoded.decode() + "\n")
    else:
        print(table(document))
    return 1 if crashed else 0
