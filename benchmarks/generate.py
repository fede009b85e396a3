"""Seeded workload generator: NDJSON scans shaped like real drift scans (benchmarks.md).

The same seed and size give the same bytes on every run and machine, so figures from
different runs measure the code, not the data. Shape of the data:

- skew: a few "heavy" patterns own ~40% of all locations (10k+ each at size M), a middle
  band owns ~30%, and the long tail (most patterns) has under a hundred each;
- file popularity is Zipf-like, so some files carry many patterns and most carry few;
- paths are 3-6 folders deep; some segments are unicode; ~5% of patterns come from a
  Windows scanner and spell every path with backslashes;
- outliers are 1-5% per pattern, half the patterns in drift's A1 shape (`outliers` list
  with reason and deviationScore), half in A2 shape (inline `isOutlier` + `outlierReason`).

`changed` > 0 produces a later scan of the same project: the given fraction of patterns
has moved evidence, and every pattern has a newer lastSeen (`restamp` alone: only that).

Run it alone: `python -m benchmarks.generate --size M --out scan.ndjson`.
"""

from __future__ import annotations

import argparse
import itertools
import math
import random
import sys
from dataclasses import dataclass, field
from pathlib import Path

import msgspec

from driftstore.model.enums import CATEGORIES

SUBCATEGORIES = (
    "naming",
    "structure",
    "route-structure",
    "error-handling",
    "async-usage",
    "imports",
    "validation",
    "n-plus-one",
    "connection-pooling",
    "hooks",
    "props",
    "retry",
    "caching",
    "tokens",
    "fixtures",
)

FOLDERS = (
    "src",
    "packages",
    "core",
    "api",
    "services",
    "components",
    "utils",
    "lib",
    "storage",
    "handlers",
    "models",
    "routes",
    "tests",
    "internal",
    "shared",
    "ui",
    "hooks",
    "config",
    "db",
    "auth",
)
UNICODE_FOLDERS = ("données", "文档", "ñandú", "módulos", "Ünïcode", "проект", "ファイル")
STEMS = ("index", "service", "handler", "model", "utils", "client", "store", "view", "types")
EXTENSIONS = (".ts", ".tsx", ".js", ".py", ".rs", ".go")
REASONS = (
    "Synchronous handler",
    "Missing error handling",
    "Inconsistent naming",
    "Deviates from the common structure",
)


@dataclass(frozen=True)
class Size:
    name: str
    patterns: int
    locations: int
    files: int


SIZES: dict[str, Size] = {
    "S": Size("S", 1_000, 50_000, 2_000),
    "M": Size("M", 5_000, 1_000_000, 20_000),
    "L": Size("L", 20_000, 10_000_000, 100_000),
}

DEFAULT_SEED = 20260501
SCAN_TIME = "2026-05-01T12:00:00.000Z"
LATER_SCAN_TIME = "2026-05-02T12:00:00.000Z"
FIRST_SEEN = "2026-04-01T09:30:00.000Z"


@dataclass
class Workload:
    """What was written, for benchmarks that need to know the data (random files, ids)."""

    path: Path
    size: Size
    patterns: int = 0
    locations: int = 0
    outliers: int = 0
    #: location rows the store will hold: locations plus A1-shape outliers
    rows: int = 0
    bytes: int = 0
    #: normalised (`/`) paths that carry at least one location, sorted
    files: list[str] = field(default_factory=list)
    ids: list[str] = field(default_factory=list)


def _allocate(total: int, weights: list[float], minimum: int = 1) -> list[int]:
    """Split `total` into integer parts proportional to `weights`, each >= minimum."""
    scale = sum(weights)
    spare = total - minimum * len(weights)
    raw = [minimum + spare * w / scale for w in weights]
    parts = [math.floor(r) for r in raw]
    missing = total - sum(parts)
    by_remainder = sorted(range(len(raw)), key=lambda i: raw[i] - parts[i], reverse=True)
    for i in by_remainder[:missing]:
        parts[i] += 1
    return parts


def location_counts(size: Size, rng: random.Random) -> list[int]:
    """Per-pattern location counts: heavy head, middle band, long tail under 100."""
    n = size.patterns
    heavy = max(2, round(n * 0.004))
    middle = max(2, round(n * 0.05))
    tail = n - heavy - middle
    budget = _allocate(size.locations, [0.40, 0.30, 0.30], minimum=0)
    counts = _allocate(budget[0], [rng.uniform(0.5, 2.0) for _ in range(heavy)])
    counts += _allocate(budget[1], [rng.uniform(0.5, 2.0) for _ in range(middle)])
    counts += _allocate(budget[2], [rng.lognormvariate(0.0, 1.1) for _ in range(tail)])
    rng.shuffle(counts)
    return counts


def _file_paths(size: Size, rng: random.Random) -> list[str]:
    paths = []
    for i in range(size.files):
        depth = rng.randint(3, 6)
        folders = [rng.choice(FOLDERS) for _ in range(depth)]
        if rng.random() < 0.04:
            folders[rng.randrange(depth)] = rng.choice(UNICODE_FOLDERS)
        stem = rng.choice(STEMS)
        paths.append("/".join(folders) + f"/{stem}-{i}{rng.choice(EXTENSIONS)}")
    return paths


def _level(score: float) -> str:
    if score >= 0.85:
        return "high"
    if score >= 0.70:
        return "medium"
    if score >= 0.50:
        return "low"
    return "uncertain"


def _head(pid: str, index: int, rng: random.Random, score: float, last_seen: str) -> bytes:
    """The entry without its location lists, encoded (closing brace stripped)."""
    category = CATEGORIES[index % len(CATEGORIES)]
    sub = rng.choice(SUBCATEGORIES)
    method = rng.choice(("regex", "ast", "semantic", "structural"))
    entry = {
        "id": pid,
        "category": category,
        "subcategory": sub,
        "name": f"{sub.replace('-', ' ').title()} pattern {index}",
        "description": f"Learns {sub} conventions in {category} code",
        "detector": {
            "type": method,
            "config": {"detectorId": f"{category}/{sub}", "patternId": f"{category}/{sub}/{index}"},
        },
        "confidence": {
            "frequency": round(rng.random(), 2),
            "consistency": round(rng.uniform(0.5, 1.0), 2),
            "age": rng.randint(0, 30),
            "spread": rng.randint(1, 200),
            "score": score,
            "level": _level(score),
        },
        "metadata": {
            "firstSeen": FIRST_SEEN,
            "lastSeen": last_seen,
            "source": "auto-detected",
            "tags": [category, sub],
        },
        "severity": rng.choice(("info", "info", "warning", "error", "hint")),
        "autoFixable": rng.random() < 0.1,
    }
    return msgspec.json.encode(entry)[:-1]


def generate(
    size: Size | str,
    out: Path,
    *,
    seed: int = DEFAULT_SEED,
    changed: float = 0.0,
    restamp: bool = False,
) -> Workload:
    """Write one NDJSON scan to `out` and describe it. `restamp` gives every pattern the
    later lastSeen without moving any evidence (what a re-scan of an unchanged project is)."""
    size = SIZES[size] if isinstance(size, str) else size
    rng = random.Random(f"{seed}/{size.name}")
    counts = location_counts(size, rng)
    paths = _file_paths(size, rng)
    encoded = [msgspec.json.encode(p).decode() for p in paths]
    windows = [msgspec.json.encode(p.replace("/", "\\")).decode() for p in paths]
    weights = [1.0 / (rank + 1) ** 0.8 for rank in range(size.files)]
    rng.shuffle(weights)
    cum = list(itertools.accumulate(weights))
    file_range = range(size.files)
    change_rng = random.Random(f"{seed}/{size.name}/changed/{changed}")
    last_seen = LATER_SCAN_TIME if changed or restamp else SCAN_TIME
    ids: set[str] = set()
    used: set[int] = set()
    wl = Workload(path=out, size=size)
    with out.open("wb") as handle:
        for index, n in enumerate(counts):
            pid = f"{rng.getrandbits(64):016x}"
            while pid in ids:
                pid = f"{rng.getrandbits(64):016x}"
            ids.add(pid)
            score = round(rng.uniform(0.3, 1.0), 2)
            moved = changed > 0 and change_rng.random() < changed
            if moved:
                score = round(min(1.0, score + 0.01), 2)
            head = _head(pid, index, rng, score, last_seen)
            names = windows if rng.random() < 0.05 else encoded
            inline = rng.random() < 0.5  # A2 shape: outliers flagged inside `locations`
            outlier_rate = rng.uniform(0.01, 0.05)
            k = int(n * outlier_rate + rng.random())
            files = sorted(rng.choices(file_range, cum_weights=cum, k=n))
            used.update(files)
            lines = [rng.randint(1, 2000) for _ in range(n)]
            shift = 1 if moved else 0
            flagged = set(rng.sample(range(n), min(k, n))) if inline else set()
            parts = []
            for j, (f, line) in enumerate(zip(files, lines, strict=True)):
                col = (line * 7 + j) % 80
                if inline:
                    if j in flagged:
                        parts.append(
                            f'{{"file":{names[f]},"line":{line + shift},"column":{col},'
                            f'"isOutlier":true,"confidence":0.41,'
                            f'"outlierReason":"{REASONS[j % len(REASONS)]}"}}'
                        )
                    else:
                        parts.append(
                            f'{{"file":{names[f]},"line":{line + shift},"column":{col},'
                            f'"isOutlier":false,"confidence":{score}}}'
                        )
                else:
                    parts.append(f'{{"file":{names[f]},"line":{line + shift},"column":{col}}}')
            outliers = []
            if not inline:
                for j in range(k):
                    f = rng.choices(file_range, cum_weights=cum, k=1)[0]
                    used.add(f)
                    outliers.append(
                        f'{{"file":{names[f]},"line":{rng.randint(1, 2000)},"column":{j % 80},'
                        f'"reason":"{REASONS[j % len(REASONS)]}",'
                        f'"deviationScore":{round(rng.uniform(0.5, 1.0), 2)}}}'
                    )
            tail = f',"locations":[{",".join(parts)}],"outliers":[{",".join(outliers)}]}}\n'
            line_bytes = head + tail.encode()
            handle.write(line_bytes)
            wl.patterns += 1
            wl.locations += n
            wl.outliers += k
            wl.rows += n + (0 if inline else k)
            wl.bytes += len(line_bytes)
    wl.ids = sorted(ids)
    wl.files = sorted(paths[i] for i in used)
    return wl


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", choices=sorted(SIZES), default="S")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--changed", type=float, default=0.0, help="fraction of moved patterns")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    wl = generate(args.size, args.out, seed=args.seed, changed=args.changed)
    print(
        f"{wl.path}: {wl.patterns} patterns, {wl.locations} locations, {wl.outliers} outliers, "
        f"{wl.rows} location rows, {len(wl.files)} files, {wl.bytes / 1e6:.1f} MB"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
