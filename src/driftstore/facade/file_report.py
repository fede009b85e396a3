"""`driftstore file PATH --json`: each pattern's summary, its locations in PATH (`line`,
`column`, `isOutlier`) and its `effective` settings there, from one snapshot."""

from __future__ import annotations

import msgspec

from driftstore.engine.base import Engine
from driftstore.facade.results import FileReport, FileSpot, FileSummary
from driftstore.index import read_file_patterns
from driftstore.model.paths import normalise_path
from driftstore.model.query import PatternFilter, Sort


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
