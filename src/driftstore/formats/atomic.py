"""Files that are either the old version or the new one, never half of either.

Bytes go to a temp file in the same folder, are fsynced, and renamed over the target; the
folder is fsynced so the rename itself survives a crash. A crash leaves at most a temp
file, which `remove_stale_temps` clears on the next write into that folder.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
import time
from pathlib import Path

#: temp files are `.{target name}.{random}.driftstore-tmp`
TEMP_SUFFIX = ".driftstore-tmp"
#: a temp file older than this is left over from a crash (a live writer renames in ms)
STALE_AFTER_SECONDS = 60.0
_DEFAULT_MODE = 0o644


def fsync_dir(folder: Path) -> None:
    """Make a rename or unlink in `folder` durable (a no-op where folders cannot be opened)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        with contextlib.suppress(OSError):
            os.fsync(fd)
    finally:
        os.close(fd)


def write_atomic(path: Path, data: bytes, *, sync_folder: bool = True) -> None:
    """Replace `path` with `data` in one step; the folder is created if needed.

    `sync_folder=False` leaves the folder's fsync to the caller, who writes several files
    into it and syncs it once (`fsync_dir`) before calling them durable."""
    folder = path.parent
    folder.mkdir(parents=True, exist_ok=True)
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
    except FileNotFoundError:
        mode = _DEFAULT_MODE
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=TEMP_SUFFIX, dir=folder)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    if sync_folder:
        fsync_dir(folder)


def remove_file(path: Path) -> bool:
    """Delete `path` durably; False if it was not there."""
    try:
        path.unlink()
    except FileNotFoundError:
        return False
    fsync_dir(path.parent)
    return True


def remove_stale_temps(folder: Path, *, older_than: float = STALE_AFTER_SECONDS) -> list[Path]:
    """Delete temp files a crashed writer left in `folder`; returns what was removed."""
    removed: list[Path] = []
    if not folder.is_dir():
        return removed
    cutoff = time.time() - older_than
    for candidate in folder.glob(f".*{TEMP_SUFFIX}"):
        with contextlib.suppress(FileNotFoundError):
            if candidate.is_file() and candidate.stat().st_mtime <= cutoff:
                candidate.unlink()
                removed.append(candidate)
    if removed:
        fsync_dir(folder)
    return removed


def read_if_exists(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return None
