"""Editor URIs to the store's project-relative paths and back.

Editors send `file://` URIs, percent-encoded, with Windows drive letters in either case
(`file:///c%3A/src/x.ts`, `file:///C:/src/x.ts`). A document outside the project root maps
to None: it gets no diagnostics.
"""

from __future__ import annotations

import posixpath
import re
from urllib.parse import quote, unquote, urlsplit

_DRIVE = re.compile(r"^/?([A-Za-z]):(/|$)")


def _canonical(path: str) -> str:
    """A `/`-separated absolute path with an upper-case drive letter, `..` resolved."""
    path = path.replace("\\", "/")
    drive = _DRIVE.match(path)
    if drive:
        rest = path[drive.end() - (1 if drive.group(2) else 0) :]
        return f"{drive.group(1).upper()}:" + posixpath.normpath("/" + rest.lstrip("/"))
    return posixpath.normpath(path) if path else path


def uri_to_path(uri: str, root: str) -> str | None:
    """The project-relative path of a file URI under `root`, or None."""
    parts = urlsplit(uri)
    if parts.scheme != "file" or parts.netloc not in ("", "localhost"):
        return None
    absolute = _canonical(unquote(parts.path))
    base = _canonical(root).rstrip("/")
    windows = bool(_DRIVE.match(base))
    inside = (
        absolute.lower().startswith(base.lower() + "/")
        if windows
        else (absolute.startswith(base + "/"))
    )
    if not inside:
        return None
    relative = absolute[len(base) + 1 :]
    return relative or None


def path_to_uri(relative: str, root: str) -> str:
    base = _canonical(root).rstrip("/")
    absolute = f"{base}/{relative}"
    if _DRIVE.match(absolute):
        absolute = "/" + absolute
    return "file://" + quote(absolute, safe="/:")
