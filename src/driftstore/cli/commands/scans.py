"""Store lifecycle and scans: init, ingest, status."""

from __future__ import annotations

from pathlib import Path

import click

import driftstore
from driftstore.cli import render
from driftstore.cli.shell import EXIT_INTERRUPTED, common_options, fail, guarded, open_store


@click.command()
@common_options
@guarded
def init(root: Path, as_json: bool) -> None:
    """Create .drift/drift.db (safe to run again)."""
    with open_store(root, create=True) as store:
        path = store.info().location
    if as_json:
        render.emit_json({"database": path, "created": True})
    else:
        render.line(f"store ready: {path}")


@click.command()
@click.argument("source", metavar="FILE|-")
@click.option("--prune", is_flag=True, help="Delete discovered patterns the scan did not see.")
@click.option("--dry-run", is_flag=True, help="Show what the scan would change; write nothing.")
@click.option(
    "--force",
    is_flag=True,
    help="With --prune: delete even when that is more than half of the discovered patterns.",
)
@common_options
@guarded
def ingest(source: str, prune: bool, dry_run: bool, force: bool, root: Path, as_json: bool) -> None:
    """Merge a scan (JSON array, PatternFile or NDJSON) into the store."""
    if source != "-" and not Path(source).is_file():
        raise driftstore.InvalidInputError(
            f"{source}: no such file; give a scan file, or '-' to read the scan from stdin"
        )  # before a store is created for it
    with open_store(root, create=not dry_run) as store, render.progress("ingesting") as advance:
        before = store.generation
        try:
            report = store.ingest(
                source, prune=prune, on_progress=advance, dry_run=dry_run, force=force
            )
        except KeyboardInterrupt:
            _interrupted(store.generation != before and not dry_run)
    if as_json:
        render.emit_json(report)
    elif dry_run:
        changes = render.builtins(report)["changes"]
        render.line(
            f"would add {report.added}, update {report.updated}, leave {report.unchanged} "
            f"unchanged, remove {report.removed} (nothing was written)"
        )
        for change in changes["changed"][:50]:
            render.line(f"  {change['id']}: {', '.join(change['fields'])}")
    else:
        render.line(
            f"added {report.added}, updated {report.updated}, unchanged {report.unchanged}, "
            f"removed {report.removed}" + (f" (backup {report.backup})" if report.backup else "")
        )


def _interrupted(stored: bool) -> None:
    """Ctrl-C during ingest: say which side of the commit it landed on. The store's
    generation moves only when the write committed, so it tells the two apart."""
    if stored:
        fail(
            "interrupted after the scan was stored: it is in the store (see 'driftstore "
            "status'); only this report was lost",
            EXIT_INTERRUPTED,
        )
    fail("interrupted before the scan was stored: nothing was written", EXIT_INTERRUPTED)


@click.command()
@click.option(
    "--as-of", "as_of", help="As it was at this ISO-8601 time or backup id (from history)."
)
@common_options
@guarded
def status(as_of: str | None, root: Path, as_json: bool) -> None:
    """Totals by status, category and confidence level; locations and outliers; health."""
    with open_store(root) as store:
        report = store.as_of(as_of).status() if as_of else store.status()
    if as_json:
        render.emit_json(report)
        return
    summary = render.builtins(report)
    factors = summary["healthFactors"]
    render.key_values(
        "driftstore status",
        [
            (
                "health",
                f"{summary['health']}/100 (approved {factors['approvalRatio']:.0%}, "
                f"mean confidence {factors['meanConfidence']:.2f}, "
                f"outlier rate {factors['outlierRate']:.1%})",
            ),
            ("patterns", summary["totalPatterns"]),
            *[(f"  {k}", v) for k, v in summary["byStatus"].items()],
            ("locations", summary["totalLocations"]),
            ("outliers", summary["totalOutliers"]),
            *[(f"confidence {k}", v) for k, v in summary["byConfidence"].items()],
            *[
                (k, v)
                for k, v in summary.items()
                if not isinstance(v, dict | list)
                and k not in {"totalPatterns", "totalLocations", "totalOutliers", "health"}
            ],
        ],
    )
    if summary["categories"]:
        render.table(
            "by category",
            ("category", "patterns", "discovered", "approved", "ignored", "locations", "outliers"),
            [
                (
                    name,
                    c["total"],
                    c["discovered"],
                    c["approved"],
                    c["ignored"],
                    c["locations"],
                    c["outliers"],
                )
                for name, c in summary["categories"].items()
            ],
        )


COMMANDS: list[click.Command] = [init, ingest, status]
