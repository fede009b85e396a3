"""The MCP tools: each parses its arguments (typed, described), calls the store, and returns
the store's typed result. Write tools exist only when the server was started with
--allow-writes, and record who (the call's `by`, else the server's) and why in history."""

from __future__ import annotations

from typing import Annotated, Literal

from mcp.server.mcpserver.tools import Tool
from pydantic import Field

import driftstore
from driftstore.mcp.schemas import ADD, READ, WRITE, typed_tool

Id = Annotated[
    str, Field(min_length=1, max_length=256, description="A pattern id, or a unique prefix of one.")
]
Path = Annotated[
    str,
    Field(
        min_length=1,
        max_length=1024,
        description="A file path relative to the project root (or absolute, under it).",
    ),
]
Names = Annotated[
    list[str] | None, Field(max_length=50, description="Any of these (omit for all).")
]
StatusName = Literal["discovered", "approved", "ignored"]
SeverityName = Literal["error", "warning", "info", "hint"]
Reason = Annotated[str, Field(min_length=1, max_length=2000, description="Why; kept in history.")]
By = Annotated[
    str | None,
    Field(max_length=200, description="Who decides; default: the server's --by."),
]


def read_tools(store: driftstore.PatternStore) -> list[Tool]:
    def status() -> driftstore.StatusReport:
        """Totals by status, category and confidence level, health 0-100, and the store
        generation (it moves with every change)."""
        return store.status()

    def list_patterns(
        category: Names = None,
        status: Annotated[
            list[StatusName] | None, Field(description="Any of these statuses.")
        ] = None,
        file: Annotated[
            str | None, Field(max_length=1024, description="Only patterns touching this file.")
        ] = None,
        min_confidence: Annotated[float | None, Field(ge=0, le=1)] = None,
        max_confidence: Annotated[float | None, Field(ge=0, le=1)] = None,
        severity: Annotated[
            list[SeverityName] | None, Field(description="Any of these severities.")
        ] = None,
        tag: Names = None,
        search: Annotated[
            str | None, Field(max_length=200, description="Text in name or description.")
        ] = None,
        sort: Annotated[
            str,
            Field(
                max_length=40,
                description="Field to sort by (id, name, category, status, confidence, severity, "
                "firstSeen, lastSeen, locationCount, outlierCount); a leading '-' sorts descending.",
            ),
        ] = "id",
        limit: Annotated[int, Field(ge=1, le=500, description="Page size.")] = 50,
        cursor: Annotated[
            str | None,
            Field(
                max_length=512,
                description="nextCursor of the previous page; refused once the store changed.",
            ),
        ] = None,
    ) -> driftstore.PatternPage:
        """Pattern summaries, filtered and sorted like `driftstore list`, a page at a time."""
        wanted = {
            "categories": category,
            "statuses": status,
            "files": [file] if file else None,
            "min_confidence": min_confidence,
            "max_confidence": max_confidence,
            "severities": severity,
            "tags_any": tag,
            "search": search,
        }
        return store.page(
            {k: v for k, v in wanted.items() if v is not None}, sort, limit=limit, cursor=cursor
        )

    def get_pattern(id: Id) -> driftstore.PatternDetail:
        """One pattern: locations, outliers, variants, examples, recent history."""
        return store.describe(store.resolve_id(id))

    def file_patterns(path: Path) -> driftstore.FileReport:
        """The patterns touching one file, their spots there and the settings their variants
        give that file (the editor's question)."""
        return store.file_report(path, indexed=True)

    def outliers(
        status: Annotated[
            list[StatusName], Field(min_length=1, description="Patterns with these statuses.")
        ] = ["approved"],  # noqa: B006 - pydantic copies defaults
        category: Names = None,
        file: Annotated[
            list[str] | None, Field(max_length=50, description="Only in these files.")
        ] = None,
        min_severity: SeverityName = "hint",
        limit: Annotated[int, Field(ge=1, le=1000)] = 100,
    ) -> driftstore.OutlierList:
        """Places that break a pattern, most severe first, each with a stable id."""
        return store.outliers(
            statuses=status, categories=category, files=file, min_severity=min_severity, limit=limit
        )

    def examples(
        id: Id,
        fresh: Annotated[
            bool, Field(description="Cut new examples from the code around its locations.")
        ] = False,
        max: Annotated[int, Field(ge=1, le=20)] = 3,
    ) -> driftstore.ExampleList:
        """Good and bad code examples of a pattern."""
        return store.example_list(store.resolve_id(id), fresh=fresh, max=max)

    def history(
        id: Annotated[
            str | None, Field(max_length=256, description="One pattern's history.")
        ] = None,
        since: Annotated[str | None, Field(max_length=64, description="ISO-8601 time.")] = None,
        limit: Annotated[int, Field(ge=1, le=500)] = 50,
    ) -> driftstore.HistoryList:
        """The change log, newest first."""
        return store.history_list(store.resolve_id(id) if id else None, since, limit)

    def context_for_file(
        path: Path,
        budget_tokens: Annotated[
            int, Field(ge=100, le=50_000, description="Rough size limit of the answer.")
        ] = 2000,
    ) -> driftstore.FileContext:
        """Before editing a file: the conventions that apply to it (approved first), their
        settings there, the lines they occupy and break, and a good and a bad example each,
        within the token budget (the answer states what it used and left out)."""
        return store.context_for_file(path, budget_tokens=budget_tokens)

    return [
        typed_tool(status, out=driftstore.StatusReport, annotations=READ),
        typed_tool(list_patterns, out=driftstore.PatternPage, annotations=READ),
        typed_tool(get_pattern, out=driftstore.PatternDetail, annotations=READ),
        typed_tool(file_patterns, out=driftstore.FileReport, annotations=READ),
        typed_tool(outliers, out=driftstore.OutlierList, annotations=READ),
        typed_tool(examples, out=driftstore.ExampleList, annotations=READ),
        typed_tool(history, out=driftstore.HistoryList, annotations=READ),
        typed_tool(context_for_file, out=driftstore.FileContext, annotations=READ),
    ]


def write_tools(store: driftstore.PatternStore, default_by: str) -> list[Tool]:
    def approve(
        ids: Annotated[list[Id], Field(min_length=1, max_length=500)], reason: Reason, by: By = None
    ) -> driftstore.DecisionReport:
        """Approve patterns (all or nothing); those already approved are reported unchanged."""
        return store.approve([store.resolve_id(i) for i in ids], by=by or default_by, reason=reason)

    def ignore(
        ids: Annotated[list[Id], Field(min_length=1, max_length=500)], reason: Reason, by: By = None
    ) -> driftstore.DecisionReport:
        """Ignore patterns (all or nothing); those already ignored are reported unchanged."""
        return store.ignore([store.resolve_id(i) for i in ids], by=by or default_by, reason=reason)

    def add_variant(
        id: Id,
        scope: Literal["global", "directory", "file"],
        reason: Reason,
        path: Annotated[
            str | None, Field(max_length=1024, description="For directory and file scopes.")
        ] = None,
        severity: SeverityName | None = None,
        enabled: Annotated[
            bool | None, Field(description="False turns the pattern off in the scope.")
        ] = None,
        threshold: Annotated[float | None, Field(ge=0, le=1)] = None,
        expires: Annotated[
            str | None, Field(max_length=64, description="ISO-8601 time it stops applying.")
        ] = None,
        by: By = None,
    ) -> driftstore.Variant:
        """A scoped override of a pattern: another severity, or off, for the project, a
        directory or a file."""
        return store.add_variant(
            store.resolve_id(id),
            scope=scope,
            path=path,
            severity=severity,
            enabled=enabled,
            threshold=threshold,
            expires=expires,
            by=by or default_by,
            reason=reason,
        )

    return [
        typed_tool(approve, out=driftstore.DecisionReport, annotations=WRITE),
        typed_tool(ignore, out=driftstore.DecisionReport, annotations=WRITE),
        typed_tool(add_variant, out=driftstore.Variant, annotations=ADD),
    ]
