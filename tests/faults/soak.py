"""The long fault run, from a fresh clone: `.venv/bin/python -m tests.faults.soak`.

Runs the same tests as the quick suite with the soak sizes (DRIFTSTORE_SOAK=1: 620 kills,
thousands of fuzz inputs and flipped bits, three minutes of concurrent load) and the
hypothesis profile `soak`, then prints what was tried. Extra arguments go to pytest
(`-x`, `-k crash`); every size can still be set by its own DRIFTSTORE_* variable, and
DRIFTSTORE_FAULT_SEED picks another seed.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tests.conftest import REPO


def main(argv: list[str]) -> int:
    with tempfile.TemporaryDirectory() as tmp:
        summary = Path(os.environ.get("DRIFTSTORE_FAULT_SUMMARY") or Path(tmp) / "summary.json")
        env = {
            **os.environ,
            "DRIFTSTORE_SOAK": "1",
            "HYPOTHESIS_PROFILE": os.environ.get("HYPOTHESIS_PROFILE", "soak"),
            "DRIFTSTORE_FAULT_SUMMARY": str(summary),
        }
        started = time.monotonic()
        code = subprocess.call(
            [sys.executable, "-m", "pytest", "tests/faults", "-q", *argv], cwd=REPO, env=env
        )
        minutes = (time.monotonic() - started) / 60
        print(f"\nsoak finished in {minutes:.1f} min with exit code {code}")
        if summary.exists():
            counts = json.loads(summary.read_text())
            width = max(map(len, counts), default=0)
            for name, value in counts.items():
                print(f"  {name:<{width}}  {value:>9,}")
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
