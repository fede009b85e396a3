"""driftstore in a git repository: the merge driver for shards and index files, and the
setup that registers it (`.gitattributes` plus the repository's git config)."""

from __future__ import annotations

import shlex
import subprocess
from pathlib import Path, PurePosixPath

from driftstore.errors import InvalidInputError
from driftstore.facade.results import GitSetupReport, MergeReport
from driftstore.formats.atomic import write_atomic
from driftstore.formats.shard_merge import merge_index, merge_shards

DRIVER = "driftstore"
ATTRIBUTES = (
    f".drift/patterns/*.json merge={DRIVER}",
    f".drift/indexes/*.json merge={DRIVER}",
)


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return b""
    except OSError as exc:
        raise InvalidInputError(f"{path}: cannot read it ({exc.strerror})") from None


def merge_files(base: Path, ours: Path, theirs: Path, path: str) -> MergeReport:
    """Git's three versions of `path`; the result replaces `ours` (git's %A)."""
    name = PurePosixPath(path.replace("\\", "/"))
    parent = name.parent.name
    if parent == "patterns" and name.suffix == ".json":
        kind, merge = "shard", merge_shards
    elif parent == "indexes" and name.suffix == ".json":
        kind, merge = "index", merge_index
    else:
        raise InvalidInputError(
            f"{path}: not a driftstore shard or index file; check the merge=driftstore lines in "
            ".gitattributes"
        )
    outcome = merge(_read(base), _read(ours), _read(theirs), path=path)
    write_atomic(ours, outcome.data)
    return MergeReport(path=path, kind=kind, changed=outcome.changed, conflicts=outcome.conflicts)


def _git(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(
            ["git", "-C", str(root), *args], capture_output=True, text=True, timeout=30
        )
    except FileNotFoundError:
        raise InvalidInputError("git is not installed (or not on PATH); install it first") from None


def git_setup(root: Path, command: str) -> GitSetupReport:
    """Register the merge driver for this repository, idempotently."""
    probe = _git(root, "rev-parse", "--show-toplevel")
    if probe.returncode != 0:
        raise InvalidInputError(f"{root}: not inside a git repository; run 'git init' first")
    attributes = root / ".gitattributes"
    text = _read(attributes).decode("utf-8", "replace")
    present = {line.strip() for line in text.splitlines()}
    added = [line for line in ATTRIBUTES if line not in present]
    if added:
        block = ("" if not text or text.endswith("\n") else "\n") + "\n".join(added) + "\n"
        write_atomic(attributes, (text + block).encode())
    driver = f"{command} merge-driver %O %A %B %P"
    current = _git(root, "config", "--local", "--get", f"merge.{DRIVER}.driver").stdout.strip()
    configured = current != driver
    if configured:
        for key, value in (
            (f"merge.{DRIVER}.name", "driftstore: three-way merge of pattern shards by id"),
            (f"merge.{DRIVER}.driver", driver),
        ):
            done = _git(root, "config", "--local", key, value)
            if done.returncode != 0:
                raise InvalidInputError(f"git config {key}: {done.stderr.strip()}")
    return GitSetupReport(
        attributes=str(attributes), added=added, driver=driver, configured=configured
    )


def driver_command(executable: str | None) -> str:
    """How git should call driftstore: the given command, else this installation's own
    script (a project's virtual environment is not on git's PATH)."""
    if executable:
        return executable
    import shutil
    import sys

    found = shutil.which("driftstore") or str(Path(sys.argv[0]).resolve())
    return shlex.quote(found)
