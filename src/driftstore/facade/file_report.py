"""`driftstore file PATH --json`: each pattern's summary, its locations in PATH (`line`,
`column`, `isOutlier`) and its `effective` settings there, from one snapshot."""

from __future__ import annotations

import threading
from collections.abc import Mapping

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
    """The report from the patterns touching `file` (cut to it) and their summaries."""
    patterns = []
    for p in found:
        spots = [(loc, loc.is_outlier is True) for loc in p.locations]
        spots += [(loc, True) for loc in p.outliers]
        spots.sort(key=lambda spot: (spot[0].line, spot[0].column, spot[1]))
        patterns.append(
            FileSummary(
                **msgspec.structs.asdict(summaries[p.id]),
                locations=[
                    FileSpot(line=loc.line, column=loc.column, is_outlier=outlier)
                    for loc, outlier in spots
                ],
                effective=p.effective,
            )
        )
    return FileReport(file=file, patterns=patterns)


class SummaryCache:
    """Every pattern's summary, read in one query and kept until the store's generation
    moves: what a long-running server answers `file` from, beside the in-memory index."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._lock = threading.Lock()
        self._generation = -1
        self._summaries: dict[str, PatternSummary] = {}

    def current(self) -> tuple[int, dict[str, PatternSummary]]:
        with self._lock:
            generation = self._engine.generation()
            if generation != self._generation:
                with self._engine.read() as r:
                    generation = r.generation()
                    listed = r.query(PatternFilter(), Sort(), offset=0, limit=None).patterns
                self._summaries = {s.id: s for s in listed}
                self._generation = generation
            return self._generation, self._summaries

    def current_now(self) -> tuple[int, dict[str, PatternSummary]] | None:
        """`current` if it needs no read of the store and no wait; else None."""
        if not self._lock.acquire(blocking=False):
            return None
        try:
            if self._engine.generation() != self._generation:
                return None
            return self._generation, self._summaries
        finally:
            self._lock.release()
