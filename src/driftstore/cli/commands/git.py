"""driftstore in git: the merge driver for shards and index files, and its setup."""

from __future__ import annotations

import sys
from pathlib import Path

import click

import driftstore
from driftstore.cli import render
from driftstore.cli.shell import EXIT_FAILED, common_options, guarded


@click.command(name="merge-driver")
@click.argument("base", type=click.Path(dir_okay=False, path_type=Path))
@click.argument("ours", type=click.Path(dir_okay=False, path_type=Path))
@click.argument("theirs", type=click.Path(dir_okay=False, path_type=Path))
@click.argument("path")
@common_options
@guarded
def merge_driver(
    base: Path, ours: Path, theirs: Path, path: str, root: Path, as_json: bool
) -> None:
    """Git merge driver (%O %A %B %P): merge a shard by pattern id (an index file by key)
    into OURS; exit 1 with the conflicts marked when two decisions differ."""
    del root  # git runs drivers at the top of the work tree; the paths say everything
    report = driftstore.merge_files(base, ours, theirs, path)
    if as_json:
        render.emit_json(report)
    for problem in report.conflicts:
        click.echo(f"driftstore: {path}: {problem}", err=True)
    if report.conflicts:
        sys.exit(EXIT_FAILED)


@click.command(name="git-setup")
@click.option(
    "--command",
    "command",
    help="How git should run driftstore (default: this installation's own script).",
)
@common_options
@guarded
def git_setup(command: str | None, root: Path, as_json: bool) -> None:
    """Register the merge driver: .gitattributes lines for .drift/patterns/*.json and
    .drift/indexes/*.json, and merge.driftstore in the repository's git config (safe to
    run again)."""
    report = driftstore.git_setup(root.resolve(), driftstore.driver_command(command))
    if as_json:
        render.emit_json(report)
        return
    if report.added or report.configured:
        render.line(f"merge driver registered: {report.driver}")
        for line in report.added:
            render.line(f"  .gitattributes: {line}")
    else:
        render.line("already set up")


COMMANDS: list[click.Command] = [merge_driver, git_setup]
