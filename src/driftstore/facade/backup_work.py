"""Private work folders under `.drift/backups/` (`.tmp-*`): where a backup or a restore
stages its files before anything is published or changed.

A folder's owner holds an exclusive lock on the folder's `.owner` file for as long as it
works there, so a folder left by a run that was killed (its lock went with the process)
is told apart from one another process is writing right now: the next backup, restore or
prune removes a folder older than a minute whose lock it can take. Where the OS offers no
such lock, only folders older than six hours are removed.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

PREFIX = ".tmp-"
OWNER = ".owner"
#: a folder younger than this is never touched (its owner may not have locked it yet)
STALE_SECONDS = 60
#: without OS locks, a folder this old belongs to a run that died
STALE_SECONDS_UNLOCKED = 6 * 3600


def _lock(path: Path, *, wait: bool) -> int | None:
    """An fd holding an exclusive lock on `path` (created if missing); None when another
    process holds it (`wait=False`)."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0), 0o600)
    if fcntl is None:
        return fd
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
    except BlockingIOError:
        os.close(fd)
        return None
    return fd


@contextmanager
def work_folder(folder: Path) -> Iterator[Path]:
    """A new private (0700) folder inside `folder`, locked by this process while in use and
    removed afterwards; stale folders of dead runs are cleared first. A project on a server
    database may have no `.drift/` folder yet: it is made here."""
    folder.mkdir(parents=True, exist_ok=True)
    remove_stale(folder)
    work = Path(tempfile.mkdtemp(prefix=PREFIX, dir=folder))
    try:
        fd = _lock(work / OWNER, wait=True)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    try:
        yield work
    finally:
        shutil.rmtree(work, ignore_errors=True)
        if fd is not None:
            os.close(fd)


def remove_stale(folder: Path, *, now: float | None = None) -> list[str]:
    """Remove work folders whose owner is gone; returns their names."""
    moment = time.time() if now is None else now
    limit = STALE_SECONDS if fcntl is not None else STALE_SECONDS_UNLOCKED
    removed: list[str] = []
    try:
        entries = list(os.scandir(folder))
    except FileNotFoundError:
        return removed
    for entry in entries:
        if not entry.name.startswith(PREFIX) or not entry.is_dir(follow_symlinks=False):
            continue
        with suppress(OSError):
            if moment - entry.stat(follow_symlinks=False).st_mtime < limit:
                continue
            fd = _lock(Path(entry.path) / OWNER, wait=False)
            if fd is None:
                continue  # its owner is alive and working
            try:
                shutil.rmtree(entry.path)
                removed.append(entry.name)
            finally:
                os.close(fd)
    return removed
