"""Backups: `driftstore backup create | list | restore ID | prune --keep N`.

list, restore and prune work from the files under .drift/backups/, so they also work when
the database itself is damaged — the case a restore is for.
"""

from __future__ import annotations

from pathlib import Path

import click

from driftstore.cli import render
from driftstore.cli.shell import chosen_store, common_options, guarded, open_store


def _size(n: int) -> str:
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("KB", 1e3)):
        if n >= scale:
            return f"{n / scale:.1f} {unit}"
    return f"{n} B"


@click.group()
def backup() -> None:
    """Compressed backups of the database under .drift/backups/."""


@backup.command()
@click.option(
    "--reason",
    default="manual",
    show_default=True,
    help="A word saying why (lowercase letters, digits, dashes); part of the backup id.",
)
@common_options
@guarded
def create(reason: str, root: Path, as_json: bool) -> None:
    """Take a backup now (readers and writers keep working meanwhile)."""
    with open_store(root, create=False) as store:
        backup_id = store.backup(reason)
        info = next(b for b in store.backups() if b.id == backup_id)
    if as_json:
        render.emit_json(info)
    else:
        render.line(f"backup {info.id} ({_size(info.bytes)})")


@backup.command(name="list")
@common_options
@guarded
def list_(root: Path, as_json: bool) -> None:
    """The backups, newest first."""
    import driftstore

    found = driftstore.list_backups(root)
    if as_json:
        render.emit_json(found)
    elif not found:
        render.line("no backups yet; take one with 'driftstore backup create'")
    else:
        render.table(
            "backups",
            ("id", "created", "reason", "size"),
            [(b.id, b.created_at, b.reason, _size(b.bytes)) for b in found],
        )


@backup.command()
@click.argument("backup_id", metavar="ID")
@click.option(
    "--thorough",
    is_flag=True,
    help="Run SQLite's full integrity_check on the backup (slower) instead of quick_check.",
)
@common_options
@guarded
def restore(backup_id: str, thorough: bool, root: Path, as_json: bool) -> None:
    """Replace the store's content with backup ID ('latest', or a unique prefix of an id),
    after checking it; the current state is backed up first (or, if unreadable, moved aside
    into .drift/backups/)."""
    import driftstore

    store, project = chosen_store()
    report = driftstore.restore(root, backup_id, thorough=thorough, store=store, project=project)
    if as_json:
        render.emit_json(report)
        return
    render.line(f"restored {report.restored}")
    if report.backup:
        render.line(f"the replaced state is backup {report.backup}")
    if report.moved_aside:
        render.line(f"the unreadable database was moved to {report.moved_aside}")


@backup.command()
@click.option("--keep", type=click.IntRange(min=0), required=True, help="How many to keep.")
@common_options
@guarded
def prune(keep: int, root: Path, as_json: bool) -> None:
    """Delete all but the KEEP newest backups."""
    import driftstore

    removed = driftstore.prune_backups(root, keep)
    if as_json:
        render.emit_json({"removedBackups": removed, "keep": keep})
    else:
        render.line(
            f"removed {len(removed)} backup(s)" + (f": {', '.join(removed)}" if removed else "")
        )


COMMANDS: list[click.Command] = [backup]
