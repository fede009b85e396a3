"""The bearer token that guards writes: made fresh each time `serve` starts and written to
`.drift/serve.token`, readable by its owner only, so whoever can read the project's files
as that user can write, and a web page cannot."""

from __future__ import annotations

import contextlib
import os
import secrets
from pathlib import Path

TOKEN_FILE = "serve.token"


def issue_token(drift_dir: Path) -> str:
    """A new token, written (mode 0600, temp name then rename) to drift_dir/serve.token."""
    token = secrets.token_urlsafe(32)
    drift_dir.mkdir(parents=True, exist_ok=True)
    target = drift_dir / TOKEN_FILE
    temp = drift_dir / f".{TOKEN_FILE}.{os.getpid()}.tmp"
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(token + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            temp.unlink()
        raise
    return token


def revoke_token(drift_dir: Path, token: str) -> None:
    """Remove the token file if it still holds this server's token."""
    target = drift_dir / TOKEN_FILE
    with contextlib.suppress(OSError):
        if target.read_text().strip() == token:
            target.unlink()
