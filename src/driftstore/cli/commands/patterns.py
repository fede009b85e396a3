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
    help="Sort by this field (ties broken by id).",
)
@click.option("--desc", is_flag=True, help="Sort descending.")
@click.option(
    "--limit",
    type=click.IntRange(min=0),
    default=50,
    show_default=True,
    help="At most N patterns; 0 for all.",
)
@click.option(
    "--offset", type=click.IntRange(min=0), default=0, show_default=True, help="Skip N patterns."
)
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
        result = store.query(
            flt, Sort(SortField(sort_field), desc), offset=offset, limit=limit or None
        )
    if as_json:
        render.emit_json(result)
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
@click.option("--all", "show_all", is_flag=True, help="List every location and history row.")
@common_options
@guarded
def show(pattern_id: str, as_of: str | None, show_all: bool, root: Path, as_json: bool) -> None:
    """One pattern with locations, outliers, variants, examples and history (ID may be a
    unique prefix of an id)."""
    with open_store(root) as store:
        if as_of:
            found = store.as_of(as_of).describe(pattern_id)
        else:
            found = store.describe(store.resolve_id(pattern_id))
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
    spots = [(loc, "") for loc in detail["locations"]]
    spots += [(loc, loc.get("reason") or "outlier") for loc in detail["outliers"]]
    shown, more = render.capped(spots, None if show_all else 20)
    if shown:
        render.table(
            f"locations and outliers ({len(spots)})",
            ("file:line:col", "outlier"),
            [
                (
                    f"{loc['file']}:{loc['line']}:{loc['column']}",
                    reason or str((loc.get("isOutlier") is True and "outlier") or ""),
                )
                for loc, reason in shown
            ],
        )
    if more:
        render.line(more)
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
        changes, more = render.capped(detail["history"], None if show_all else 20)
        render.table(
            "history",
            ("at", "action", "by"),
            [(render.when(h["at"]), h["action"], h.get("by") or "") for h in changes],
        )
        if more:
            render.line(more)


@click.command(name="file")
@click.argument("path")
@click.option(
    "--include-disabled",
    is_flag=True,
    help="Also list patterns a variant disables for PATH (marked enabled: false).",
)
@click.option("--all", "show_all", is_flag=True, help="List every spot of every pattern.")
@common_options
@guarded
def file_(path: str, include_disabled: bool, show_all: bool, root: Path, as_json: bool) -> None:
    """Patterns with a location or outlier in PATH (the editor's question), with the
    settings their variants give PATH."""
    with open_store(root) as store:
        report = store.file_report(path, include_disabled=include_disabled)
    if as_json:
        render.emit_json(report)
        return
    answer = render.builtins(report)
    render.table(
        f"{len(answer['patterns'])} patterns in {answer['file']} (line:col, ! = outlier)",
        ("id", "name", "status", "severity", "where"),
        [
            (
                p["id"],
                p["name"],
                p["status"] + ("" if p["effective"]["enabled"] else " (disabled here)"),
                p["effective"]["severity"],
                _spots(p["locations"], show_all),
            )
            for p in answer["patterns"]
        ],
    )


def _spots(locations: list[dict[str, Any]], show_all: bool) -> str:
    """`12:4, 40:1!, 7:3 ×3` for a pattern's spots in one file (the same spot listed
    several times is shown once with its count), at most ten unless --all."""
    counts: dict[str, int] = {}
    for loc in locations:
        key = f"{loc['line']}:{loc['column']}{'!' if loc['isOutlier'] else ''}"
        counts[key] = counts.get(key, 0) + 1
    keys = list(counts)
    shown, more = render.capped(keys, None if show_all else 10)
    text = ", ".join(k + (f" ×{counts[k]}" if counts[k] > 1 else "") for k in shown)
    return text + (f" … {len(keys) - len(shown)} more" if more else "")


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
                flt = PatternFilter(ids=[store.resolve_id(i) for i in ids])
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
@click.option(
    "--limit",
    type=click.IntRange(min=0),
    default=50,
    show_default=True,
    help="At most N entries (newest first); 0 for all.",
)
@common_options
@guarded
def history(
    pattern_id: str | None, since: str | None, limit: int, root: Path, as_json: bool
) -> None:
    """The change log, newest first."""
    wanted = None if limit == 0 else limit + 1  # one more says whether there are more
    with open_store(root) as store:
        if pattern_id is not None:
            store.require_id(pattern_id)
        entries = store.history(pattern_id, since=since, limit=wanted)
    more = wanted is not None and len(entries) > limit
    entries = entries[:limit] if more else entries
    if as_json:
        render.emit_json(entries)
        return
    render.table(
        f"{len(entries)} changes" + (" (newest)" if more else ""),
        ("at", "pattern", "action", "by", "note"),
        [(render.when(e.at), e.pattern_id, e.action, e.by or "", e.reason or "") for e in entries],
    )
    if more:
        render.line(f"more: --limit {limit * 2} (or 0 for all), or --since TIME")


COMMANDS: list[click.Command] = [
    list_,
    show,
    file_,
    _decision(Status.APPROVED),
    _decision(Status.IGNORED),
    history,
]
