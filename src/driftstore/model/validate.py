"""Checks every pattern must pass before it is stored, whoever built it."""

from __future__ import annotations

import msgspec
from msgspec import UNSET

from driftstore.errors import InvalidInputError
from driftstore.model.enums import CATEGORY_SET
from driftstore.model.paths import escapes_project, normalise_path
from driftstore.model.pattern import Location, Pattern


def describe_validation_error(exc: msgspec.ValidationError) -> str:
    """`Expected int >= 1 - at $.locations[0].line` -> `locations[0].line: expected int >= 1`."""
    text = str(exc).replace("`", "")
    message, _, where = text.partition(" - at ")
    where = where.removeprefix("$").lstrip(".")
    message = message[:1].lower() + message[1:]
    return f"{where}: {message}" if where else message


def normalise_locations(p: Pattern, *, where: str) -> None:
    """Give every location the `/` spelling; keep the original; refuse escaping paths."""
    for field, items in (("locations", p.locations), ("outliers", p.outliers)):
        for index, loc in enumerate(items):
            f = loc.file
            if "\\" in f or f.startswith("./") or "//" in f or "/./" in f:
                norm = normalise_path(f)
                if loc.original_file is UNSET:
                    loc.original_file = f
                loc.file = norm
                f = norm
            suspicious = not f or f[0] == "/" or ".." in f or (len(f) > 1 and f[1] == ":")
            if suspicious and escapes_project(f):
                raise InvalidInputError(
                    f"{where}: {field}[{index}].file {loc.file!r} is outside the project; "
                    "locations must be project-relative paths without '..'"
                )


def check_category(p: Pattern, *, where: str) -> None:
    if p.category not in CATEGORY_SET:
        raise InvalidInputError(
            f"{where}: category: {p.category!r} is not one of drift's categories "
            f"({', '.join(sorted(CATEGORY_SET))})"
        )


def validated(p: Pattern, *, where: str) -> Pattern:
    """Re-check a pattern built in Python (struct constructors do not check bounds)."""
    try:
        checked = msgspec.convert(msgspec.to_builtins(p), Pattern)
    except msgspec.ValidationError as exc:
        raise InvalidInputError(f"{where}: {describe_validation_error(exc)}") from None
    check_category(checked, where=where)
    normalise_locations(checked, where=where)
    return checked


def location_key(loc: Location) -> tuple[str, int, int]:
    return (loc.file, loc.line, loc.column)
