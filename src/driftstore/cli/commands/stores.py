"""Shared stores: `driftstore projects` and `driftstore copy --to STORE | --from STORE`."""

from __future__ import annotations

from pathlib import Path

import click

from driftstore.cli import render
from driftstore.cli.shell import chosen_store, common_options, guarded


@click.command()
@common_options
@guarded
def projects(root: Path, as_json: bool) -> None:
    """The projects of a shared store (--store or DRIFTSTORE_STORE) with their sizes."""
    import driftstore

    del root
    store, _ = chosen_store()
    found = driftstore.projects(store)
    if as_json:
        render.emit_json(found)
    elif not found:
        render.line("no projects yet; 'driftstore ingest SCAN --store URL' makes the first")
    else:
        render.table(
            "projects",
            ("project", "patterns", "locations", "outliers", "history"),
            [(p.project, p.patterns, p.locations, p.outliers, p.history_rows) for p in found],
        )


@click.command()
@click.option(
    "--to",
    "to",
    metavar="STORE",
    default=None,
    help="Copy this project's store into STORE: a postgresql:// URL, or 'sqlite' for the "
    "project's .drift/drift.db.",
)
@click.option(
    "--from",
    "from_",
    metavar="STORE",
    default=None,
    help="Copy STORE (a postgresql:// URL or 'sqlite') into this project's store.",
)
@click.option("--to-project", metavar="NAME", default=None, help="Project name in --to.")
@click.option("--from-project", metavar="NAME", default=None, help="Project name in --from.")
@click.option(
    "--replace",
    is_flag=True,
    help="Replace what the target holds (after a backup of it); without it a target that "
    "holds patterns is refused.",
)
@common_options
@guarded
def copy(
    to: str | None,
    from_: str | None,
    to_project: str | None,
    from_project: str | None,
    replace: bool,
    root: Path,
    as_json: bool,
) -> None:
    """Copy a project's whole store (patterns, locations, variants, examples, history)
    between its SQLite file and a PostgreSQL project, or between projects: one consistent
    snapshot, loaded in one transaction."""
    import driftstore

    if (to is None) == (from_ is None):
        raise driftstore.InvalidInputError("copy: give exactly one of --to STORE and --from STORE")
    store, project = chosen_store()
    if to is not None:
        report = driftstore.copy_store(
            root,
            source=store,
            source_project=project,
            target=to,
            target_project=to_project,
            replace=replace,
        )
    else:
        report = driftstore.copy_store(
            root,
            source=from_,
            source_project=from_project,
            target=store,
            target_project=project,
            replace=replace,
        )
    if as_json:
        render.emit_json(report)
        return
    render.line(
        f"copied {report.patterns} patterns, {report.locations} locations and "
        f"{report.history_rows} history rows from {report.source} to {report.target}"
    )
    if report.backup:
        render.line(f"what the target held is in backup {report.backup}")


COMMANDS = [projects, copy]
