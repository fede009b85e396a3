"""Writing an output file the way driftstore writes every file: to a temp name, synced,
renamed over the target (a reader sees the old file or the new one, never half)."""

from __future__ import annotations

from pathlib import Path

from driftstore.formats.atomic import write_atomic


def write_file(path: str | Path, data: bytes) -> None:
    """Replace `path` with `data` in one step (its folder is created if needed)."""
    write_atomic(Path(path), data)
