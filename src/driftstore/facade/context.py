"""What an agent needs before it edits a file, within a token budget it states: the patterns
touching the file (approved first, then by confidence), each with its settings there, the
lines it occupies and breaks, and one good and one bad example.

Examples come from the store when the team stored some, else they are cut from the project
(good: around a conforming location in another file; bad: around one of the outliers). The
token count is an estimate (4 characters of JSON a token), stated in the answer so the
agent can judge it.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import msgspec

from driftstore.engine.base import Engine
from driftstore.facade.examples import fresh_examples
from driftstore.facade.results import ContextExample, ContextPattern, FileContext
from driftstore.index import read_file_patterns
from driftstore.model.enums import Status
from driftstore.model.file_pattern import FilePattern
from driftstore.model.pattern import Location
from driftstore.model.records import Example

CHARS_PER_TOKEN = 4
#: lines either side of a location in a cut example: enough to show the shape, no more
EXAMPLE_CONTEXT = 3


def _tokens(value: msgspec.Struct) -> int:
    return -(-len(msgspec.json.encode(value)) // CHARS_PER_TOKEN)


def _brief(example: Example | None) -> ContextExample | None:
    if example is None:
        return None
    return ContextExample(
        file=example.file,
        code=example.code,
        line_start=example.line_start,
        line_end=example.line_end,
    )


def _examples(
    engine: Engine, root: Path, p: FilePattern, file: str
) -> tuple[ContextExample | None, ContextExample | None]:
    with engine.read() as r:
        stored = r.examples(p.id)
        good = next((e for e in stored if e.is_positive), None)
        bad = next((e for e in stored if not e.is_positive), None)
        if good is None:
            whole = r.pattern(p.id)
            elsewhere: list[Location] = [
                loc
                for loc in (whole.locations if whole is not None else [])
                if loc.is_outlier is not True and loc.file != file
            ]
        else:
            elsewhere = []
    if good is None and elsewhere:
        cut = fresh_examples(root, p.id, elsewhere, limit=1, context=EXAMPLE_CONTEXT)
        good = cut[0] if cut else None
    if bad is None:
        spots = list(p.outliers) + [loc for loc in p.locations if loc.is_outlier is True]
        cut = fresh_examples(root, p.id, spots, limit=1, context=EXAMPLE_CONTEXT) if spots else []
        bad = cut[0] if cut else None
    return _brief(good), _brief(bad)


def file_context(
    engine: Engine,
    root: Path,
    file: str,
    *,
    budget_tokens: int,
    statuses: Sequence[Status] = (Status.APPROVED, Status.DISCOVERED),
) -> FileContext:
    """The patterns touching `file` with their examples, as many as fit the budget."""
    wanted = set(statuses) - {Status.IGNORED}
    with engine.read() as r:
        generation = r.generation()
        found = [
            p for p in read_file_patterns(r, file, include_disabled=False) if p.status in wanted
        ]
    found.sort(key=lambda p: (p.status != Status.APPROVED, -p.confidence.score, p.id))
    empty = FileContext(
        file=file,
        budget_tokens=budget_tokens,
        used_tokens=0,
        patterns=[],
        omitted=0,
        generation=generation,
    )
    used = _tokens(empty)
    kept: list[ContextPattern] = []
    omitted = 0
    for p in found:
        lines = sorted({loc.line for loc in p.locations if loc.is_outlier is not True})
        outlier_lines = sorted(
            {loc.line for loc in p.outliers} | {loc.line for loc in p.locations if loc.is_outlier}
        )
        entry = ContextPattern(
            id=p.id,
            name=p.name,
            category=p.category,
            status=p.status,
            description=p.description,
            confidence=p.confidence.score,
            effective=p.effective,
            lines=lines,
            outlier_lines=outlier_lines,
        )
        bare = _tokens(entry) + 1
        if used + bare > budget_tokens:
            omitted += 1
            continue
        good, bad = _examples(engine, root, p, file)
        full = msgspec.structs.replace(entry, good_example=good, bad_example=bad)
        cost = _tokens(full) + 1
        if used + cost <= budget_tokens:
            entry, bare = full, cost
        kept.append(entry)
        used += bare
    return msgspec.structs.replace(empty, used_tokens=used, patterns=kept, omitted=omitted)
