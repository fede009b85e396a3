"""Project-relative paths: one spelling for queries, and a refusal for anything that escapes."""

from __future__ import annotations

import re

from driftstore.errors import InvalidInputError

#: the folder in a project that holds its store and the files beside it
DRIFT_DIR = ".drift"

_DRIVE = re.compile(r"^[A-Za-z]:")

#: relative, `/`-separated, no empty, `.` or `..` segment, no NUL, backslash or colon:
#: already the store's spelling on every platform
_STORE_SPELLING = re.compile(r"(?!\.\.?(?:/|\Z))[^/\\\x00:]+(?:/(?!\.\.?(?:/|\Z))[^/\\\x00:]+)*")


def in_store_spelling(text: str) -> bool:
    """True when `text` needs no normalising: what editors and servers send for every
    ask, so the by-file hot path can skip the general path handling."""
    return _STORE_SPELLING.fullmatch(text) is not None and not text.isspace()


def normalise_path(raw: str) -> str:
    """`src\\api\\x.ts`, `./src/api/x.ts` and `src//api/x.ts` all become `src/api/x.ts`.

    Pure string work: it does not look at the file system, so it is cheap enough for
    every location of a scan.
    """
    path = raw.replace("\\", "/")
    if "//" in path:
        path = re.sub("/+", "/", path)
    while path.startswith("./"):
        path = path[2:]
    if "/./" in path:
        path = path.replace("/./", "/")
    if path.endswith("/."):
        path = path[:-2]
    return path


def escapes_project(path: str) -> bool:
    """True for absolute paths, drive letters, and any `..` segment (after normalising)."""
    if not path or path.startswith("/") or _DRIVE.match(path):
        return True
    return any(part == ".." for part in path.split("/"))


def safe_relative_path(raw: str, *, what: str = "path") -> str:
    """Normalise and refuse a path that is empty, absolute or climbs out of the project."""
    if "\x00" in raw:
        raise InvalidInputError(f"{what} {raw!r} contains a NUL byte; give a plain project path")
    path = normalise_path(raw)
    if escapes_project(path):
        raise InvalidInputError(
            f"{what} {raw!r} is outside the project; give a path relative to the project root "
            "without '..'"
        )
    return path
