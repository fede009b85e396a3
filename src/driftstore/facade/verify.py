"""Verify: SQLite's own checks on the database, plus the checksum of every pattern file
present (driftstore's v2 shards, drift 0.9 status files, unified shards, lake shards;
`.backups/` copies are history and are not checked).

The database checks are SQLite's full `integrity_check` (not `quick_check`: only the full
one compares each index with its table, and a damaged index serves wrong answers without
any read failing) and `foreign_key_check`; then every row is read back the way driftstore
reads it, every stored row is compared with the digest written beside it (what finds a
value that changed on disk where SQLite sees a valid record: `engine.integrity`), and the
running totals are recounted. The integrity check is the longest part (benchmarks/NOTES.md)
and runs in a thread of its own, overlapping the row, digest and file checks.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from driftstore.engine.base import Engine
from driftstore.errors import DriftStoreError, InvalidInputError
from driftstore.facade.paths import display
from driftstore.facade.results import Problem, VerifyReport
from driftstore.formats import legacy, shards


def _row_checks(engine: Engine) -> list[str]:
    with engine.read() as r:
        return r.row_problems()


def _texts(check: Callable[[], list[str]]) -> tuple[list[str], bool]:
    """(problems, whether the check itself failed)."""
    try:
        return check(), False
    except DriftStoreError as exc:
        return [str(exc)], True


def verify_store(engine: Engine, drift_dir: Path, *, root: Path, name: str) -> VerifyReport:
    """Every check; the database's own deep check runs in a thread beside the row and file
    checks of this one (SQLite works without the GIL). `name` is how problems of the
    database itself are labelled."""
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="driftstore-verify") as pool:
        deep = pool.submit(engine.check_integrity)
        rows, _ = _texts(lambda: _row_checks(engine))
        files = _file_checks(drift_dir, root)
        database, failed = _texts(deep.result)
    # a database that cannot even be checked is reported as that one problem
    problems = [Problem(name, text) for text in (database if failed else [*database, *rows])]
    problems.extend(files)
    return VerifyReport(ok=not problems, problems=problems)


def _file_checks(drift_dir: Path, root: Path) -> list[Problem]:
    problems: list[Problem] = []
    patterns_dir = drift_dir / "patterns"
    candidates: list[tuple[Path, str, str | None]] = []
    if patterns_dir.is_dir():
        for path in sorted(patterns_dir.glob("*.json")):
            candidates.append((path, "top", None))
        for folder in legacy.STATUS_DIRS:
            for path in sorted((patterns_dir / folder).glob("*.json")):
                candidates.append((path, "status", folder))
    for path in sorted((drift_dir / "lake" / "patterns").glob("*.json")):
        candidates.append((path, "lake", None))
    for path, kind, status in candidates:
        if path.is_symlink() or not path.is_file():
            continue
        name = display(path, root)
        for text in _file_problems(path, kind, status, name):
            problems.append(Problem(name, text))
    return problems


def _file_problems(path: Path, kind: str, status: str | None, name: str) -> list[str]:
    try:
        data = path.read_bytes()
        if kind == "top" and shards.is_v2_shard(data):
            shard = shards.read_v2_shard(data, path=name, expected_category=path.stem)
            found = list(shard.problems)
            if not shard.checksum_ok:
                found.insert(
                    0,
                    f"checksum mismatch: the file says {shard.claimed}, its content gives "
                    f"{shard.computed}",
                )
            return found
        source_kind = "unified" if kind == "top" else kind
        source = legacy.LegacySource(path, source_kind, path.stem, status)
        old = legacy.read_legacy_file(data, source, where=name)
    except InvalidInputError as exc:
        return [str(exc).removeprefix(f"{name}: ")]
    except OSError as exc:
        return [f"cannot read it ({exc.strerror})"]
    if old.claimed is None:
        return ["no checksum"]
    if not old.checksum_ok:
        return [
            f"checksum mismatch ({legacy_rule(source_kind)}): the file says {old.claimed}, "
            f"its content gives {old.computed}"
        ]
    return []


def legacy_rule(kind: str) -> str:
    return "drift's sorted-id rule" if kind == "unified" else "drift 0.9's sha256 rule"
