"""A checked v2 shard's entries -> validated patterns with their variants and examples
(the import side of `shards`).

Entries decode in C into Patterns (`fast.decode_pattern`); anything that path cannot
take (an error to name, unknown keys to keep) goes through builtins. Paths that
could leave the project, records pointing elsewhere and absurdly nested values are refused
with the file, the entry and the field named.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from operator import attrgetter
from typing import TYPE_CHECKING, Any

import msgspec

from driftstore.errors import InvalidInputError
from driftstore.formats.canonical import nests_deeper_than
from driftstore.formats.entries import TOO_DEEP, check_nesting, entry_from_builtins
from driftstore.formats.shards.fast import decode_pattern
from driftstore.formats.text import json_problem
from driftstore.model.paths import safe_relative_path
from driftstore.model.pattern import EXTRAS_KEY, Pattern
from driftstore.model.records import Example, Variant
from driftstore.model.validate import (
    check_category,
    describe_validation_error,
    normalise_locations,
)

if TYPE_CHECKING:
    from driftstore.formats.shards.read import ShardFile

_plain_decoder = msgspec.json.Decoder()


@dataclass
class ImportedEntry:
    pattern: Pattern
    variants: list[Variant] | None
    examples: list[Example] | None


_file = attrgetter("file")


def _paths_look_clean(p: Pattern, clean: set[str]) -> bool:
    """True when no location path needs normalising or could escape the project.

    Each distinct path is looked at once per import (files repeat across thousands of
    locations); only a pattern with a doubtful path pays for `normalise_locations`.
    """
    files = set(map(_file, p.locations))
    files.update(map(_file, p.outliers))
    for f in files - clean:
        if (
            not f
            or f[0] == "/"
            or "\\" in f
            or "//" in f
            or "/./" in f
            or ".." in f
            or f.startswith("./")
            or (len(f) > 1 and f[1] == ":")
        ):
            return False
        clean.add(f)
    return True


def _decode_entry(raw: msgspec.Raw, *, where: str, category: str, clean: set[str]) -> ImportedEntry:
    fast = decode_pattern(raw, category)
    if fast is None:
        pattern, raw_variants, raw_examples, label = _decode_general(
            raw, where=where, category=category, clean=clean
        )
    else:
        pattern, raw_variants, raw_examples = fast
        label = f"{where} (pattern {pattern.id!r})"
        check_category(pattern, where=label)
        if not _paths_look_clean(pattern, clean):
            normalise_locations(pattern, where=label)
    check_nesting(pattern, where=label)
    variants = _records(raw_variants, "variants", Variant, pattern.id, label)
    examples = _records(raw_examples, "examples", Example, pattern.id, label)
    for v in variants or []:
        if v.config_override is not None and nests_deeper_than(v.config_override):
            raise InvalidInputError(f"{label}: variants: configOverride {TOO_DEEP}")
    for v in variants or []:
        if v.scope_path is not None:
            v.scope_path = safe_relative_path(v.scope_path, what=f"{label}: variant scopePath")
    for e in examples or []:
        e.file = safe_relative_path(e.file, what=f"{label}: example file")
    return ImportedEntry(pattern, variants, examples)


def _decode_general(
    raw: msgspec.Raw, *, where: str, category: str, clean: set[str]
) -> tuple[Pattern, Any, Any, str]:
    """(pattern, raw variants, raw examples, label) through builtins: names every error,
    keeps unknown keys."""
    try:
        obj = _plain_decoder.decode(raw)
    except (msgspec.DecodeError, UnicodeDecodeError, RecursionError) as exc:
        raise InvalidInputError(f"{where}: not valid JSON: {json_problem(raw, exc)}") from None
    if not isinstance(obj, dict):
        raise InvalidInputError(f"{where}: expected a JSON object for a pattern entry")
    pid = obj.get("id")
    label = f"{where} (pattern {pid!r})" if isinstance(pid, str) else where
    raw_variants = obj.pop("variants", None)
    raw_examples = obj.pop("examples", None)
    entry_category = obj.setdefault("category", category)
    if entry_category != category:
        raise InvalidInputError(
            f"{label}: category: {entry_category!r} in a shard of category {category!r}"
        )
    try:
        pattern = msgspec.convert(obj, Pattern)
    except msgspec.ValidationError as exc:
        if "unknown field" not in str(exc) and EXTRAS_KEY not in obj:
            raise InvalidInputError(f"{label}: {describe_validation_error(exc)}") from None
        pattern = entry_from_builtins(obj, where=label)
    else:
        check_category(pattern, where=label)
        if not _paths_look_clean(pattern, clean):
            normalise_locations(pattern, where=label)
    return pattern, raw_variants, raw_examples, label


def _records(
    raw: Any, key: str, kind: type[Variant] | type[Example], pattern_id: str, label: str
) -> Any:
    if raw is None:
        return None
    if not isinstance(raw, list):
        raise InvalidInputError(f"{label}: {key}: expected an array")
    out = []
    for index, item in enumerate(raw):
        if not isinstance(item, dict):
            raise InvalidInputError(f"{label}: {key}[{index}]: expected an object")
        data = {k: v for k, v in item.items() if k not in ("id", "patternId")}
        data["patternId"] = pattern_id
        try:
            out.append(msgspec.convert(data, kind))
        except msgspec.ValidationError as exc:
            raise InvalidInputError(
                f"{label}: {key}[{index}].{describe_validation_error(exc)}"
            ) from None
    return out


def decode_v2_entries(shard: ShardFile) -> Iterator[ImportedEntry]:
    """Validated patterns (with their variants and examples) of a checked shard."""
    clean: set[str] = set()
    for index, raw in enumerate(shard.entries):
        yield _decode_entry(
            raw, where=f"{shard.path}: patterns[{index}]", category=shard.category, clean=clean
        )
