"""Outliers as the servers and the editor ask for them: listed across the store by status,
category and file, or marked in one open file. Every outlier carries its stable identity
(`model.identity`), the same id the CI gate and SARIF use, and the severity its pattern
has in that file once variants are applied; a pattern a variant turns off there gives none.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from driftstore.engine.base import Engine
from driftstore.facade.results import (
    DiagnosticSpot,
    FileDiagnostics,
    OutlierList,
    OutlierView,
)
from driftstore.index import read_file_patterns
from driftstore.model.effective import resolve
from driftstore.model.enums import Severity, Status
from driftstore.model.file_pattern import FilePattern
from driftstore.model.identity import OutlierMark, group_ids, outlier_ids
from driftstore.model.paths import normalise_path
from driftstore.model.pattern import Location
from driftstore.model.query import PatternFilter, Sort

_BATCH = 500


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _mark(loc: Location, reason: str | None) -> OutlierMark:
    return OutlierMark(loc.line, loc.column, _text(loc.snippet), reason, _int(loc.end_line))


def _spots(rows: list[tuple[int, Location]]) -> list[tuple[Location, str | None]]:
    """Outlier rows in the order the identity is defined over: the `outliers` list, then
    the locations flagged isOutlier (as `facade.gate` reads them)."""
    listed = [(loc, _text(loc.reason)) for kind, loc in rows if kind == 1]
    listed += [(loc, _text(loc.outlier_reason)) for kind, loc in rows if kind == 0]
    return listed


def list_outliers(
    engine: Engine,
    *,
    statuses: Sequence[Status],
    categories: Sequence[str] | None = None,
    files: Sequence[str] | None = None,
    min_severity: Severity = Severity.HINT,
    limit: int | None = 100,
) -> OutlierList:
    """Outliers of the patterns with these statuses (and categories), in these files
    when given; most severe first, then by file and line."""
    wanted_files = {normalise_path(f) for f in files} if files else None
    now = datetime.now(UTC)
    found: list[OutlierView] = []
    with engine.read() as r:
        generation = r.generation()
        selected = r.query(
            PatternFilter(
                statuses=list(statuses),
                categories=list(categories) if categories else None,
                files=sorted(wanted_files) if wanted_files else None,
                has_outliers=True,
            ),
            Sort(),
            offset=0,
            limit=None,
        ).patterns
        summaries = {s.id: s for s in selected}
        ids = list(summaries)
        for start in range(0, len(ids), _BATCH):
            chunk = ids[start : start + _BATCH]
            held = r.outliers_of(chunk)
            variants = r.variants_of(chunk)
            for pid in chunk:
                summary = summaries[pid]
                spots = _spots(held.get(pid, []))
                marks = [(loc.file, _mark(loc, reason)) for loc, reason in spots]
                settings: dict[str, tuple[bool, Severity]] = {}
                for (loc, reason), oid in zip(spots, group_ids(pid, marks), strict=True):
                    if wanted_files is not None and loc.file not in wanted_files:
                        continue
                    if loc.file not in settings:
                        effective = resolve(summary.severity, variants.get(pid, []), loc.file, now)
                        settings[loc.file] = (effective.enabled, effective.severity)
                    enabled, severity = settings[loc.file]
                    if not enabled or severity.rank < min_severity.rank:
                        continue
                    found.append(
                        OutlierView(
                            id=oid,
                            pattern_id=pid,
                            pattern_name=summary.name,
                            category=summary.category,
                            status=summary.status,
                            file=loc.file,
                            line=loc.line,
                            column=loc.column,
                            end_line=_int(loc.end_line),
                            end_column=_int(loc.end_column),
                            reason=reason,
                            severity=severity,
                        )
                    )
    found.sort(key=lambda o: (-o.severity.rank, o.file, o.line, o.column, o.id))
    total = len(found)
    return OutlierList(
        outliers=found if limit is None else found[:limit], total=total, generation=generation
    )


def diagnostics_from(
    file: str, patterns: Sequence[FilePattern], statuses: Sequence[Status], generation: int
) -> FileDiagnostics:
    """The outliers to mark in `file`, from the by-file answer (the in-memory index or the
    store): patterns with one of `statuses` that are enabled there; ignored patterns never
    mark anything, whatever is asked."""
    wanted = {s for s in statuses if s != Status.IGNORED}
    spots: list[DiagnosticSpot] = []
    for p in patterns:
        if p.status not in wanted or not p.effective.enabled:
            continue
        listed = [(loc, _text(loc.reason)) for loc in p.outliers]
        listed += [
            (loc, _text(loc.outlier_reason)) for loc in p.locations if loc.is_outlier is True
        ]
        ids = outlier_ids(p.id, file, [_mark(loc, reason) for loc, reason in listed])
        for (loc, reason), oid in zip(listed, ids, strict=True):
            spots.append(
                DiagnosticSpot(
                    outlier_id=oid,
                    pattern_id=p.id,
                    pattern_name=p.name,
                    status=p.status,
                    severity=p.effective.severity,
                    line=loc.line,
                    column=loc.column,
                    end_line=_int(loc.end_line),
                    end_column=_int(loc.end_column),
                    reason=reason,
                )
            )
    spots.sort(key=lambda d: (d.line, d.column, d.pattern_id, d.outlier_id))
    return FileDiagnostics(file=file, generation=generation, spots=spots)


def file_diagnostics(engine: Engine, file: str, statuses: Sequence[Status]) -> FileDiagnostics:
    """`diagnostics_from` answered straight from the store (no in-memory index)."""
    with engine.read() as r:
        generation = r.generation()
        found = read_file_patterns(r, file, include_disabled=False)
    return diagnostics_from(file, found, statuses, generation)
