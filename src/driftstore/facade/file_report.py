"""`driftstore file PATH --json`: each pattern's summary, its locations in PATH (`line`,
`column`, `isOutlier`) and its `effective` settings there, from one snapshot."""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping
from itertools import starmap

import msgspec

from driftstore.engine.base import Engine
from driftstore.facade.results import FileReport, FileSpot, FileSummary
from driftstore.index import read_file_patterns
from driftstore.model.file_pattern import FilePattern
from driftstore.model.paths import normalise_path
from driftstore.model.query import PatternFilter, PatternSummary, Sort


def file_report(engine: Engine, path: str, *, include_disabled: bool = False) -> FileReport:
    file = normalise_path(path)
    with engine.read() as r:
        found = read_file_patterns(r, file, include_disabled=include_disabled)
        summaries = {
            s.id: s
            for s in r.query(
                PatternFilter(ids=[p.id for p in found]), Sort(), offset=0, limit=None
            ).patterns
        }
    return build_report(file, found, summaries)


def build_report(
    file: str, found: list[FilePattern], summaries: Mapping[str, PatternSummary]
) -> FileReport:
    """The report from the patterns touching `file` (cut to it) and their summaries. With
    a SummaryCache's `Summaries`, each pattern's FileSummary is copied from a template
    made once per generation, not rebuilt from its summary's fields per answer."""
    templates = summaries.templates if isinstance(summaries, Summaries) else None
    patterns = []
    for p in found:
        spots = [(loc.line, loc.column, loc.is_outlier is True) for loc in p.locations]
        spots += [(loc.line, loc.column, True) for loc in p.outliers]
        spots.sort()
        template = None if templates is None else templates.get(p.id)
        if template is None:
            template = FileSummary(
                **msgspec.structs.asdict(summaries[p.id]), locations=[], effective=p.effective
            )
            if templates is not None:
                templates[p.id] = template
        patterns.append(
            msgspec.structs.replace(
                template, locations=list(starmap(FileSpot, spots)), effective=p.effective
            )
        )
    return FileReport(file=file, patterns=patterns)


class Summaries(dict[str, PatternSummary]):
    """Every pattern's summary by id at one generation, and the report templates made
    from them so far (one FileSummary per pattern, copied for each answer)."""

    __slots__ = ("templates",)

    def __init__(self, listed: Iterable[PatternSummary]) -> None:
        super().__init__((s.id, s) for s in listed)
        self.templates: dict[str, FileSummary] = {}


class SummaryCache:
    """Every pattern's summary, read in one query and kept until the store's generation
    moves: what a long-running server answers `file` from, beside the in-memory index."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._lock = threading.Lock()
        self._generation = -1
        self._summaries = Summaries(())

    def current(self) -> tuple[int, Summaries]:
        with self._lock:
            generation = self._engine.generation()
            if generation != self._generation:
                with self._engine.read() as r:
                    generation = r.generation()
                    listed = r.query(PatternFilter(), Sort(), offset=0, limit=None).patterns
                self._summaries = Summaries(listed)
                self._generation = generation
            return self._generation, self._summaries

    def current_now(self) -> tuple[int, Summaries] | None:
        """`current` if it needs no read of the store and no wait; else None."""
        if not self._lock.acquire(blocking=False):
            return None
        try:
            if self._engine.generation() != self._generation:
                return None
            return self._generation, self._summaries
        finally:
            self._lock.release()
