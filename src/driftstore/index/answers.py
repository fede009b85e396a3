"""A file's answer: a view of each pattern touching it (its rows there built when first
read) with its effective settings there, and the bounded cache of answers already made."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from datetime import UTC, datetime
from itertools import repeat

from driftstore.model.effective import next_change, resolve
from driftstore.model.file_pattern import FilePattern, FileRows
from driftstore.model.pattern import Pattern
from driftstore.model.records import Variant

#: cached answers are dropped, oldest first, beyond this many locations in total (tens of
#: MB: benchmarks/NOTES.md)
DEFAULT_CACHE_LOCATIONS = 1 << 16
#: and beyond this many files: the files an editor works in. Answers kept longer cost
#: every first ask more than repeats save (the cyclic GC walks their lists, and dropping
#: them late touches cold memory): benchmarks/NOTES.md
DEFAULT_CACHE_FILES = 16


class Answer:
    """Everything touching one file, and `enabled`: the same without what variants
    disable there (the same list when nothing is disabled). `valid_until` (a POSIX time)
    is when a variant of one of them expires or starts."""

    __slots__ = ("enabled", "everything", "size", "valid_until")

    def __init__(
        self,
        everything: list[FilePattern],
        enabled: list[FilePattern],
        valid_until: float | None,
        size: int,
    ) -> None:
        self.everything = everything
        self.enabled = enabled
        self.valid_until = valid_until
        self.size = size


def assemble(
    file: str,
    slots: Sequence[int],
    size: int,
    heads: Sequence[Pattern | None],
    variants_of: dict[int, list[Variant]],
    source: FileRows,
    *,
    id_ordered: int,
) -> Answer:
    """The answer for `file`: a view of each pattern slot touching it (`slots`, ascending),
    sorted by id, with the settings its variants give it there."""
    if not slots or slots[-1] < id_ordered:
        order = slots  # slots of one build follow the ids
    else:
        order = sorted(slots, key=lambda s: heads[s].id)  # type: ignore[union-attr]
    everything = list(map(FilePattern, repeat(heads), order, repeat(source)))
    if not variants_of or variants_of.keys().isdisjoint(order):
        return Answer(everything, everything, None, size)  # the common case
    now = datetime.now(UTC)
    until: datetime | None = None
    for view in everything:
        variants = variants_of.get(view.key)
        if variants:
            view.settings = resolve(view.pattern.severity, variants, file, now)
            ends_at = next_change(variants, file, now)
            if ends_at is not None and (until is None or ends_at < until):
                until = ends_at
    enabled = [p for p in everything if p.effective.enabled]
    return Answer(
        everything,
        everything if len(enabled) == len(everything) else enabled,
        None if until is None else until.timestamp(),
        size,
    )


class AnswerCache:
    """Answers by file, least recently asked dropped first beyond a location budget or a
    number of files."""

    def __init__(
        self, budget: int = DEFAULT_CACHE_LOCATIONS, files: int = DEFAULT_CACHE_FILES
    ) -> None:
        self.budget = budget
        self.files = max(files, 1)
        self._answers: OrderedDict[str, Answer] = OrderedDict()
        self.locations = 0

    def __len__(self) -> int:
        return len(self._answers)

    def get(self, file: str, now: float) -> Answer | None:
        answer = self._answers.get(file)
        if answer is None or (answer.valid_until is not None and now >= answer.valid_until):
            return None
        self._answers.move_to_end(file)
        return answer

    def put(self, file: str, answer: Answer) -> None:
        old = self._answers.pop(file, None)
        if old is not None:
            self.locations -= old.size
        self._answers[file] = answer
        self.locations += answer.size
        while len(self._answers) > 1 and (
            self.locations > self.budget or len(self._answers) > self.files
        ):
            _, dropped = self._answers.popitem(last=False)
            self.locations -= dropped.size

    def clear(self) -> None:
        self._answers.clear()
        self.locations = 0
