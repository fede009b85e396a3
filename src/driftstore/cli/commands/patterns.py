"""Reading and deciding on patterns: list, show, file, approve, ignore, history."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from driftstore import PatternFilter, Sort, SortField, Status
from driftstore.cli import render
from driftstore.cli.filters import build, filter_options, given
from driftstore.cli.shell import common_options, guarded, open_store

_SUMMARY_COLUMNS = ("id", "name", "category", "status", "conf", "level", "severity", "locs", "outl")


def _summary_row(s: Any) -> tuple[Any, ...]:
    return (
        s.id,
        s.name,
        s.category,
        s.status,
        f"{s.confidence:.2f}",
        s.confidence_level,
        s.severity,
        s.location_count,
        s.outlier_count,
    )


@click.command(name="list")
@filter_options
@click.option(
    "--sort",
    "sort_field",
    type=click.Choice([f.value for f in SortField]),
    default=SortField.ID.value,
    show_default=True,
)
@click.option("--desc", is_flag=True, help="Sort descending.")
@click.option("--limit", type=click.IntRange(min=0), default=50, show_default=True)
@click.option("--offset", type=click.IntRange(min=0), default=0, show_default=True)
@common_options
@guarded
def list_(
    sort_field: str,
    desc: bool,
    limit: int,
    offset: int,
    root: Path,
    as_json: bool,
    **filters: Any,
) -> None:
    """Filtered, sorted, paginated pattern summaries."""
    flt = build(filters)
    with open_store(root) as store:
        result = store.query(flt, Sort(SortField(sort_field), desc), offset=offset, limit=limit)
    if as_json:
        render.emit_json(
            {
                "patterns": [
                    {
                        "id": s.id,
                        "name": s.name,
                        "category": s.category,
                        "subcategory": s.subcategory,
                        "status": s.status,
                        "confidence": s.confidence,
                        "confidenceLevel": s.confidence_level,
                        "severity": s.severity,
                        "locationCount": s.location_count,
                        "outlierCount": s.outlier_count,
                    }
                    for s in result.patterns
                ],
                "total": result.total,
                "hasMore": result.has_more,
            }
        )
        return
    render.table(
        f"{len(result.patterns)} of {result.total} patterns",
        _SUMMARY_COLUMNS,
        [_summary_row(s) for s in result.patterns],
    )
    if result.has_more:
        render.line(f"more: --offset {offset + limit}")


@click.command()
@click.argument("pattern_id", metavar="ID")
@click.option(
    "--as-of", "as_of", help="As it was at this ISO-8601 time or backup id (from history)."
)
@common_options
@guarded
def show(pattern_id: str, as_of: str | None, root: Path, as_json: bool) -> None:
    """One pattern with locations, outliers, variants, examples and history."""
    with open_store(root) as store:
        found = (store.as_of(as_of) if as_of else store).describe(pattern_id)
    if as_json:
        render.emit_json(found)
        return
    detail = render.builtins(found)
    render.key_values(
        f"{detail['name']} ({detail['id']})",
        [
            ("category", f"{detail['category']} / {detail['subcategory']}"),
            ("status", detail["status"]),
            ("confidence", f"{detail['confidence']['score']} ({detail['confidenceLevel']})"),
            ("severity", detail["severity"]),
            ("description", detail.get("description", "")),
            ("detector", detail["detector"]["config"]["detectorId"]),
            ("locations", len(detail["locations"])),
            ("outliers", len(detail["outliers"])),
        ],
    )
    rows = [(loc["file"], loc["line"], loc["column"], "") for loc in detail["locations"][:20]]
    rows += [
        (loc["file"], loc["line"], loc["column"], loc.get("reason", "outlier"))
        for loc in detail["outliers"][:20]
    ]
    if rows:
        render.table("locations (first 20 of each)", ("file", "line", "col", "outlier"), rows)
    if detail["variants"]:
        render.table(
            "variants",
            ("id", "scope", "path", "severity", "enabled", "threshold", "expires"),
            [
                (
                    v["id"],
                    v["scope"],
                    v.get("scopePath") or "",
                    v.get("severityOverride") or "",
                    "" if v.get("enabledOverride") is None else str(v["enabledOverride"]).lower(),
                    "" if v.get("thresholdOverride") is None else v["thresholdOverride"],
                    (v.get("expiresAt") or "") + (" (expired)" if v["expired"] else ""),
                )
                for v in detail["variants"]
            ],
        )
    if detail["examples"]:
        render.table(
            "examples",
            ("id", "kind", "file", "lines", "language"),
            [
                (
                    e["id"],
                    "good" if e.get("isPositive", True) else "bad",
                    e["file"],
                    f"{e.get('lineStart', '')}-{e.get('lineEnd', '')}",
                    e.get("language") or "",
                )
                for e in detail["examples"]
            ],
        )
    if detail["related"]:
        render.table(
            f"related patterns ({detail['relatedTotal']}, same category and subcategory)",
            ("id", "name", "status", "confidence"),
            [(r["id"], r["name"], r["status"], r["confidence"]) for r in detail["related"]],
        )
    if detail["history"]:
        render.table(
            "history",
            ("at", "action", "by"),
            [(h["at"], h["action"], h.get("by") or "") for h in detail["history"][:20]],
        )


@click.command(name="file")
@click.argument("path")
@click.option(
    "--include-disabled",
    is_flag=True,
    help="Also list patterns a variant disables for PATH (marked enabled: false).",
)
@common_options
@guarded
def file_(path: str, include_disabled: bool, root: Path, as_json: bool) -> None:
    """Patterns with a location or outlier in PATH (the editor's question), with the
    settings their variants give PATH."""
    with open_store(root) as store:
        report = store.file_report(path, include_disabled=include_disabled)
    if as_json:
        render.emit_json(report)
        return
    answer = render.builtins(report)
    render.table(
        f"{len(answer['patterns'])} patterns in {answer['file']}",
        ("id", "name", "status", "severity", "lines"),
        [
            (
                p["id"],
                p["name"],
                p["status"] + ("" if p["effective"]["enabled"] else " (disabled here)"),
                p["effective"]["severity"],
                ", ".join(
                    str(loc["line"]) + ("!" if loc["isOutlier"] else "") for loc in p["locations"]
                ),
            )
            for p in answer["patterns"]
        ],
    )


def _decision(target: Status) -> click.Command:
    verb = "approve" if target == Status.APPROVED else "ignore"

    @click.command(
        name=verb,
        help=f"Mark patterns {target.value}: the IDs given, or every pattern the filters "
        "select (all or nothing; those already there are left as they are).",
    )
    @click.argument("ids", nargs=-1, metavar="[ID...]")
    @filter_options
    @click.option("--by", help="Who decided (stored with the change).")
    @click.option("--dry-run", is_flag=True, help="Say what would change; write nothing.")
    @common_options
    @guarded
    def decide(
        ids: tuple[str, ...],
        by: str | None,
        dry_run: bool,
        root: Path,
        as_json: bool,
        **filters: Any,
    ) -> None:
        flt = build(filters)
        if ids and given(flt):
            raise click.UsageError("give IDs or filters, not both")
        if not ids and not given(flt):
            raise click.UsageError(f"give the IDs to {verb}, or filters such as --category")
        with open_store(root) as store:
            if ids:
                flt = PatternFilter(ids=list(ids))
                missing = sorted(set(ids) - {s.id for s in store.query(flt, limit=None).patterns})
                if missing:
                    store.require(missing[0])  # one line naming the unknown id
            report = store.decide_where(flt, target, by=by, dry_run=dry_run)
        if as_json:
            render.emit_json(report)
            return
        lead = f"would be {target.value}" if dry_run else target.value
        render.line(f"{lead}: {', '.join(report.ids) or 'none'}")
        if report.unchanged:
            render.line(f"already {target.value}: {', '.join(report.unchanged)}")

    return decide


@click.command()
@click.argument("pattern_id", metavar="[ID]", required=False)
@click.option("--since", help="Only changes at or after this ISO-8601 time.")
@click.option("--limit", type=click.IntRange(min=0), help="At most N entries (newest first).")
@common_options
@guarded
def history(
    pattern_id: str | None, since: str | None, limit: int | None, root: Path, as_json: bool
) -> None:
    """The change log, newest first."""
    with open_store(root) as store:
        if pattern_id is not None:
            store.require_id(pattern_id)
        entries = store.history(pattern_id, since=since, limit=limit)
    if as_json:
        render.emit_json(
            [
                {
                    "patternId": e.pattern_id,
                    "action": e.action,
                    "at": e.at,
                    "by": e.by,
                    "reason": e.reason,
                    "old": e.old,
                    "new": e.new,
                }
                for e in entries
            ]
        )
        return
    render.table(
        f"{len(entries)} changes",
        ("at", "pattern", "action", "by", "note"),
        [(e.at, e.pattern_id, e.action, e.by or "", e.reason or "") for e in entries],
    )


COMMANDS: list[click.Command] = [
    list_,
    show,
    file_,
    _decision(Status.APPROVED),
    _decision(Status.IGNORED),
    history,
]
