"""Store addresses for PostgreSQL: the URL (libpq's environment variables and .pgpass fill
what it leaves out), the project name, and the URL as it may be shown (no password)."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from driftstore.errors import InvalidInputError

SCHEMES = ("postgresql://", "postgres://")
#: a project name: what a team would type, safe in messages and as a key
_PROJECT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")


def is_postgres(url: str) -> bool:
    return url.startswith(SCHEMES)


def redact(url: str) -> str:
    """The URL without its password (user, host, port, database and options kept)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "postgresql://…"
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, host = netloc.rsplit("@", 1)
        user = userinfo.split(":", 1)[0]
        netloc = f"{user}@{host}" if ":" not in userinfo else f"{user}:***@{host}"
    query = re.sub(r"(?i)(^|&)(password)=[^&]*", r"\1\2=***", parts.query)
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def scrub(text: str, url: str) -> str:
    """`text` (a driver's error message) with the URL's password taken out wherever it
    appears."""
    try:
        password = urlsplit(url).password
    except ValueError:
        password = None
    if password:
        text = text.replace(password, "***")
    return text.replace(url, redact(url))


def check_project(name: str) -> str:
    if not _PROJECT.match(name):
        shown = name if len(name) <= 40 else name[:37] + "..."
        raise InvalidInputError(
            f"project name {shown!r} is not valid: use letters, digits, '.', '_' and '-' "
            "(up to 128, starting with a letter or digit)"
        )
    return name


def default_project(root: Path) -> str:
    """The default project name: the project folder's name, made valid, so every checkout
    of one repository (a developer's, each CI runner's) names the same project (documented
    in the README: `--project` overrides it)."""
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "-", root.name).strip("-._")[:128]
    return cleaned or "project"
