"""driftstore's answers in the protocol's types: diagnostics, hover Markdown, code lenses
and code actions. Lines and columns are 1-based in the store, 0-based on the wire."""

from __future__ import annotations

from lsprotocol import types as lsp

import driftstore

SOURCE = "driftstore"
SEVERITY = {
    driftstore.Severity.ERROR: lsp.DiagnosticSeverity.Error,
    driftstore.Severity.WARNING: lsp.DiagnosticSeverity.Warning,
    driftstore.Severity.INFO: lsp.DiagnosticSeverity.Information,
    driftstore.Severity.HINT: lsp.DiagnosticSeverity.Hint,
}
APPROVE, IGNORE = "driftstore.approve", "driftstore.ignore"
DISABLE_IN_FILE, DISABLE_IN_DIRECTORY = "driftstore.disableInFile", "driftstore.disableInDirectory"
SHOW_OUTLIERS = "driftstore.showOutliers"
COMMANDS = (APPROVE, IGNORE, DISABLE_IN_FILE, DISABLE_IN_DIRECTORY, SHOW_OUTLIERS)


def _position(line: int, column: int) -> lsp.Position:
    return lsp.Position(line=max(line - 1, 0), character=max(column - 1, 0))


def spot_range(spot: driftstore.DiagnosticSpot) -> lsp.Range:
    start = _position(spot.line, spot.column)
    if spot.end_line is not None and spot.end_line >= spot.line:
        end_column = spot.end_column if spot.end_column is not None else 1
        end = _position(spot.end_line, end_column)
        if (end.line, end.character) > (start.line, start.character):
            return lsp.Range(start=start, end=end)
    # no end given: the rest of the line
    return lsp.Range(start=start, end=lsp.Position(line=start.line + 1, character=0))


def diagnostic(spot: driftstore.DiagnosticSpot) -> lsp.Diagnostic:
    message = spot.pattern_name + (f": {spot.reason}" if spot.reason else "")
    return lsp.Diagnostic(
        range=spot_range(spot),
        message=message,
        severity=SEVERITY[spot.severity],
        source=SOURCE,
        code=spot.pattern_id,
        data={"outlierId": spot.outlier_id, "patternId": spot.pattern_id},
    )


def diagnostics(found: driftstore.FileDiagnostics) -> list[lsp.Diagnostic]:
    return [diagnostic(spot) for spot in found.spots]


def _fence(code: str) -> str:
    ticks = "```"
    while ticks in code:
        ticks += "`"
    return f"{ticks}\n{code}\n{ticks}"


def _escape(text: str) -> str:
    """Markdown from scan text shown literally (no links, emphasis or HTML)."""
    out = []
    for ch in text:
        if ch in "\\`*_{}[]()<>#+-.!|~":
            out.append("\\" + ch)
        elif ch < " " and ch not in "\n\t":
            out.append(" ")
        else:
            out.append(ch)
    return "".join(out)


def hover_markdown(
    pattern: driftstore.Pattern,
    effective: driftstore.Severity,
    example: driftstore.Example | None,
) -> str:
    lines = [
        f"**{_escape(pattern.name)}** (`{pattern.id}`)",
        "",
        f"{pattern.status.value} · confidence {pattern.confidence.score:.2f} "
        f"({pattern.confidence.effective_level}) · severity {effective.value}",
    ]
    if pattern.description:
        lines += ["", _escape(pattern.description)]
    if example is not None:
        where = example.file
        if example.line_start is not None:
            where += f":{example.line_start}-{example.line_end or example.line_start}"
        lines += ["", f"Good example ({_escape(where)}):", "", _fence(example.code)]
    return "\n".join(lines)


def lens(pattern_id: str, name: str, count: int, line: int, uri: str) -> lsp.CodeLens:
    """An unresolved lens: its title is filled in by codeLens/resolve."""
    return lsp.CodeLens(
        range=lsp.Range(start=_position(line, 1), end=_position(line, 1)),
        data={"patternId": pattern_id, "name": name, "count": count, "uri": uri},
    )


def resolved(item: lsp.CodeLens) -> lsp.CodeLens:
    data = item.data if isinstance(item.data, dict) else {}
    count = int(data.get("count", 0))
    noun = "outlier" if count == 1 else "outliers"
    title = f"{count} {noun} of '{data.get('name', data.get('patternId', '?'))}'"
    item.command = lsp.Command(
        title=title, command=SHOW_OUTLIERS, arguments=[data.get("patternId"), data.get("uri")]
    )
    return item


def actions(diagnostic: lsp.Diagnostic, uri: str, name: str) -> list[lsp.CodeAction]:
    pattern_id = str(diagnostic.code)
    choices = [
        (f"Approve pattern '{name}'", APPROVE),
        (f"Ignore pattern '{name}'", IGNORE),
        (f"Turn '{name}' off in this file", DISABLE_IN_FILE),
        (f"Turn '{name}' off in this directory", DISABLE_IN_DIRECTORY),
    ]
    return [
        lsp.CodeAction(
            title=title,
            kind=lsp.CodeActionKind.QuickFix,
            diagnostics=[diagnostic],
            command=lsp.Command(title=title, command=command, arguments=[pattern_id, uri]),
        )
        for title, command in choices
    ]
