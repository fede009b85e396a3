"""What a Python caller hands the API, turned into model values or one InvalidInputError.

A library user passes plain data: a dict for a pattern or a scan entry, one string where a
list of strings is expected, `sort="-confidence"`. Everything here either accepts that in
the obvious meaning or refuses it with an InvalidInputError naming the argument, so no raw
AttributeError or ValueError from deep inside reaches the caller.

`checked` does the type half for every public PatternStore method from its annotations,
resolved once per method, so a wrong type is refused before any work starts.
"""

from __future__ import annotations

import functools
import inspect
import types
import typing
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import PurePath
from typing import Any, TypeVar, Union

import msgspec

from driftstore.errors import InvalidInputError
from driftstore.model.enums import Status
from driftstore.model.pattern import Pattern
from driftstore.model.query import PatternFilter, Sort, SortField

F = TypeVar("F", bound=Callable[..., Any])

#: PatternFilter fields that hold lists: a single string there means a list of one
_LIST_FIELDS = frozenset(
    name
    for name, kind in typing.get_type_hints(PatternFilter).items()
    if typing.get_origin(kind) in (Union, types.UnionType)
    and any(typing.get_origin(arg) is list for arg in typing.get_args(kind))
)
_FILTER_FIELDS = frozenset(PatternFilter.__struct_fields__)


def ids(value: object, what: str = "pattern ids") -> list[str]:
    """One id or a sequence of them (a single string is one id, not its characters)."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, bytes | bytearray) or not isinstance(value, Sequence | set | frozenset):
        raise InvalidInputError(
            f"{what}: expected a string or a list of strings, got {_kind(value)}"
        )
    found = list(value)
    for item in found:
        if not isinstance(item, str):
            raise InvalidInputError(f"{what}: {_short(item)} is not a string")
    return found


def status(value: object) -> Status:
    try:
        return Status(value)  # type: ignore[arg-type]  # any value is tried, bad ones refused
    except ValueError:
        raise InvalidInputError(
            f"status {_short(value)} is not valid; choose one of "
            + ", ".join(s.value for s in Status)
        ) from None


def sort(value: object, descending: bool | None = None) -> Sort:
    """A Sort from a Sort, a SortField or a field name; a leading '-' means descending,
    as in most query languages; `descending` (when given) has the last word."""
    if value is None:
        found = Sort()
    elif isinstance(value, Sort):
        found = value
    elif isinstance(value, str):
        name, down = (value[1:], True) if value.startswith("-") else (value, False)
        found = Sort(field=_sort_field(name), descending=down)
    else:
        raise InvalidInputError(
            f"sort: expected a field name such as 'confidence' or '-confidence', got {_kind(value)}"
        )
    if descending is not None and descending != found.descending:
        found = Sort(field=found.field, descending=descending)
    return found


def _sort_field(value: str) -> SortField:
    try:
        return SortField(value)
    except ValueError:
        raise InvalidInputError(
            f"cannot sort by {_short(value)}; choose one of "
            + ", ".join(f.value for f in SortField)
            + " (a leading '-' sorts descending)"
        ) from None


def pattern_filter(value: object) -> PatternFilter:
    """A PatternFilter from None, a PatternFilter or a dict of its fields; one string
    where a list is expected is a list of one."""
    if value is None:
        return PatternFilter()
    if isinstance(value, PatternFilter):
        fields = msgspec.structs.asdict(value)
    elif isinstance(value, Mapping):
        unknown = sorted(str(k) for k in value if k not in _FILTER_FIELDS)
        if unknown:
            raise InvalidInputError(
                f"filter: unknown field {unknown[0]!r}; the fields are "
                + ", ".join(sorted(_FILTER_FIELDS))
            )
        fields = dict(value)
    else:
        raise InvalidInputError(
            f"filter: expected a PatternFilter or a dict of its fields, got {_kind(value)}"
        )
    for name in _LIST_FIELDS:
        if isinstance(fields.get(name), str):
            fields[name] = [fields[name]]
    try:
        return msgspec.convert(fields, PatternFilter)
    except msgspec.ValidationError as exc:
        raise InvalidInputError(f"filter: {exc}") from None


def pattern(value: object, where: str = "pattern") -> Pattern:
    """A Pattern, or a dict in the scan-entry (v2) shape that `ingest` reads."""
    if isinstance(value, Pattern):
        return value
    if isinstance(value, Mapping):
        from driftstore.formats.entries import entry_from_builtins

        return entry_from_builtins(dict(value), where=where)
    raise InvalidInputError(
        f"expected a Pattern or a dict in the scan-entry shape, got {_kind(value)}"
    )


def patterns(values: object) -> list[Pattern]:
    if isinstance(values, Pattern | Mapping | str | bytes):
        raise InvalidInputError(
            f"expected a list of patterns, got one {_kind(values)}; wrap it in a list"
        )
    if not isinstance(values, Iterable):
        raise InvalidInputError(f"expected a list of patterns, got {_kind(values)}")
    return [pattern(v, f"pattern {i + 1}") for i, v in enumerate(values)]


# --- the type half, from annotations ----------------------------------------------------
Check = Callable[[object], bool]


def _checker(hint: object) -> tuple[Check, str] | None:
    """A predicate and a description for the annotations worth checking at the door;
    None for those a method coerces itself (filters, sorts, patterns, callables)."""
    origin = typing.get_origin(hint)
    if origin in (Union, types.UnionType):
        parts = [_checker(arg) for arg in typing.get_args(hint)]
        if any(part is None for part in parts):
            return None
        checks = [part[0] for part in parts if part is not None]
        names = " or ".join(part[1] for part in parts if part is not None)
        return (lambda v: any(check(v) for check in checks)), names
    if hint is type(None):
        return (lambda v: v is None), "None"
    if hint is str:
        return (lambda v: isinstance(v, str)), "a string"
    if hint is bool:
        return (lambda v: isinstance(v, bool)), "True or False"
    if hint is int:
        return (lambda v: isinstance(v, int) and not isinstance(v, bool)), "a whole number"
    if hint is float:
        return (lambda v: isinstance(v, int | float) and not isinstance(v, bool)), "a number"
    if isinstance(hint, type) and issubclass(hint, PurePath):
        return (lambda v: isinstance(v, PurePath)), "a path"
    if isinstance(hint, type) and issubclass(hint, Status):
        return (lambda v: isinstance(v, str)), "a status"
    if origin in (Sequence, list) and typing.get_args(hint) == (str,):
        return (
            lambda v: (
                isinstance(v, Sequence | set | frozenset)
                and not isinstance(v, str | bytes)
                and all(isinstance(item, str) for item in v)
            )
        ), "a list of strings"
    return None


def _short(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _kind(value: object) -> str:
    return f"{type(value).__name__} {_short(value)}"


def _resolve(annotation: object, scope: dict[str, Any]) -> object:
    if not isinstance(annotation, str):
        return annotation
    return eval(annotation, scope)


def checked(fn: F) -> F:
    """Refuse arguments of the wrong type with InvalidInputError before the method runs."""
    plan: list[tuple[str, Check, str]] | None = None
    signature = inspect.signature(fn)

    def build() -> list[tuple[str, Check, str]]:
        found = []
        for name, param in signature.parameters.items():
            if name == "self" or param.annotation is inspect.Parameter.empty:
                continue
            try:
                hint = _resolve(param.annotation, fn.__globals__)
            except NameError:  # a type imported only for type checkers: the method checks it
                continue
            rule = _checker(hint)
            if rule is not None:
                found.append((name, rule[0], rule[1]))
        return found

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        nonlocal plan
        if plan is None:
            plan = build()
        try:
            bound = signature.bind(*args, **kwargs)
        except TypeError as exc:
            raise InvalidInputError(f"{fn.__name__}(): {exc}") from None
        given = bound.arguments
        for name, check, expected in plan:
            if name in given and not check(given[name]):
                raise InvalidInputError(
                    f"{fn.__name__}(): {name} must be {expected}, not {_kind(given[name])}"
                )
        return fn(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


__all__ = [
    "checked",
    "ids",
    "pattern",
    "pattern_filter",
    "patterns",
    "sort",
    "status",
]
