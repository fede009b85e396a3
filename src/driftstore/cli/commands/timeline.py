"""What changed, from the history table: `diff`."""

from __future__ import annotations

from pathlib import Path

import click

from driftstore.cli import render
from driftstore.cli.shell import common_options, guarded, open_store


@click.command()
@click.option("--since", help="From this ISO-8601 time or backup id (default: the beginning).")
@click.option("--until", help="Up to this ISO-8601 time or backup id (default: now).")
@common_options
@guarded
def diff(since: str | None, until: str | None, root: Path, as_json: bool) -> None:
    """What changed between two moments: patterns added and removed, status moves (who,
    when), confidence and location/outlier count changes, per category."""
    with open_store(root, create=False) as store:
        report = store.diff(since, until)
    if as_json:
        render.emit_json(report)
        return
    data = render.builtins(report)
    span = f"{since or 'the beginning'} .. {until or 'now'}"
    if data["byCategory"]:
        render.table(
            f"changes {span}",
            (
                "category",
                "added",
                "removed",
                "changed",
                "approved",
                "ignored",
                "outliers +",
                "outliers -",
            ),
            [
                (
                    name,
                    c["added"],
                    c["removed"],
                    c["changed"],
                    c["approved"],
                    c["ignored"],
                    c["outliersGained"],
                    c["outliersLost"],
                )
                for name, c in data["byCategory"].items()
            ],
        )
    else:
        render.line(f"no changes {span}")
    if data["statusMoves"]:
        render.table(
            "decisions",
            ("at", "pattern", "move", "by"),
            [
                (
                    render.when(m["at"]),
                    m["patternId"],
                    f"{m['old']} -> {m['new']}",
                    m.get("by") or "",
                )
                for m in data["statusMoves"][:50]
            ],
        )
    for label, key in (("added", "added"), ("removed", "removed")):
        if data[key]:
            render.line(
                f"{label}: "
                + ", ".join(p["id"] for p in data[key][:20])
                + (f" … {len(data[key]) - 20} more" if len(data[key]) > 20 else "")
            )


COMMANDS: list[click.Command] = [diff]
