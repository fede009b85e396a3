"""What every command shares: the global options, finding the store, opening it, and
errors as one line (plus a JSON object with --json).

A command body is: parse (click), call the library, render. `common_options` adds --root
and --json (which also work before the command word, and DRIFTSTORE_ROOT sets the root);
the wrapper resolves the project folder the way git finds `.git` and turns a library or OS
error into one line on stderr and the exit code its class means, never a traceback.
"""

from __future__ import annotations

import errno
import functools
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from driftstore import (
    AmbiguousIdError,
    BackupNotFoundError,
    DriftStoreError,
    ExampleNotFoundError,
    InvalidInputError,
    InvalidStatusTransitionError,
    PatternAlreadyExistsError,
    PatternNotFoundError,
    StoreNotFoundError,
    VariantNotFoundError,
)
from driftstore.cli.hints import hint_for, no_store_hint
from driftstore.cli.text import safe

if TYPE_CHECKING:
    from driftstore import PatternStore

F = TypeVar("F", bound=Callable[..., Any])

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
EXIT_INTERRUPTED = 130  # 128 + SIGINT, what shells report for Ctrl-C
ROOT_ENV = "DRIFTSTORE_ROOT"
STORE_ENV = "DRIFTSTORE_STORE"  # the facade reads them too (facade.store)
PROJECT_ENV = "DRIFTSTORE_PROJECT"

#: errors that mean the caller asked for something that cannot be (exit 2, like usage)
_USAGE_ERRORS = (
    InvalidInputError,
    PatternNotFoundError,
    PatternAlreadyExistsError,
    InvalidStatusTransitionError,
    VariantNotFoundError,
    ExampleNotFoundError,
    BackupNotFoundError,
    StoreNotFoundError,
    AmbiguousIdError,
)
#: OS errors that mean a write found no room: a full disk, a quota, a file-size limit
_NO_ROOM = {errno.ENOSPC, errno.EFBIG, errno.EDQUOT}


@dataclass
class GlobalOptions:
    """Options given before the command word (`driftstore --root DIR --json status`)."""

    root: Path | None = None
    json: bool = False
    store: str | None = None
    project: str | None = None


#: the running command's resolved options: whether it was asked for JSON (errors then also
#: go to stdout as JSON), whether its root was searched for, and the store it names
_state: dict[str, Any] = {"json": False, "searched": False, "store": None, "project": None}


def exit_code_of(exc: DriftStoreError) -> int:
    return EXIT_USAGE if isinstance(exc, _USAGE_ERRORS) else EXIT_FAILED


def fail(message: str, code: int = EXIT_FAILED, *, kind: str = "error") -> None:
    """One line on stderr (and, with --json, one JSON object on stdout), then exit."""
    line = safe(" ".join(str(message).split()))
    if _state["json"]:
        import msgspec

        document = {"ok": False, "error": line, "code": kind, "exitCode": code}
        sys.stdout.write(msgspec.json.encode(document).decode() + "\n")
        sys.stdout.flush()
    click.echo(f"driftstore: {line}", err=True)
    sys.exit(code)


def fail_with(exc: DriftStoreError) -> None:
    message = str(exc)
    extra = hint_for(exc)
    if extra:
        message = f"{message} ({extra})"
    fail(message, exit_code_of(exc), kind=exc.remedy or type(exc).__name__)


def common_options(fn: F) -> F:
    """--root, --json, --store and --project, which every command takes (interface.md)."""
    fn = click.option(
        "--project",
        metavar="NAME",
        default=None,
        help=f"Project within a shared (PostgreSQL) store (default: ${PROJECT_ENV}, else the "
        "project folder's name).",
    )(fn)
    fn = click.option(
        "--store",
        metavar="URL",
        default=None,
        help=f"Store to use: a postgresql:// URL (default: ${STORE_ENV}, else the SQLite "
        "file .drift/drift.db under the root).",
    )(fn)
    fn = click.option(
        "--json",
        "as_json",
        is_flag=True,
        help="Machine output: one JSON document on stdout.",
    )(fn)
    fn = click.option(
        "--root",
        type=click.Path(file_okay=False, path_type=Path),
        default=None,
        help=f"Project folder (default: ${ROOT_ENV}, else the nearest folder up from here "
        "whose .drift/ holds a store, else here).",
    )(fn)
    return fn


def _resolve(kwargs: dict[str, Any]) -> None:
    """Fill `root` and `as_json` from the command, the global options, the environment,
    and the nearest enclosing store."""
    ctx = click.get_current_context(silent=True)
    found = ctx.find_object(GlobalOptions) if ctx is not None else None
    given = found or GlobalOptions()
    if "as_json" in kwargs:
        kwargs["as_json"] = bool(kwargs["as_json"] or given.json)
        _state["json"] = kwargs["as_json"]
    _state["store"] = kwargs.pop("store", None) or given.store
    _state["project"] = kwargs.pop("project", None) or given.project
    if "root" not in kwargs:
        return
    explicit = kwargs["root"] or given.root or os.environ.get(ROOT_ENV) or None
    _state["searched"] = not explicit
    if explicit:
        kwargs["root"] = Path(explicit)
        return
    import driftstore

    here = Path.cwd()
    shared = driftstore.is_server_store(_state["store"] or os.environ.get(STORE_ENV) or "")
    kwargs["root"] = driftstore.find_root(here, shared=shared) or here


def chosen_store() -> tuple[str | None, str | None]:
    """The --store URL and --project name the running command was given (None: the
    environment's, else the defaults)."""
    return _state["store"], _state["project"]


def guarded(fn: F) -> F:
    """Resolve the global options, then turn library and OS errors into one line and an
    exit code."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            _resolve(kwargs)
            return fn(*args, **kwargs)
        except DriftStoreError as exc:
            fail_with(exc)
        except OSError as exc:
            if exc.errno == errno.EPIPE:
                raise  # a closed pipe: main() exits quietly
            where = f"{exc.filename}: " if getattr(exc, "filename", None) else ""
            if exc.errno in _NO_ROOM:
                fail(
                    f"{where}no room to write ({exc.strerror}: the disk is full or a size limit "
                    "was hit); free some space and run the command again"
                )
            fail(f"{where}{exc.strerror or exc}; check the path, its permissions and free space")

    return wrapper  # type: ignore[return-value]


def open_store(root: Path, *, create: bool = False) -> PatternStore:
    """The store of the project at `root`; only commands that bring data in create one."""
    import driftstore

    try:
        return driftstore.open(
            root, create=create, store=_state["store"], project=_state["project"]
        )
    except StoreNotFoundError:
        place = None
        if driftstore.is_server_store(_state["store"] or os.environ.get(STORE_ENV)):
            place = driftstore.store_place(root, _state["store"], _state["project"])
        raise StoreNotFoundError(
            no_store_hint(root, searched=bool(_state["searched"]), place=place)
        ) from None
