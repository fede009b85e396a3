"""The by-file answer read straight from the store, without the in-memory index: what a
one-shot process uses, and the reference the index is tested against."""

from __future__ import annotations

from datetime import UTC, datetime

from driftstore.engine.base import Reader
from driftstore.model.effective import resolve
from driftstore.model.file_pattern import FilePattern, FileRowLists, GivenRows
from driftstore.model.paths import normalise_path


def read_file_patterns(
    r: Reader, path: str, *, include_disabled: bool = True, now: datetime | None = None
) -> list[FilePattern]:
    """Patterns with a location or outlier in `path`, sorted by id, each restricted to that
    file, with their effective settings; disabled ones only with `include_disabled`."""
    file = normalise_path(path)
    groups: dict[str, FileRowLists] = {}
    for pid, kind, loc in r.file_locations(file):
        groups.setdefault(pid, ([], []))[kind].append(loc)
    ids = sorted(groups)
    heads = list(r.patterns(ids, with_locations=False))
    variants = r.variants_of(ids)
    moment = now or datetime.now(UTC)
    source = GivenRows({key: groups[head.id] for key, head in enumerate(heads)})
    found: list[FilePattern] = []
    for key, head in enumerate(heads):
        effective = resolve(head.severity, variants.get(head.id, []), file, moment)
        if effective.enabled or include_disabled:
            found.append(FilePattern(heads, key, source, effective))
    return found
