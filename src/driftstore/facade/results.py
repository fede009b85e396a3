"""Every result a PatternStore method returns, as typed msgspec Structs in one place.

Faces render these and nothing else: the CLI prints them (tables, or `--json` through
`to_builtins`), and the servers derive their schemas from them (`msgspec.json.schema`), so
a result's shape is spelled once. JSON names are camelCase; keys of the input that
driftstore does not model (kept in `__extras__` slots) are put back where they came from by
`to_builtins`.
"""

from __future__ import annotations

import functools
from typing import Any

import msgspec

from driftstore.engine.base import RelatedPattern
from driftstore.model.effective import Effective
from driftstore.model.entry import flatten_extras
from driftstore.model.enums import Severity, Status
from driftstore.model.file_pattern import FilePattern
from driftstore.model.pattern import EXTRAS_KEY, Pattern
from driftstore.model.query import PatternSummary
from driftstore.model.records import Example, HistoryEntry, Variant

__all__ = [
    "BackupInfo",
    "CategoryCounts",
    "CategoryDiff",
    "CheckReport",
    "ContextExample",
    "ContextPattern",
    "CopyReport",
    "DecisionReport",
    "DiagnosticSpot",
    "DiffReport",
    "Duplicate",
    "ExampleList",
    "ExportReport",
    "FileContext",
    "FileDiagnostics",
    "FileReport",
    "FileSpot",
    "FileSummary",
    "GateOutlier",
    "GitSetupReport",
    "HealthFactors",
    "HistoryList",
    "ImportReport",
    "IngestPreview",
    "IngestReport",
    "LevelDisagreement",
    "MergeReport",
    "MigrateReport",
    "OutlierList",
    "OutlierView",
    "PatternBrief",
    "PatternChange",
    "PatternDetail",
    "PatternPage",
    "Problem",
    "ProjectInfo",
    "RelatedPattern",
    "RestoreReport",
    "SarifSummary",
    "Skipped",
    "StatusMove",
    "StatusReport",
    "VariantView",
    "VerifyReport",
    "VersionInfo",
    "to_builtins",
    "to_json",
]


def to_builtins(result: Any) -> Any:
    """A result as JSON-ready builtins: camelCase names, unknown input keys put back in
    place. What every face prints or sends. A by-file view (or a list of them) gives its
    pattern cut to the file plus `effective`, the shape `by_file` answers always had."""
    if isinstance(result, FilePattern):
        return _view_data(result)
    if isinstance(result, list | tuple) and result and isinstance(result[0], FilePattern | list):
        return [to_builtins(item) for item in result]
    data = msgspec.to_builtins(result)
    if isinstance(result, msgspec.Struct) and not _may_hold_extras(type(result)):
        return data  # nothing to put back: skip the walk (a server's hot path)
    return flatten_extras(data)


def to_json(result: Any) -> bytes:
    """`to_builtins` as JSON bytes. A result that cannot hold kept unknown keys is
    encoded straight from its typed form: the same bytes without making the builtins in
    between (a server's hot path: benchmarks/NOTES.md)."""
    if isinstance(result, msgspec.Struct) and not _may_hold_extras(type(result)):
        return _JSON.encode(result)
    return _JSON.encode(to_builtins(result))


_JSON = msgspec.json.Encoder()


def _view_data(view: FilePattern) -> dict[str, Any]:
    data: dict[str, Any] = to_builtins(view.to_pattern())
    data["effective"] = msgspec.to_builtins(view.effective)
    return data


@functools.cache
def _may_hold_extras(kind: type) -> bool:
    """Whether a result type can hold a kept-unknown-keys slot anywhere inside it."""
    seen: set[int] = set()

    def walk(info: msgspec.inspect.Type) -> bool:
        if id(info) in seen:
            return False
        seen.add(id(info))
        if isinstance(info, msgspec.inspect.StructType):
            return any(f.encode_name == EXTRAS_KEY or walk(f.type) for f in info.fields)
        if isinstance(info, msgspec.inspect.UnionType):
            return any(walk(t) for t in info.types)
        if isinstance(info, msgspec.inspect.DictType):
            return walk(info.key_type) or walk(info.value_type)
        if isinstance(info, msgspec.inspect.CustomType):
            return True
        # Any (configs, history's old/new) holds plain JSON values, already flat
        item = getattr(info, "item_type", None)
        return item is not None and walk(item)

    return walk(msgspec.inspect.type_info(kind))


# --- status -------------------------------------------------------------------------------
class HealthFactors(msgspec.Struct, rename="camel", kw_only=True):
    """What the health score was computed from (see `facade.health`)."""

    live_patterns: int
    approval_ratio: float
    mean_confidence: float
    outlier_rate: float


class CategoryCounts(msgspec.Struct, kw_only=True):
    total: int = 0
    discovered: int = 0
    approved: int = 0
    ignored: int = 0
    locations: int = 0
    outliers: int = 0


class StatusReport(msgspec.Struct, rename="camel", kw_only=True):
    """`status`: totals by status, category and confidence level, health 0-100, and the
    store generation the figures were read at."""

    total_patterns: int
    by_status: dict[str, int]
    by_category: dict[str, int]
    by_confidence: dict[str, int]
    total_locations: int
    total_outliers: int
    health: int
    health_factors: HealthFactors
    categories: dict[str, CategoryCounts]
    generation: int


# --- one pattern --------------------------------------------------------------------------
class VariantView(Variant, kw_only=True):
    """A variant with whether it has expired (an expired variant no longer applies)."""

    expired: bool


class PatternDetail(Pattern, kw_only=True):
    """`show`: the pattern as a v2 shard entry (detectionMethod and confidenceLevel always
    set) with its variants, examples, history (newest first) and related patterns."""

    variants: list[VariantView] = msgspec.field(default_factory=list)
    examples: list[Example] = msgspec.field(default_factory=list)
    history: list[HistoryEntry] = msgspec.field(default_factory=list)
    related: list[RelatedPattern] = msgspec.field(default_factory=list)
    related_total: int = 0
    #: False when a past state (`--as-of`) could not recover the pattern's locations
    locations_known: bool = True


# --- one file -----------------------------------------------------------------------------
class FileSpot(msgspec.Struct, rename="camel"):
    line: int
    column: int
    is_outlier: bool


class FileSummary(PatternSummary, kw_only=True):
    """A pattern touching one file: its summary, its spots there, its settings there."""

    locations: list[FileSpot]
    effective: Effective


class FileReport(msgspec.Struct, kw_only=True):
    """`file`: the patterns touching one file (a normalised, project-relative path)."""

    file: str
    patterns: list[FileSummary]


# --- decisions ----------------------------------------------------------------------------
class DecisionReport(msgspec.Struct, kw_only=True):
    """`approve` / `ignore`: the status asked for, the ids moved to it, and the ids that
    already had it (left as they were, no history row)."""

    status: Status
    ids: list[str]
    unchanged: list[str] = []
    #: a preview: nothing was written
    dry_run: bool = False


# --- the CI gate and code scanning ---------------------------------------------------------
class GateOutlier(msgspec.Struct, rename="camel", kw_only=True):
    """One outlier of a decided pattern, with its stable identity (`model.identity`) and,
    in `check`, whether it is new, unchanged or absent against the stored state."""

    id: str
    pattern_id: str
    pattern_name: str
    category: str
    file: str
    line: int
    column: int
    end_line: int | None = None
    end_column: int | None = None
    reason: str | None = None
    severity: Severity
    state: str


class CheckReport(msgspec.Struct, rename="camel", kw_only=True):
    """`check`: the outliers of approved patterns (new first, most severe first), their
    counts, and whether the policy (`failOn`: new | any) failed."""

    identity: str
    fail_on: str
    min_severity: Severity
    #: whether a scan was compared (else the stored outliers are reported as they are)
    compared: bool
    new: int
    unchanged: int
    absent: int
    failed: bool
    outliers: list[GateOutlier]
    #: the ingest of the scan, when `--ingest` asked for it
    ingest: IngestReport | None = None


class SarifSummary(msgspec.Struct, rename="camel", kw_only=True):
    """What a SARIF log holds: results kept, results left out to stay within code
    scanning's limits, rules, and its size plain and gzipped."""

    results: int
    omitted: int
    rules: int
    bytes: int
    gzip_bytes: int
    out: str | None = None


# --- time travel --------------------------------------------------------------------------
class PatternBrief(msgspec.Struct, rename="camel", kw_only=True):
    id: str
    name: str
    category: str
    status: str
    confidence: float
    location_count: int
    outlier_count: int


class StatusMove(msgspec.Struct, rename="camel", kw_only=True):
    pattern_id: str
    category: str
    old: str
    new: str
    by: str | None
    at: str


class PatternChange(msgspec.Struct, rename="camel", kw_only=True):
    """A pattern present at both moments whose fields changed (`fields` names them)."""

    id: str
    name: str
    category: str
    fields: list[str]
    status_before: str
    status_after: str
    confidence_before: float
    confidence_after: float
    locations_before: int
    locations_after: int
    outliers_before: int
    outliers_after: int


class CategoryDiff(msgspec.Struct, rename="camel", kw_only=True):
    added: int = 0
    removed: int = 0
    changed: int = 0
    approved: int = 0
    ignored: int = 0
    outliers_gained: int = 0
    outliers_lost: int = 0


class DiffReport(msgspec.Struct, rename="camel", kw_only=True):
    """`diff`: what changed after `since` up to `until`, from the history table."""

    since: str | None
    until: str | None
    added: list[PatternBrief]
    removed: list[PatternBrief]
    status_moves: list[StatusMove]
    changed: list[PatternChange]
    by_category: dict[str, CategoryDiff]


# --- versions -------------------------------------------------------------------------------
class VersionInfo(msgspec.Struct, kw_only=True):
    """`--version`: this driftstore, the SQLite library it bundles, the schema it writes."""

    driftstore: str
    sqlite: str
    schema: int


# --- shared stores ------------------------------------------------------------------------
class ProjectInfo(msgspec.Struct, rename="camel", kw_only=True):
    """`projects`: one project of a shared store and how much it holds."""

    project: str
    patterns: int
    locations: int
    outliers: int
    history_rows: int


class CopyReport(msgspec.Struct, rename="camel", kw_only=True):
    """`copy`: a project's store copied whole into another store (addresses shown without
    passwords)."""

    source: str
    target: str
    patterns: int
    locations: int
    history_rows: int
    #: the backup of what the target held before (None: it held nothing)
    backup: str | None = None


# --- git ----------------------------------------------------------------------------------
class MergeReport(msgspec.Struct, rename="camel", kw_only=True):
    """`merge-driver`: the file merged, how many patterns (or keys) came from the other
    side, and what could not be merged (then the file carries conflict markers)."""

    path: str
    kind: str
    changed: int
    conflicts: list[str]


class GitSetupReport(msgspec.Struct, rename="camel", kw_only=True):
    """`git-setup`: what was added to .gitattributes and the repository's git config (an
    empty list: it was already set up)."""

    attributes: str
    added: list[str]
    driver: str
    configured: bool


# --- scans, files, backups ----------------------------------------------------------------
class IngestReport(msgspec.Struct, rename="camel", kw_only=True):
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    removed: int = 0
    backup: str | None = None


class IngestPreview(IngestReport, kw_only=True):
    """`ingest --dry-run`: the counts an ingest would report, and what would change;
    nothing was written."""

    dry_run: bool = True
    changes: DiffReport


class ExportReport(msgspec.Struct, rename="camel", kw_only=True):
    """`export`: the files written, left as they were (same bytes) and removed. (Lists of
    files are named `...Files` in JSON: a bare `unchanged` or `removed` is a count in every
    other report.)"""

    layout: str
    out: str
    patterns: int = msgspec.field(default=0, name="patternCount")
    written: list[str] = msgspec.field(default_factory=list, name="writtenFiles")
    unchanged: list[str] = msgspec.field(default_factory=list, name="unchangedFiles")
    removed: list[str] = msgspec.field(default_factory=list, name="removedFiles")
    #: stale legacy files left in place because they hold ids this store never had
    kept: list[str] = msgspec.field(default_factory=list, name="keptFiles")


class ImportReport(msgspec.Struct, rename="camel", kw_only=True):
    imported: int = 0
    updated: int = 0
    unchanged: int = 0
    #: the shard files read
    read_files: list[str] = []
    #: files imported despite a checksum mismatch (--force)
    forced_files: list[str] = []
    backup: str | None = None


class Problem(msgspec.Struct):
    path: str
    problem: str


class VerifyReport(msgspec.Struct, kw_only=True):
    ok: bool
    problems: list[Problem] = []


class Skipped(msgspec.Struct):
    path: str
    reason: str


class Duplicate(msgspec.Struct):
    id: str
    statuses: list[str]
    kept: str


class LevelDisagreement(msgspec.Struct):
    id: str
    level: str
    score: float
    expected: str


class MigrateReport(msgspec.Struct, rename="camel", kw_only=True):
    imported: int = 0
    updated: int = 0
    unchanged: int = 0
    by_status: dict[str, int] = {}
    by_category: dict[str, int] = {}
    checksum_mismatches: list[str] = []
    skipped: list[Skipped] = []
    backup: str | None = None
    dry_run: bool = False
    source: str = ""
    #: how many drift 0.9 files were read (`files` is a list of paths elsewhere)
    files: int = msgspec.field(default=0, name="fileCount")
    duplicates: list[Duplicate] = []
    lake_only: int = 0
    level_disagreements: list[LevelDisagreement] = []


class BackupInfo(msgspec.Struct, rename="camel", kw_only=True):
    id: str
    created_at: str
    reason: str
    bytes: int


class RestoreReport(msgspec.Struct, rename="camel", kw_only=True):
    #: the backup that is now the store
    restored: str
    #: the backup of the state it replaced (None when that state could not be read)
    backup: str | None = None
    #: where the unreadable files it replaced were moved instead
    moved_aside: str | None = None


# --- pages, outliers and context: what the servers and the editor read ---------------------------
class PatternPage(msgspec.Struct, rename="camel", kw_only=True):
    """One page of a listing with an opaque cursor for the next; a cursor is refused once
    the store has changed (the listing it continued no longer exists)."""

    patterns: list[PatternSummary]
    total: int
    next_cursor: str | None = None
    generation: int


class OutlierView(msgspec.Struct, rename="camel", kw_only=True):
    """One stored outlier of a pattern, with its stable identity (`model.identity`) and
    the severity its pattern has in that file (variants applied)."""

    id: str
    pattern_id: str
    pattern_name: str
    category: str
    status: Status
    file: str
    line: int
    column: int
    end_line: int | None = None
    end_column: int | None = None
    reason: str | None = None
    severity: Severity


class OutlierList(msgspec.Struct, rename="camel", kw_only=True):
    """Outliers by pattern status, category and file (most severe first), capped at the
    limit asked for; `total` counts them all."""

    outliers: list[OutlierView]
    total: int
    generation: int


class DiagnosticSpot(msgspec.Struct, rename="camel", kw_only=True):
    """One outlier in one file as an editor shows it (`file_diagnostics`)."""

    outlier_id: str
    pattern_id: str
    pattern_name: str
    status: Status
    severity: Severity
    line: int
    column: int
    end_line: int | None = None
    end_column: int | None = None
    reason: str | None = None


class FileDiagnostics(msgspec.Struct, rename="camel", kw_only=True):
    """The outliers an editor marks in one file, for the statuses asked for, at one
    store generation."""

    file: str
    generation: int
    spots: list[DiagnosticSpot]


class ContextExample(msgspec.Struct, rename="camel", kw_only=True):
    file: str
    code: str
    line_start: int | None = None
    line_end: int | None = None


class ContextPattern(msgspec.Struct, rename="camel", kw_only=True):
    """A pattern touching a file, as an agent needs it before editing that file."""

    id: str
    name: str
    category: str
    status: Status
    description: str
    confidence: float
    effective: Effective
    lines: list[int]
    outlier_lines: list[int]
    good_example: ContextExample | None = None
    bad_example: ContextExample | None = None


class FileContext(msgspec.Struct, rename="camel", kw_only=True):
    """`context_for_file`: the patterns touching a file (approved first, then by
    confidence) within a token budget; `usedTokens` is the estimate (4 characters a
    token) and `omitted` counts the patterns left out to stay within it."""

    file: str
    budget_tokens: int
    used_tokens: int
    patterns: list[ContextPattern]
    omitted: int
    generation: int


class ExampleList(msgspec.Struct, rename="camel", kw_only=True):
    """A pattern's examples: stored ones, or (`fresh`) cut from the project now."""

    pattern_id: str
    fresh: bool
    examples: list[Example]


class HistoryList(msgspec.Struct, rename="camel", kw_only=True):
    """History entries, newest first; `hasMore` when the limit cut the list."""

    entries: list[HistoryEntry]
    has_more: bool
