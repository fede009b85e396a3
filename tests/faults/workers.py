"""Child processes for the fault suite: `python -m tests.faults.workers ROLE ROOT [ARG...]`.

An operation worker opens the store, prints `ready`, waits for a line on stdin and only
then runs its one operation, printing `done SECONDS`. The parent can so aim a SIGKILL
inside the operation itself rather than at interpreter start-up.

Exit codes follow the CLI: a DriftStoreError prints one line on stderr and exits with its
code; anything else is a traceback, which the tests treat as a failure.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import driftstore
from tests.faults.data import scan, write_scan
from tests.sqlite_access import database


def _ingest(store: Any, args: list[str]) -> object:
    return store.ingest(args[0], prune="--prune" in args[1:], force=True)


def _export(store: Any, args: list[str]) -> object:
    return store.export(args[0])


def _import(store: Any, args: list[str]) -> object:
    return store.import_(args[0], force="--force" in args[1:])


def _backup(store: Any, args: list[str]) -> object:
    return store.backup(args[0] if args else "fault test")


def _restore(store: Any, args: list[str]) -> object:
    return store.restore(args[0])


def _migrate(store: Any, args: list[str]) -> object:
    return store.migrate()


OPERATIONS: dict[str, Callable[[Any, list[str]], object]] = {
    "ingest": _ingest,
    "export": _export,
    "import": _import,
    "backup": _backup,
    "restore": _restore,
    "migrate": _migrate,
}


def _cap_pages(store: Any, extra: int) -> None:
    """SQLite's own size limit on the writer: the database may grow by `extra` pages."""
    pages = database(store).writer.execute("PRAGMA page_count").fetchall()[0][0]
    database(store).writer.execute(f"PRAGMA max_page_count = {int(pages) + extra}")


def open_only(root: Path) -> int:
    """Open the store after `go`: what a schema upgrade (and its backup) runs inside."""
    print("ready", flush=True)
    sys.stdin.readline()
    started = time.perf_counter()
    try:
        with driftstore.open(root):
            pass
    except driftstore.DriftStoreError as exc:
        print(f"driftstore: {exc}", file=sys.stderr, flush=True)
        return 2 if isinstance(exc, driftstore.InvalidInputError) else 1
    print(f"done {time.perf_counter() - started:.4f}", flush=True)
    return 0


def operation(role: str, root: Path, args: list[str]) -> int:
    with driftstore.open(root) as store:
        if os.environ.get("DRIFTSTORE_TEST_EXTRA_PAGES"):
            _cap_pages(store, int(os.environ["DRIFTSTORE_TEST_EXTRA_PAGES"]))
        print("ready", flush=True)
        sys.stdin.readline()
        started = time.perf_counter()
        try:
            OPERATIONS[role](store, args)
        except driftstore.DriftStoreError as exc:
            print(f"driftstore: {exc}", file=sys.stderr, flush=True)
            return 2 if isinstance(exc, driftstore.InvalidInputError) else 1
        print(f"done {time.perf_counter() - started:.4f}", flush=True)
    return 0


def writer(root: Path, prefix: str, seconds: float) -> int:
    """Ingest generation after generation of this writer's own patterns, and move one of
    them between approved and ignored, until time is up. Every committed operation is
    printed (`ingest G`, `move STATUS`), so the parent can check that none was lost."""
    deadline = time.monotonic() + seconds
    scan_path = root / f"scan-{prefix}.json"
    generation = 0
    status = "discovered"
    with driftstore.open(root) as store:
        while time.monotonic() < deadline:
            generation += 1
            write_scan(scan_path, scan(prefix, generation, patterns=30, locations=20))
            try:
                started = time.perf_counter()
                store.ingest(scan_path)
                print(f"ingest {generation} {time.perf_counter() - started:.4f}", flush=True)
                target = "ignored" if status == "approved" else "approved"
                started = time.perf_counter()
                if target == "approved":
                    store.approve(f"{prefix}0000", by=prefix)
                else:
                    store.ignore(f"{prefix}0000", by=prefix)
                status = target
                print(f"move {target} {time.perf_counter() - started:.4f}", flush=True)
            except driftstore.DriftStoreError as exc:
                print(f"driftstore: {exc}", file=sys.stderr, flush=True)
                return 2 if isinstance(exc, driftstore.InvalidInputError) else 1
    return 0


def holder(root: Path) -> int:
    """Keep one store open and answer commands from stdin, one line each: `count`, `file
    PATH` (by-file ids, from the in-memory index), `add ID`, `quit`. What another process
    does to the store meanwhile (a restore) must show in the next answer."""
    from tests.factories import make_pattern

    with driftstore.open(root) as store:
        print("ready", flush=True)
        for line in sys.stdin:
            command, _, arg = line.strip().partition(" ")
            try:
                if command == "count":
                    print(store.count(), flush=True)
                elif command == "file":
                    print(",".join(p.id for p in store.by_file(arg)), flush=True)
                elif command == "add":
                    store.add(make_pattern(arg, files=[f"src/{arg}.ts"]))
                    print("added", flush=True)
                else:
                    return 0
            except driftstore.DriftStoreError as exc:
                print(f"driftstore: {exc}", flush=True)
    return 0


def wal_writer(root: Path, generations: int) -> int:
    """Commit `generations` scans with checkpoints off, then wait to be killed: the WAL
    then holds every one of those commits and the database file none of them."""
    with driftstore.open(root) as store:
        database(store).writer.execute("PRAGMA wal_autocheckpoint = 0")
        for generation in range(1, generations + 1):
            store.ingest(write_scan(root / "scan.json", wal_scan(generation)))
            print(f"committed {generation}", flush=True)
        sys.stdin.readline()
    return 0


def wal_scan(generation: int) -> list[dict[str, Any]]:
    return scan("w", generation, patterns=40 + 10 * generation, locations=10)


if __name__ == "__main__":
    role, root_arg, *rest = sys.argv[1:]
    if role == "writer":
        sys.exit(writer(Path(root_arg), rest[0], float(rest[1])))
    if role == "open":
        sys.exit(open_only(Path(root_arg)))
    if role == "wal":
        sys.exit(wal_writer(Path(root_arg), int(rest[0])))
    if role == "holder":
        sys.exit(holder(Path(root_arg)))
    sys.exit(operation(role, Path(root_arg), rest))
