"""Another process on the same store, for the contract's cross-process tests.

    python -m tests.engine.contract.worker KIT FOLDER put ID...
    python -m tests.engine.contract.worker KIT FOLDER wait-generation N

`put` stores plain patterns in one write and prints the generation after it;
`wait-generation` polls `Engine.generation()` until it reaches N (at most 5 s) and prints
what it saw, and the ids of the patterns stored.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from tests.engine.contract.data import pattern, put
from tests.engine.contract.kits import kit_named


def main(argv: list[str]) -> int:
    kit_name, folder, action, *args = argv
    engine = kit_named(kit_name).locate(Path(folder)).open(create=False, on_migration=None)
    try:
        if action == "put":
            put(engine, *(pattern(pid) for pid in args))
            print(engine.generation())
            return 0
        if action == "wait-generation":
            want = int(args[0])
            deadline = time.monotonic() + 5
            while engine.generation() < want and time.monotonic() < deadline:
                time.sleep(0.005)
            with engine.read() as r:
                print(engine.generation(), ",".join(p.id for p in r.patterns()))
            return 0
    finally:
        engine.close()
    print(f"unknown action {action!r}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
