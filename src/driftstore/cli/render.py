"""Output: JSON documents for scripts, rich tables for people (rich imported lazily)."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click
import msgspec


def emit_json(value: Any, *, out: Path | None = None) -> None:
    """A result (or plain data) as one indented JSON document on stdout (or in `out`)."""
    from driftstore import to_builtins

    data = msgspec.json.format(msgspec.json.encode(to_builtins(value)), indent=2)
    if out is not None:
        write_output(data + b"\n", out)
    else:
        click.echo(data.decode())


def write_output(data: bytes, out: Path | None) -> None:
    """Bytes to stdout, or to the file `out` (written to a temp name and renamed)."""
    if out is None:
        sys.stdout.buffer.write(data)
        if not data.endswith(b"\n"):
            sys.stdout.buffer.write(b"\n")
        sys.stdout.flush()
        return
    from driftstore import write_file

    write_file(out, data)


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
def progress(label: str, total: int | None = None, *, after: float = 1.0) -> Iterator[Any]:
    """A progress bar on stderr, only on a terminal and only once the work has taken longer
    than `after` seconds (quick commands stay quiet); yields an `advance(n_done)` callable."""
    if not sys.stderr.isatty():
        yield lambda done: None
        return
    started = time.monotonic()
    state: dict[str, Any] = {}

    def advance(done: int) -> None:
        if "bar" not in state:
            if time.monotonic() - started < after:
                return
            from rich.console import Console
            from rich.progress import Progress

            bar = Progress(console=Console(stderr=True), transient=True)
            bar.start()
            state["bar"], state["task"] = bar, bar.add_task(label, total=total)
        state["bar"].update(state["task"], completed=done)

    try:
        yield advance
    finally:
        if "bar" in state:
            state["bar"].stop()


def builtins(value: Any) -> Any:
    """A result as plain dicts and lists with its JSON names, for text rendering."""
    from driftstore import to_builtins

    return to_builtins(value)
