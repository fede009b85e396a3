"""Output: JSON documents for scripts, rich tables for people (rich imported lazily)."""

from __future__ import annotations

import re
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click
import msgspec

from driftstore.cli.text import safe


def emit_json(value: Any, *, out: Path | None = None) -> None:
    """A result (or plain data) as one indented JSON document on stdout (or in `out`)."""
    from driftstore import to_builtins

    data = _invisible_escaped(
        msgspec.json.format(msgspec.json.encode(to_builtins(value)), indent=2)
    )
    if out is not None:
        write_output(data + b"\n", out)
    else:
        click.echo(data.decode())


#: characters a terminal would act on or hide (C1 controls, bidi overrides, zero-width
#: ones): valid in JSON, but written as \\u escapes so a document printed to a terminal
#: shows them instead of obeying them
_INVISIBLE = re.compile("[\u0080-\u009f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]")


def _invisible_escaped(data: bytes) -> bytes:
    text = data.decode()
    if not _INVISIBLE.search(text):
        return data
    return _INVISIBLE.sub(lambda m: f"\\u{ord(m.group()):04x}", text).encode()


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


#: columns whose values are identities a user copies: never shortened
KEEP_WHOLE = frozenset({"id", "backup", "pattern"})
#: columns holding paths: shortened in the middle, where a path says least
PATHS = frozenset({"file", "path", "file:line:col", "scope path"})
#: columns of running text or lists (line:col spots, problems): wrapped, never cut
WRAPPED = frozenset({"where", "note", "problem", "reason", "outlier"})
_MIN_COLUMN = 8


def middle(text: str, width: int) -> str:
    """`text` cut to `width` characters by an ellipsis in its middle."""
    if len(text) <= width or width < 5:
        return text
    keep = width - 1
    return text[: keep // 2] + "…" + text[len(text) - (keep - keep // 2) :]


def table(
    title: str | None,
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
    *,
    wrap: bool = False,
) -> None:
    """A table for people. Cells and the title are shown literally (never parsed as Rich
    markup, control characters escaped); when the terminal is narrow, ids stay whole,
    paths lose their middle and other text its end, one row per line unless `wrap`."""
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    console = Console()
    cells = [["" if cell is None else safe(str(cell)) for cell in row] for row in rows]
    widths = [
        max([len(column), *(len(row[i]) for row in cells)]) for i, column in enumerate(columns)
    ]
    kept = [name in KEEP_WHOLE for name in columns]
    room = console.width - 3 * len(columns) - 1
    spare = room - sum(w for w, k in zip(widths, kept, strict=True) if k)
    flexible = [i for i, k in enumerate(kept) if not k]
    if flexible and sum(widths[i] for i in flexible) > spare:
        share = max(_MIN_COLUMN, spare // len(flexible))
        for i in flexible:
            if columns[i] in PATHS:
                for row in cells:
                    row[i] = middle(row[i], share)
    grid = Table(
        title=Text(safe(title)) if title else None,
        show_lines=False,
        header_style="bold",
        show_header=any(columns),
    )
    for name, keep, width in zip(columns, kept, widths, strict=True):
        if keep:
            grid.add_column(Text(name), no_wrap=True, min_width=width)
        else:
            grid.add_column(
                Text(name),
                overflow="ellipsis",
                no_wrap=name in PATHS or not (wrap or name in WRAPPED),
            )
    for row in cells:
        grid.add_row(*(Text(cell) for cell in row))
    console.print(grid)


def when(stamp: str) -> str:
    """A stored time for a table: to the second, UTC implied (`--json` has it whole)."""
    return stamp[:19].replace("T", " ") if len(stamp) >= 19 else stamp


def line(text: str) -> None:
    """One line of output; untrusted parts in it are escaped (`safe`)."""
    click.echo(safe(text))


def key_values(title: str, pairs: Sequence[tuple[str, Any]]) -> None:
    table(title, ("", ""), [(k, v) for k, v in pairs], wrap=True)


def capped(items: Sequence[Any], limit: int | None) -> tuple[Sequence[Any], str | None]:
    """At most `limit` items, and the "… N more" line for the rest (None: all shown)."""
    if limit is None or len(items) <= limit:
        return items, None
    return items[:limit], f"… {len(items) - limit} more (see --all or --json)"


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
