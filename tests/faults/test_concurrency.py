"""Two writer processes and four reader threads for a fixed time, with backups taken in
the middle: no "database is locked" reaches anyone (writers wait within the busy
timeout), no acknowledged write is lost, and no reader ever sees half of an ingest.

DRIFTSTORE_CONCURRENCY_SECONDS sets the length (the soak runs it for minutes).
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from pathlib import Path

import apsw

import driftstore
from driftstore import to_builtins
from tests.faults import tally
from tests.faults.checks import db_path, open_and_check
from tests.faults.harness import worker

PREFIXES = ("a", "b")
PATTERNS = 30  # per writer scan (workers.writer)


def _generations(names: list[tuple[str, str]]) -> dict[str, int]:
    """{prefix: generation} from (id, name) pairs; AssertionError when one prefix shows
    two generations at once (half of an ingest)."""
    seen: dict[str, set[int]] = {}
    for pid, name in names:
        seen.setdefault(pid[0], set()).add(int(name.rsplit(" ", 1)[1]))
    for prefix, gens in seen.items():
        assert len(gens) == 1, f"reader saw writer {prefix} at generations {sorted(gens)}"
    return {prefix: gens.pop() for prefix, gens in seen.items()}


class Readers:
    """Four threads reading through one store: lists, single patterns, by-file."""

    def __init__(self, store: driftstore.PatternStore) -> None:
        self.store = store
        self.stop = threading.Event()
        self.reads = Counter[str]()
        self.errors: list[str] = []
        self.slowest = 0.0
        self.slowest_during_backup = 0.0
        self.backing_up = threading.Event()
        self.lock = threading.Lock()

    def run(self, n: int) -> None:
        last: dict[str, int] = {}
        kinds = ("query", "by_file", "get", "status")
        i = 0
        while not self.stop.is_set():
            kind = kinds[(i + n) % len(kinds)]
            i += 1
            started = time.perf_counter()
            try:
                seen = self._read(kind)
            except Exception as exc:
                with self.lock:
                    self.errors.append(f"{kind}: {type(exc).__name__}: {exc}")
                return
            took = time.perf_counter() - started
            with self.lock:
                self.reads[kind] += 1
                self.slowest = max(self.slowest, took)
                if self.backing_up.is_set():
                    self.slowest_during_backup = max(self.slowest_during_backup, took)
            for key, generation in seen.items():
                if generation < last.get(key, 0):
                    with self.lock:
                        self.errors.append(f"{kind}: {key} went back in time")
                    return
                last[key] = generation

    def _read(self, kind: str) -> dict[str, int]:
        store = self.store
        if kind == "query":
            page = store.query(limit=None)
            assert page.total in (0, PATTERNS, 2 * PATTERNS), page.total
            return _generations([(s.id, s.name) for s in page.patterns])
        if kind == "by_file":
            found = store.by_file("src/api/m1.ts")
            return _generations([(p.id, p.name) for p in found])
        if kind == "get":
            # separate calls are separate snapshots: each pattern on its own only moves on
            got = [store.get(f"{prefix}{i:04d}") for prefix in PREFIXES for i in (0, 7)]
            return {p.id: int(p.name.rsplit(" ", 1)[1]) for p in got if p is not None}
        summary = to_builtins(store.status())
        assert summary["totalPatterns"] in (0, PATTERNS, 2 * PATTERNS), summary
        return {}


def test_two_writers_four_readers_and_backups(tmp_path: Path) -> None:
    seconds = tally.size("DRIFTSTORE_CONCURRENCY_SECONDS", 8, 180)
    root = tmp_path / "project"
    root.mkdir()
    with driftstore.open(root):
        pass
    writers = {prefix: worker("writer", root, prefix, str(seconds)) for prefix in PREFIXES}
    backups = 0
    with driftstore.open(root) as store:
        readers = Readers(store)
        threads = [threading.Thread(target=readers.run, args=(n,)) for n in range(4)]
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + seconds
        time.sleep(seconds / 3)
        while time.monotonic() < deadline - 1 and not readers.errors:
            readers.backing_up.set()
            store.backup("during-load")
            readers.backing_up.clear()
            backups += 1
            time.sleep(0.5)
        outputs = {
            prefix: proc.communicate(timeout=seconds + 60) for prefix, proc in writers.items()
        }
        readers.stop.set()
        for thread in threads:
            thread.join(timeout=60)
        assert not readers.errors, readers.errors[:5]

    acknowledged: dict[str, list[str]] = {}
    slowest_write = 0.0
    for prefix, (out, err) in outputs.items():
        assert writers[prefix].returncode == 0, err
        assert "locked" not in err.lower() and "busy" not in err.lower(), err
        acknowledged[prefix] = out.split("\n")[:-1]
        slowest_write = max(
            [slowest_write, *(float(line.split()[-1]) for line in acknowledged[prefix])]
        )
        assert len(acknowledged[prefix]) >= 4, f"writer {prefix} barely ran: {out}"

    # nothing acknowledged is missing: names, statuses and one history row per change
    open_and_check(root)
    conn = apsw.Connection(str(db_path(root)), flags=apsw.SQLITE_OPEN_READONLY)
    try:
        for prefix, lines in acknowledged.items():
            ingests = [int(line.split()[1]) for line in lines if line.startswith("ingest")]
            moves = [line.split()[1] for line in lines if line.startswith("move")]
            names = {
                row[0]
                for row in conn.execute(
                    "SELECT name FROM patterns WHERE id LIKE ?", (f"{prefix}%",)
                )
            }
            assert names == {f"{prefix} gen {ingests[-1]}"}
            status = conn.execute(
                "SELECT status FROM patterns WHERE id = ?", (f"{prefix}0000",)
            ).fetchall()[0][0]
            assert status == moves[-1]
            history = conn.execute(
                "SELECT count(*) FROM pattern_history WHERE pattern_id LIKE ?", (f"{prefix}%",)
            ).fetchall()[0][0]
            assert history == PATTERNS * len(ingests) + len(moves), "a lost write"
    finally:
        conn.close()
    with driftstore.open(root) as store:
        assert len(store.backups()) == backups

    writes = sum(len(lines) for lines in acknowledged.values())
    tally.add("concurrency: seconds", int(seconds))
    tally.add("concurrency: writes acknowledged and found", writes)
    tally.add("concurrency: reads", sum(readers.reads.values()))
    tally.add("concurrency: backups taken under load", backups)
    tally.add("concurrency: slowest write (ms)", int(slowest_write * 1000))
    tally.add(
        "concurrency: slowest read during a backup (ms)", int(readers.slowest_during_backup * 1000)
    )
    assert backups >= 1
    assert readers.slowest_during_backup < 5.0, "readers stalled while a backup ran"
