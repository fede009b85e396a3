"""CI: the gate (`check`) and code-scanning output (`sarif`)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from driftstore import CATEGORIES, Severity, Status
from driftstore.cli import render
from driftstore.cli.shell import EXIT_FAILED, common_options, guarded, open_store

_SEVERITIES = click.Choice([s.value for s in Severity])


@click.command()
@click.argument("scan", metavar="[SCAN|-]", required=False)
@click.option(
    "--fail-on",
    type=click.Choice(["new", "any"]),
    default="new",
    show_default=True,
    help="Fail on new outliers only, or on any outlier of an approved pattern.",
)
@click.option(
    "--min-severity",
    type=_SEVERITIES,
    default="hint",
    show_default=True,
    help="Leave out outliers less severe than this (their pattern's effective severity).",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json", "sarif"]),
    default="text",
    show_default=True,
    help="Text for people, JSON for scripts, SARIF 2.1.0 for code scanning.",
)
@click.option(
    "--out", type=click.Path(dir_okay=False, path_type=Path), help="Write the output here."
)
@click.option("--ingest", is_flag=True, help="After checking, merge the scan into the store.")
@common_options
@guarded
def check(
    scan: str | None,
    fail_on: str,
    min_severity: str,
    fmt: str,
    out: Path | None,
    ingest: bool,
    root: Path,
    as_json: bool,
) -> None:
    """CI gate: outliers of approved patterns in SCAN (or in the store as it is), each new,
    unchanged or absent against the stored state; exit 1 when the policy fails."""
    fmt = "json" if as_json else fmt
    with open_store(root, create=False) as store:
        report = store.check(scan, fail_on=fail_on, min_severity=min_severity, ingest=ingest)
        if fmt == "sarif":
            data, _summary = store.sarif_log(compared=report, min_severity=min_severity)
            render.write_output(data, out)
    if fmt == "json":
        render.emit_json(report, out=out)
    elif fmt == "text":
        _text(report)
    if report.failed:
        sys.exit(EXIT_FAILED)


def _text(report: object) -> None:
    data = render.builtins(report)
    shown = [o for o in data["outliers"] if o["state"] != "absent"]
    if shown:
        render.table(
            f"{data['new']} new, {data['unchanged']} unchanged, {data['absent']} absent "
            "outliers of approved patterns",
            ("state", "severity", "file:line:col", "pattern", "reason"),
            [
                (
                    o["state"],
                    o["severity"],
                    f"{o['file']}:{o['line']}:{o['column']}",
                    o["patternName"],
                    o.get("reason") or "",
                )
                for o in shown[:200]
            ],
        )
        if len(shown) > 200:
            render.line(f"… {len(shown) - 200} more (see --format json)")
    verdict = "FAILED" if data["failed"] else "passed"
    render.line(
        f"check {verdict} (--fail-on {data['failOn']}): {data['new']} new, "
        f"{data['unchanged']} unchanged, {data['absent']} absent"
    )


@click.command()
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="Write SARIF here.")
@click.option(
    "--status",
    "statuses",
    multiple=True,
    type=click.Choice([s.value for s in Status]),
    help="Patterns with this status (repeatable; default approved).",
)
@click.option(
    "--min-severity",
    type=_SEVERITIES,
    default="hint",
    show_default=True,
    help="Leave out results less severe than this (the pattern's effective severity).",
)
@click.option(
    "--category",
    "categories",
    multiple=True,
    type=click.Choice(sorted(CATEGORIES)),
    help="Only this category (repeatable).",
)
@click.option(
    "--include-suppressed",
    is_flag=True,
    help="Include ignored patterns' outliers, marked as suppressed.",
)
@common_options
@guarded
def sarif(
    out: Path | None,
    statuses: tuple[str, ...],
    min_severity: str,
    categories: tuple[str, ...],
    include_suppressed: bool,
    root: Path,
    as_json: bool,
) -> None:
    """SARIF 2.1.0 of the outliers of decided patterns, for code scanning (GitHub's limits
    kept: 25,000 results per run, most severe first; 10 MB gzipped)."""
    with open_store(root, create=False) as store:
        data, summary = store.sarif_log(
            statuses=list(statuses) or [Status.APPROVED],
            min_severity=min_severity,
            categories=list(categories) or None,
            include_suppressed=include_suppressed,
        )
    if out is None and not as_json:
        render.write_output(data, None)
        return
    if out is not None:
        render.write_output(data, out)
        summary.out = str(out)
    if as_json:
        render.emit_json(summary)
    else:
        render.line(
            f"wrote {out}: {summary.results} results, {summary.rules} rules"
            + (f", {summary.omitted} left out (limits)" if summary.omitted else "")
        )


COMMANDS: list[click.Command] = [check, sarif]
