"""The CI gate (`check`) and code-scanning output (`sarif`): outliers of the patterns a team
has decided on, compared by their stable identity (`model.identity`).

`check` compares a fresh scan with the store: each outlier of an approved pattern is *new*
(in the scan, not stored), *unchanged* (in both) or *absent* (stored, not in the scan: fixed,
or the pattern was not found this time). Without a scan, the stored outliers are reported
as they are (unchanged). It writes nothing (unless the caller ingests the scan after).

Severity is each pattern's effective severity for the outlier's file (variants apply); a
pattern a variant disables there gives nothing there.

A scan file's entries that echo a stored pattern (`formats.echo`) are that pattern's
evidence again: their outliers are the stored ones, unchanged, and they are never decoded
(an entry of a pattern nobody approved is skipped the same way).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from driftstore.engine.base import Engine
from driftstore.facade.recognise import Recogniser
from driftstore.facade.results import CheckReport, GateOutlier, SarifSummary
from driftstore.formats.sarif import SarifResult, SarifRule, build_sarif, precision_of
from driftstore.formats.scan import ScanEntry
from driftstore.model.digest import content_hash
from driftstore.model.effective import resolve
from driftstore.model.enums import Severity, Status
from driftstore.model.identity import FINGERPRINT_KEY, OUTLIER_IDENTITY, OutlierMark, group_ids
from driftstore.model.pattern import Location, Pattern
from driftstore.model.query import PatternFilter, Sort
from driftstore.model.records import Example, Variant

NEW, UNCHANGED, ABSENT = "new", "unchanged", "absent"
FAIL_ON = ("new", "any")
_BATCH = 500


def _outliers(p: Pattern) -> list[tuple[Location, str | None]]:
    """A pattern's outliers: its `outliers` list and the locations flagged isOutlier."""
    found = [(loc, _text(loc.reason)) for loc in p.outliers]
    found += [(loc, _text(loc.outlier_reason)) for loc in p.locations if loc.is_outlier is True]
    return found


def _stored(rows: list[tuple[int, Location]]) -> list[tuple[Location, str | None]]:
    """Outlier rows as `Reader.outliers_of` gives them, in the order `_outliers` uses."""
    listed = [(loc, _text(loc.reason)) for kind, loc in rows if kind == 1]
    listed += [(loc, _text(loc.outlier_reason)) for kind, loc in rows if kind == 0]
    return listed


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _mark(loc: Location, reason: str | None) -> OutlierMark:
    return OutlierMark(
        line=loc.line,
        column=loc.column,
        snippet=_text(loc.snippet),
        reason=reason,
        end_line=loc.end_line if isinstance(loc.end_line, int) else None,
    )


def _gate_outliers(
    p: Pattern,
    variants: list[Variant],
    state: str,
    now: datetime,
    found: list[tuple[Location, str | None]] | None = None,
) -> list[GateOutlier]:
    """`p`'s outliers (or `found`, its stored ones) as gate outliers in `state`."""
    if found is None:
        found = _outliers(p)
    ids = group_ids(p.id, [(loc.file, _mark(loc, reason)) for loc, reason in found])
    out: list[GateOutlier] = []
    settings: dict[str, tuple[bool, Severity]] = {}
    for (loc, reason), oid in zip(found, ids, strict=True):
        if loc.file not in settings:
            effective = resolve(p.severity, variants, loc.file, now)
            settings[loc.file] = (effective.enabled, effective.severity)
        enabled, severity = settings[loc.file]
        if not enabled:
            continue
        out.append(
            GateOutlier(
                id=oid,
                pattern_id=p.id,
                pattern_name=p.name,
                category=p.category,
                file=loc.file,
                line=loc.line,
                column=loc.column,
                end_line=loc.end_line if isinstance(loc.end_line, int) else None,
                end_column=loc.end_column if isinstance(loc.end_column, int) else None,
                reason=reason,
                severity=severity,
                state=state,
            )
        )
    return out


def check(
    engine: Engine,
    scan: Iterable[Pattern | ScanEntry] | None,
    *,
    fail_on: str = "new",
    min_severity: Severity = Severity.HINT,
) -> CheckReport:
    """Compare `scan` (or, with None, nothing: the store as it is) with the store's
    approved patterns; `failed` says whether the policy failed."""
    now = datetime.now(UTC)
    with engine.read() as r:
        approved = [
            s.id
            for s in r.query(PatternFilter(statuses=[Status.APPROVED]), Sort(), limit=None).patterns
        ]
        wanted = set(approved)
        stored: dict[str, Pattern] = {}
        held: dict[str, list[tuple[Location, str | None]]] = {}
        variants: dict[str, list[Variant]] = {}
        for start in range(0, len(approved), _BATCH):
            chunk = approved[start : start + _BATCH]
            stored.update((p.id, p) for p in r.patterns(chunk, with_locations=False))
            held.update((pid, _stored(rows)) for pid, rows in r.outliers_of(chunk).items())
            variants.update(r.variants_of(chunk))
        states = r.scan_states()
    hashes = {pid: state.content_hash for pid, state in states.items() if pid in wanted}
    recogniser = Recogniser(states)
    outliers: list[GateOutlier] = []
    seen: set[str] = set()
    if scan is not None:
        for item in scan:
            if isinstance(item, ScanEntry):
                known, _echo = recogniser.recognise(item)
                if known is not None:
                    if known not in wanted or known in seen:
                        continue
                    seen.add(known)
                    outliers.extend(
                        _gate_outliers(
                            stored[known],
                            variants.get(known, []),
                            UNCHANGED,
                            now,
                            held.get(known, []),
                        )
                    )
                    continue
                p = item.decode()
            else:
                p = item
            if p.id not in wanted or p.id in seen:
                continue
            seen.add(p.id)
            old = stored[p.id]
            mine = variants.get(p.id, [])
            kept = held.get(p.id, [])
            if hashes.get(p.id) == content_hash(p):  # same evidence: every outlier unchanged
                outliers.extend(_gate_outliers(old, mine, UNCHANGED, now, kept))
                continue
            current = _gate_outliers(p, mine, NEW, now)
            before = {o.id: o for o in _gate_outliers(old, mine, ABSENT, now, kept)}
            for o in current:
                if o.id in before:
                    o.state = UNCHANGED
                    before.pop(o.id)
            outliers.extend(current)
            outliers.extend(before.values())
        for pid in approved:
            if pid not in seen:  # approved, but the scan did not find the pattern at all
                outliers.extend(
                    _gate_outliers(
                        stored[pid], variants.get(pid, []), ABSENT, now, held.get(pid, [])
                    )
                )
    else:
        for pid in approved:
            outliers.extend(
                _gate_outliers(
                    stored[pid], variants.get(pid, []), UNCHANGED, now, held.get(pid, [])
                )
            )
    floor = min_severity.rank
    outliers = [o for o in outliers if o.severity.rank >= floor]
    outliers.sort(key=lambda o: (_STATE_ORDER[o.state], -o.severity.rank, o.file, o.line, o.id))
    counts = {NEW: 0, UNCHANGED: 0, ABSENT: 0}
    for o in outliers:
        counts[o.state] += 1
    failed = counts[NEW] > 0 if fail_on == "new" else counts[NEW] + counts[UNCHANGED] > 0
    return CheckReport(
        identity=OUTLIER_IDENTITY,
        fail_on=fail_on,
        min_severity=min_severity,
        compared=scan is not None,
        new=counts[NEW],
        unchanged=counts[UNCHANGED],
        absent=counts[ABSENT],
        failed=failed,
        outliers=outliers,
    )


_STATE_ORDER = {NEW: 0, UNCHANGED: 1, ABSENT: 2}


# --- SARIF ----------------------------------------------------------------------------------
def _tool_version() -> str:
    try:
        return version("driftstore")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree
        return "0"


def _rule(p: Pattern, examples: list[Example]) -> SarifRule:
    description = p.description.strip() or p.name
    good = next((e for e in examples if e.is_positive), None)
    bad = next((e for e in examples if not e.is_positive), None)
    markdown = [f"**{p.name}**", "", description]
    text = [p.name, "", description]
    for title, example in (("Follows the pattern", good), ("Breaks the pattern", bad)):
        if example is None:
            continue
        fence = "````" if "```" in example.code else "```"
        markdown += [
            "",
            f"{title} ({example.file}:{example.line_start}):",
            "",
            f"{fence}{example.language or ''}",
            example.code,
            fence,
        ]
        text += ["", f"{title} ({example.file}:{example.line_start}):", example.code]
    tags = [p.category, p.subcategory, *p.tags]
    return SarifRule(
        id=p.id,
        name=p.name,
        short=p.name,
        full=description,
        help_text="\n".join(text),
        help_markdown="\n".join(markdown),
        severity=p.severity.value,
        precision=precision_of(p.confidence.score),
        tags=list(dict.fromkeys(t for t in tags if t)),
        properties={
            "driftstoreStatus": p.status.value,
            "driftstoreConfidence": p.confidence.score,
            "driftstoreCategory": p.category,
        },
    )


def sarif_log(
    engine: Engine,
    root: Path,
    *,
    statuses: list[Status],
    min_severity: Severity = Severity.HINT,
    categories: list[str] | None = None,
    include_suppressed: bool = False,
    compared: CheckReport | None = None,
) -> tuple[bytes, SarifSummary]:
    """SARIF of the outliers of patterns in `statuses` (ignored ones only with
    `include_suppressed`, marked suppressed), or of a `check`'s outliers with their
    baselineState."""
    now = datetime.now(UTC)
    wanted = list(dict.fromkeys(statuses))
    if include_suppressed and Status.IGNORED not in wanted:
        wanted.append(Status.IGNORED)
    if not include_suppressed:
        wanted = [s for s in wanted if s != Status.IGNORED]
    flt = PatternFilter(statuses=wanted, categories=categories)
    rules: list[SarifRule] = []
    results: list[SarifResult] = []
    with engine.read() as r:
        ids = [s.id for s in r.query(flt, Sort(), limit=None).patterns]
        examples: dict[str, list[Example]] = {}
        for e in r.examples():
            examples.setdefault(e.pattern_id, []).append(e)
        if compared is not None:
            used = sorted({o.pattern_id for o in compared.outliers})
            for start in range(0, len(used), _BATCH):
                for p in r.patterns(used[start : start + _BATCH], with_locations=False):
                    rules.append(_rule(p, examples.get(p.id, [])))
            results = [
                _result(o, o.state, None)
                for o in compared.outliers
                if o.severity.rank >= min_severity.rank
            ]
        else:
            for start in range(0, len(ids), _BATCH):
                chunk = ids[start : start + _BATCH]
                variants = r.variants_of(chunk)
                held = {pid: _stored(rows) for pid, rows in r.outliers_of(chunk).items()}
                for p in r.patterns(chunk, with_locations=False):
                    rules.append(_rule(p, examples.get(p.id, [])))
                    suppressed = (
                        "the pattern is ignored in driftstore"
                        if p.status == Status.IGNORED
                        else None
                    )
                    for o in _gate_outliers(
                        p, variants.get(p.id, []), UNCHANGED, now, held.get(p.id, [])
                    ):
                        if o.severity.rank >= min_severity.rank:
                            results.append(_result(o, None, suppressed))
    automation = "driftstore/" + ("-".join(sorted(categories)) if categories else "all") + "/"
    log = build_sarif(
        rules,
        results,
        tool_version=_tool_version(),
        automation_id=automation,
        root_uri=root.resolve().as_uri() + "/",
    )
    return log.data, SarifSummary(
        results=log.results,
        omitted=log.omitted,
        rules=log.rules,
        bytes=len(log.data),
        gzip_bytes=log.gzip_bytes,
    )


def _result(o: GateOutlier, state: str | None, suppressed: str | None) -> SarifResult:
    message = o.pattern_name + (f": {o.reason}" if o.reason else "")
    return SarifResult(
        rule_id=o.pattern_id,
        message=message,
        severity=o.severity.value,
        uri=o.file,
        start_line=o.line,
        start_column=o.column,
        end_line=o.end_line,
        end_column=o.end_column,
        fingerprint_key=FINGERPRINT_KEY,
        fingerprint=o.id,
        baseline_state=state,
        suppressed=suppressed,
    )
