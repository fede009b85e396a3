"""How much the fault suite tried, and how hard: counts for the README, sizes from env vars.

The quick suite (part of `pytest`) and the soak (`python -m tests.faults.soak`) run the same
tests; only the sizes differ. Every size can be overridden by its own environment variable,
so a failure found by the soak can be replayed with the same seed and a smaller count.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from pathlib import Path

#: DRIFTSTORE_SOAK=1 switches every default to its soak value
SOAK = os.environ.get("DRIFTSTORE_SOAK", "") == "1"

#: what was tried and survived, by name; printed at the end of the run
COUNTS: Counter[str] = Counter()


def size(env: str, quick: float, soak: float) -> float:
    """The value of `env` if set, else the quick or the soak default."""
    raw = os.environ.get(env)
    if raw:
        return float(raw)
    return soak if SOAK else quick


def count(env: str, quick: int, soak: int) -> int:
    return int(size(env, quick, soak))


def seed() -> int:
    """One seed for every random choice of the run (kill moments, byte flips, limits)."""
    return int(os.environ.get("DRIFTSTORE_FAULT_SEED", "20260501"))


def add(name: str, amount: int = 1) -> None:
    COUNTS[name] += amount


def summary_lines() -> list[str]:
    width = max((len(k) for k in COUNTS), default=0)
    return [f"{name:<{width}}  {COUNTS[name]:>9,}" for name in sorted(COUNTS)]


def write_summary(path: Path) -> None:
    path.write_text(json.dumps(dict(sorted(COUNTS.items())), indent=2) + "\n")
