"""What every benchmark shares: the result record, timing and statistics, the run context.

Rules kept here so no benchmark can drift from them: times come from perf_counter, a
figure is the median of several repetitions (latencies: percentiles over many calls),
and every result says its floor, ratio, target and whether the target was met.
"""

from __future__ import annotations

import gc
import math
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks.generate import Size, Workload


@dataclass
class Part:
    """One judged figure inside a result (B3 has p50, p99 and build time, for example)."""

    name: str
    value: float | None
    unit: str
    limit: float
    #: "max": value must be <= limit; "min": value must be >= limit
    kind: str = "max"

    @property
    def met(self) -> bool:
        if self.value is None or math.isnan(self.value):
            return False
        return self.value <= self.limit if self.kind == "max" else self.value >= self.limit

    def as_json(self) -> dict[str, Any]:
        return {
            "value": _round(self.value),
            "unit": self.unit,
            "target": f"{'<=' if self.kind == 'max' else '>='} {self.limit:g} {self.unit}".rstrip(),
            "met": self.met,
        }


@dataclass
class Result:
    """One benchmark's figures. `value`/`floor`/`ratio` are what the table prints."""

    id: str
    what: str
    value: float | None = None
    unit: str = ""
    floor: float | None = None
    floor_what: str = ""
    target: str = ""
    parts: list[Part] = field(default_factory=list)
    #: what drift 0.9 does on the same workload (benchmarks.md), same unit, when known
    drift09: float | None = None
    note: str = ""
    details: dict[str, Any] = field(default_factory=dict)
    available: bool = True

    @property
    def ratio(self) -> float | None:
        if self.value is None or not self.floor:
            return None
        return self.value / self.floor

    @property
    def met(self) -> bool:
        return self.available and bool(self.parts) and all(p.met for p in self.parts)

    def as_json(self) -> dict[str, Any]:
        return {
            "what": self.what,
            "value": _round(self.value),
            "unit": self.unit,
            "floor": _round(self.floor),
            "floorWhat": self.floor_what or None,
            "ratio": _round(self.ratio),
            "target": self.target,
            "met": self.met,
            "parts": {p.name: p.as_json() for p in self.parts},
            "drift09": self.drift09,
            "note": self.note or None,
            "details": {k: _round(v) for k, v in self.details.items()},
        }


def unavailable(result: Result, reason: str) -> Result:
    """A benchmark whose feature is not in the store yet: reported, never a crash."""
    result.available = False
    result.note = f"not available yet: {reason}"
    return result


def _round(value: Any) -> Any:
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            return None
        return float(f"{value:.4g}")
    if isinstance(value, dict):
        return {k: _round(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_round(v) for v in value]
    return value


# --- timing -------------------------------------------------------------------------------
def timed(fn: Callable[[], Any]) -> float:
    """Seconds one call takes. Garbage left by earlier work is collected first; the collector
    stays on during the call, as it is for a user."""
    gc.collect()
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def percentile(samples: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100) of a non-empty sample."""
    ordered = sorted(samples)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


def median(samples: list[float]) -> float:
    return statistics.median(samples)


def latencies(
    call: Callable[[int], Any], count: int, *, budget_s: float, warmup: int = 3
) -> list[float]:
    """Per-call seconds of `call(i)` for i in range(count), stopping early at the time budget
    (but never before 50 calls, so percentiles stay meaningful)."""
    for i in range(warmup):
        call(i)
    out: list[float] = []
    clock = time.perf_counter
    deadline = clock() + budget_s
    for i in range(count):
        start = clock()
        call(i)
        end = clock()
        out.append(end - start)
        if end > deadline and len(out) >= 50:
            break
    return out


# --- run context ---------------------------------------------------------------------------
@dataclass
class Context:
    """What one run knows: the size, the repetitions, the scratch folder, the workloads."""

    size: Size
    repeat: int
    quick: bool
    workdir: Path
    seed: int
    workload: Workload | None = None
    #: a store holding the workload (left by B1), for the read benchmarks
    loaded_root: Path | None = None
    b1_seconds: float | None = None
    #: B2 (re-ingest of the same scan), for the CI gate's target
    b2_seconds: float | None = None
    #: B1's floor (raw executemany of the same rows), for benchmarks that also write them
    b1_floor: float | None = None
    log: Callable[[str], None] = print

    @contextmanager
    def scratch(self, prefix: str) -> Iterator[Path]:
        """A fresh folder under the run's workdir, removed afterwards."""
        path = Path(tempfile.mkdtemp(prefix=prefix, dir=self.workdir))
        try:
            yield path
        finally:
            shutil.rmtree(path, ignore_errors=True)

    def fresh_dir(self, prefix: str) -> Path:
        return Path(tempfile.mkdtemp(prefix=prefix, dir=self.workdir))


def directory_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
