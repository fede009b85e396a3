"""Output: JSON documents for scripts, rich tables for people (rich imported lazily)."""

from __future__ import annotations

import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import click
import msgspec


def emit_json(value: Any) -> None:
    data = msgspec.json.encode(msgspec.to_builtins(value))
    click.echo(msgspec.json.format(data, indent=2).decode())


def table(title: str | None, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    from rich.console import Console
    from rich.table import Table

    grid = Table(title=title, show_lines=False, header_style="bold")
    for column in columns:
        grid.add_column(column)
    for row in rows:
        grid.add_row(*("" if cell is None else str(cell) for cell in row))
    Console().print(grid)


def line(text: str) -> None:
    click.echo(text)


def key_values(title: str, pairs: Sequence[tuple[str, Any]]) -> None:
    table(title, ("", ""), [(k, v) for k, v in pairs])


@contextmanager
def progress(label: str, total: int | None = None) -> Iterator[Any]:
    """A progress bar on stderr, only on a terminal; yields an `advance(n_done)` callable."""
    if not sys.stderr.isatty():
        yield lambda done: None
        return
    from rich.console import Console
    from rich.progress import Progress

    with Progress(console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task(label, total=total)

        def advance(done: int) -> None:
            bar.update(task, completed=done)

        yield advance
