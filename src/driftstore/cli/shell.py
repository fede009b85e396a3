"""What every command shares: --root/--json, opening the store, and errors as one line.

A command body is: parse (click), call the library, render. `store_command` wraps the
body so a DriftStoreError (or an OS error) becomes one line on stderr and the exit code
the error class names, never a traceback.
"""

from __future__ import annotations

import errno
import functools
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from driftstore import DriftStoreError

F = TypeVar("F", bound=Callable[..., Any])

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2

#: OS errors that mean a write found no room: a full disk, a quota, a file-size limit
_NO_ROOM = {errno.ENOSPC, errno.EFBIG, errno.EDQUOT}


def fail(message: str, code: int = EXIT_FAILED) -> None:
    """Print one line to stderr and exit."""
    click.echo(f"driftstore: {_one_line(message)}", err=True)
    sys.exit(code)


def _one_line(message: str) -> str:
    return " ".join(str(message).split())


def common_options(fn: F) -> F:
    """--root and --json, which every command takes (interface.md)."""
    fn = click.option(
        "--json",
        "as_json",
        is_flag=True,
        help="Machine output: one JSON document on stdout.",
    )(fn)
    fn = click.option(
        "--root",
        type=click.Path(file_okay=False, path_type=Path),
        default=Path("."),
        show_default=True,
        help="Project folder; the store lives in ROOT/.drift/.",
    )(fn)
    return fn


def guarded(fn: F) -> F:
    """Turn library and OS errors into one line and an exit code."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except DriftStoreError as exc:
            fail(str(exc), exc.exit_code)
        except OSError as exc:
            where = f"{exc.filename}: " if getattr(exc, "filename", None) else ""
            if exc.errno in _NO_ROOM:
                fail(
                    f"{where}no room to write ({exc.strerror}: the disk is full or a size limit "
                    "was hit); free some space and run the command again"
                )
            fail(f"{where}{exc.strerror or exc}; check the path, its permissions and free space")
        except KeyboardInterrupt:
            fail("interrupted; nothing was committed by the interrupted step", 130)

    return wrapper  # type: ignore[return-value]


def open_store(root: Path, *, create: bool = True) -> Any:
    import driftstore

    return driftstore.open(root, create=create)
