"""SARIF 2.1.0 logs for code scanning (GitHub and any other SARIF consumer).

One run, tool `driftstore`: a rule per pattern, a result per outlier. GitHub's limits are
kept by construction, not checked after the fact:

- at most MAX_RESULTS results per run: the most severe are kept (then by rule, file, line),
  the rest are counted in the run's `properties.driftstoreOmittedResults` and named in a
  warning notification of the run's invocation;
- the gzipped log stays under MAX_GZIP_BYTES: when it would not, the least severe results
  are left out (and counted) until it does;
- at most MAX_RULES rules (those with results first) and MAX_TAGS tags per rule.

Results carry `partialFingerprints` under driftstore's own versioned key (the outlier
identity of `model.identity`), the only thing GitHub matches alerts by across runs, and a
`baselineState` when they were compared with a stored state (`driftstore check`).
"""

from __future__ import annotations

import gzip
from typing import Any, NamedTuple

import msgspec

SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
SARIF_VERSION = "2.1.0"
TOOL_NAME = "driftstore"
TOOL_URI = "https://github.com/driftstore/driftstore"
SOURCE_ROOT = "%SRCROOT%"

#: GitHub code scanning's hard limits (docs: "SARIF results exceed hard limit")
MAX_RESULTS = 25_000
MAX_RULES = 25_000
MAX_TAGS = 20
MAX_GZIP_BYTES = 10 * 1000 * 1000

#: driftstore severity -> SARIF level
LEVELS = {"error": "error", "warning": "warning", "info": "note", "hint": "note"}
_RANK = {"error": 3, "warning": 2, "info": 1, "hint": 0}


class SarifRule(NamedTuple):
    id: str
    name: str
    short: str
    full: str
    help_text: str
    help_markdown: str
    severity: str
    precision: str
    tags: list[str]
    properties: dict[str, Any]


class SarifResult(NamedTuple):
    rule_id: str
    message: str
    severity: str
    uri: str
    start_line: int
    start_column: int
    end_line: int | None
    end_column: int | None
    fingerprint_key: str
    fingerprint: str
    baseline_state: str | None = None
    #: why it is suppressed (an ignored pattern), or None
    suppressed: str | None = None


def precision_of(score: float) -> str:
    """SARIF/GitHub precision from a confidence score."""
    if score >= 0.95:
        return "very-high"
    if score >= 0.85:
        return "high"
    if score >= 0.7:
        return "medium"
    return "low"


def _rule(rule: SarifRule) -> dict[str, Any]:
    return {
        "id": rule.id,
        "name": rule.name,
        "shortDescription": {"text": rule.short},
        "fullDescription": {"text": rule.full},
        "help": {"text": rule.help_text, "markdown": rule.help_markdown},
        "defaultConfiguration": {"level": LEVELS.get(rule.severity, "note")},
        "properties": {
            "precision": rule.precision,
            "tags": rule.tags[:MAX_TAGS],
            **rule.properties,
        },
    }


def _result(result: SarifResult, rule_index: int) -> dict[str, Any]:
    region: dict[str, Any] = {"startLine": result.start_line}
    # SARIF columns are 1-based; drift's are 0-based
    region["startColumn"] = result.start_column + 1
    if result.end_line is not None:
        region["endLine"] = max(result.end_line, result.start_line)
    if result.end_column is not None:
        region["endColumn"] = result.end_column + 1
    out: dict[str, Any] = {
        "ruleId": result.rule_id,
        "ruleIndex": rule_index,
        "level": LEVELS.get(result.severity, "note"),
        "message": {"text": result.message},
        "locations": [
            {
                "physicalLocation": {
                    "artifactLocation": {"uri": result.uri, "uriBaseId": SOURCE_ROOT},
                    "region": region,
                }
            }
        ],
        "partialFingerprints": {result.fingerprint_key: result.fingerprint},
    }
    if result.baseline_state is not None:
        out["baselineState"] = result.baseline_state
    if result.suppressed is not None:
        out["suppressions"] = [{"kind": "external", "justification": result.suppressed}]
    return out


class SarifLog(NamedTuple):
    data: bytes
    results: int
    omitted: int
    rules: int
    #: the gzipped size, or (for a log under 90% of the limit as plain bytes, which gzip
    #: cannot push over it) its plain size as an upper bound
    gzip_bytes: int


def _gzipped(data: bytes) -> int:
    return len(gzip.compress(data, compresslevel=6))


def build_sarif(
    rules: list[SarifRule],
    results: list[SarifResult],
    *,
    tool_version: str,
    automation_id: str,
    root_uri: str,
) -> SarifLog:
    """The SARIF log as bytes, within GitHub's limits (see the module doc)."""
    ordered = sorted(
        range(len(results)),
        key=lambda i: (
            -_RANK.get(results[i].severity, 0),
            results[i].rule_id,
            results[i].uri,
            results[i].start_line,
            i,
        ),
    )
    kept = ordered[:MAX_RESULTS]
    while True:
        data, rule_count = _encode(
            rules, results, kept, len(results) - len(kept), tool_version, automation_id, root_uri
        )
        # gzip never makes JSON bigger than it is by more than its block headers: a log
        # under 90% of the limit as plain bytes is under it gzipped, with no need to know
        size = len(data) if len(data) <= MAX_GZIP_BYTES * 0.9 else _gzipped(data)
        if size <= MAX_GZIP_BYTES or not kept:
            return SarifLog(data, len(kept), len(results) - len(kept), rule_count, size)
        # too big: leave out the least severe tenth (at least one) and try again
        kept = kept[: max(0, len(kept) - max(1, len(kept) // 10))]


def _encode(
    rules: list[SarifRule],
    results: list[SarifResult],
    kept: list[int],
    omitted: int,
    tool_version: str,
    automation_id: str,
    root_uri: str,
) -> tuple[bytes, int]:
    used = {results[i].rule_id for i in kept}
    chosen = [r for r in rules if r.id in used]
    chosen += [r for r in rules if r.id not in used]
    chosen = sorted(chosen[:MAX_RULES], key=lambda r: r.id)
    index = {r.id: n for n, r in enumerate(chosen)}
    out_results = [
        _result(results[i], index[results[i].rule_id])
        for i in sorted(kept)
        if results[i].rule_id in index
    ]
    invocation: dict[str, Any] = {"executionSuccessful": True}
    if omitted:
        invocation["toolExecutionNotifications"] = [
            {
                "level": "warning",
                "message": {
                    "text": f"{omitted} less severe results were left out to stay within "
                    f"code scanning's limits ({MAX_RESULTS} results per run, "
                    f"{MAX_GZIP_BYTES // 1_000_000} MB gzipped)"
                },
            }
        ]
    log = {
        "$schema": SCHEMA_URI,
        "version": SARIF_VERSION,
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": TOOL_NAME,
                        "version": tool_version,
                        "informationUri": TOOL_URI,
                        "rules": [_rule(r) for r in chosen],
                    }
                },
                "automationDetails": {"id": automation_id},
                "originalUriBaseIds": {SOURCE_ROOT: {"uri": root_uri}},
                "invocations": [invocation],
                "results": out_results,
                "properties": {"driftstoreOmittedResults": omitted},
            }
        ],
    }
    return msgspec.json.encode(log), len(chosen)
