"""Code examples: `driftstore example add | list | remove` (code read from project files)."""

from __future__ import annotations

from pathlib import Path

import click

from driftstore.cli import render
from driftstore.cli.shell import common_options, guarded, open_store


@click.group()
def example() -> None:
    """Good and bad code examples of a pattern, cut from the project's files."""


@example.command()
@click.argument("pattern_id", metavar="ID")
@click.option("--file", "file", required=True, help="Project-relative path of the source file.")
@click.option("--lines", required=True, help="Line range START-END (or one line N), 1-based.")
@click.option("--bad", is_flag=True, help="A bad example (what the pattern is not).")
@click.option("--by", help="Who made the change (stored in history).")
@common_options
@guarded
def add(
    pattern_id: str, file: str, lines: str, bad: bool, by: str | None, root: Path, as_json: bool
) -> None:
    """Store lines of FILE as an example of pattern ID."""
    with open_store(root) as store:
        stored = store.add_example(pattern_id, file, lines, bad=bad, by=by)
    if as_json:
        render.emit_json(stored)
    else:
        kind = "bad" if not stored.is_positive else "good"
        render.line(
            f"example {stored.id} ({kind}) added to {stored.pattern_id}: "
            f"{stored.file}:{stored.line_start}-{stored.line_end}"
        )


@example.command(name="list")
@click.argument("pattern_id", metavar="ID")
@click.option("--fresh", is_flag=True, help="Cut new examples around the pattern's locations.")
@click.option(
    "--max",
    "limit",
    type=click.IntRange(min=0),
    default=3,
    show_default=True,
    help="With --fresh: at most N examples.",
)
@click.option(
    "--context",
    type=click.IntRange(min=0),
    default=5,
    show_default=True,
    help="With --fresh: lines of code around each location.",
)
@common_options
@guarded
def list_(
    pattern_id: str, fresh: bool, limit: int, context: int, root: Path, as_json: bool
) -> None:
    """The stored examples of pattern ID (or, with --fresh, new ones from its locations)."""
    with open_store(root) as store:
        found = (
            store.examples_for(pattern_id, max=limit, context=context)
            if fresh
            else store.examples(pattern_id)
        )
    if as_json:
        render.emit_json(found)
        return
    if not found:
        render.line("no examples")
        return
    for e in found:
        kind = "good" if e.is_positive else "bad"
        label = f"#{e.id} " if e.id is not None else ""
        render.line(
            f"--- {label}{kind}: {e.file}:{e.line_start}-{e.line_end} ({e.language or 'text'})"
        )
        render.line(e.code)


@example.command()
@click.argument("example_id", metavar="EXAMPLE_ID", type=int)
@click.option("--by", help="Who made the change (stored in history).")
@common_options
@guarded
def remove(example_id: int, by: str | None, root: Path, as_json: bool) -> None:
    """Delete example EXAMPLE_ID."""
    with open_store(root) as store:
        removed = store.remove_example(example_id, by=by)
    if as_json:
        render.emit_json(removed)
    else:
        render.line(f"example {removed.id} removed from {removed.pattern_id}")


COMMANDS: list[click.Command] = [example]
