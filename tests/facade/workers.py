"""Worker processes for the cross-process tests: `python -m tests.facade.workers ROLE ROOT ...`."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import driftstore
from tests.factories import entry

PATTERNS_PER_SCAN = 40


def scan_for(generation: int) -> list[dict[str, object]]:
    """Every pattern of one scan carries the generation in its name, so a reader can tell
    a whole scan from a half-applied one."""
    return [
        entry(
            f"p{i:03d}",
            name=f"gen {generation}",
            files=["hot.ts"] * (1 + generation % 5) + [f"f{i}.ts"],
        )
        for i in range(PATTERNS_PER_SCAN)
    ]


def writer(root: Path, generations: int) -> int:
    scan_path = root / "scan.json"
    with driftstore.open(root) as store:
        for generation in range(1, generations + 1):
            scan_path.write_text(json.dumps(scan_for(generation)))
            store.ingest(scan_path)
    return 0


def reader(root: Path, seconds: float) -> int:
    """Reads until the writer's last generation shows up or time runs out; exit 1 on any
    mixed view, 0 otherwise. Prints how many reads it made."""
    deadline = time.monotonic() + seconds
    reads = 0
    with driftstore.open(root) as store:
        while time.monotonic() < deadline:
            page = store.query(limit=None)
            names = {s.name for s in page.patterns}
            hot = store.by_file("hot.ts")
            hot_names = {p.name for p in hot}
            reads += 1
            if len(names) > 1 or (page.total not in (0, PATTERNS_PER_SCAN)):
                print(f"mixed view: {sorted(names)} total={page.total}", file=sys.stderr)
                return 1
            if hot and len(hot) != PATTERNS_PER_SCAN:
                print(f"half an ingest in by_file: {len(hot)}", file=sys.stderr)
                return 1
            if len(hot_names) > 1:
                print(f"mixed by_file view: {sorted(hot_names)}", file=sys.stderr)
                return 1
            for p in hot:
                generation = int(p.name.split()[1])
                if len(p.locations) != 1 + generation % 5:
                    print(f"{p.id}: locations of another generation", file=sys.stderr)
                    return 1
    print(reads)
    return 0


if __name__ == "__main__":
    role, root_arg, amount = sys.argv[1:4]
    if role == "writer":
        sys.exit(writer(Path(root_arg), int(amount)))
    sys.exit(reader(Path(root_arg), float(amount)))
