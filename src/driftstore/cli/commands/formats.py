"""Files in and out: export, import, verify, migrate (formats.md)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from driftstore.cli import render
from driftstore.cli.shell import EXIT_FAILED, chosen_store, common_options, guarded, open_store


@click.command()
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder to write patterns/ and indexes/ into (default: ROOT/.drift).",
)
@click.option(
    "--layout",
    type=click.Choice(["v2", "v1"]),
    default="v2",
    show_default=True,
    help="v2: one checksummed shard per category; v1: drift 0.9's status folders.",
)
@common_options
@guarded
def export(out: Path | None, layout: str, root: Path, as_json: bool) -> None:
    """Write JSON shards and index files; unchanged files keep their bytes."""
    with open_store(root, create=False) as store:
        report = store.export(out, layout=layout)
    if as_json:
        render.emit_json(report)
        return
    render.line(
        f"exported {report.patterns} patterns ({layout}) to {report.out}: "
        f"{len(report.written)} files written, {len(report.unchanged)} unchanged, "
        f"{len(report.removed)} removed"
    )
    for path in report.kept:
        render.line(f"left in place (holds patterns this store never had): {path}")


@click.command(name="import")
@click.argument(
    "directory",
    required=False,
    type=click.Path(file_okay=False, path_type=Path),
    metavar="[DIR]",
)
@click.option("--force", is_flag=True, help="Import even if a checksum does not match.")
@common_options
@guarded
def import_(directory: Path | None, force: bool, root: Path, as_json: bool) -> None:
    """Load v2 shards (default: ROOT/.drift); all checksums are checked first."""
    with open_store(root, create=True) as store:
        report = store.import_(directory, force=force)
    if as_json:
        render.emit_json(report)
        return
    render.line(
        f"imported {report.imported}, updated {report.updated}, unchanged {report.unchanged} "
        f"from {len(report.read_files)} files"
        + (f" (backup {report.backup})" if report.backup else "")
    )
    for path in report.forced_files:
        render.line(f"imported despite a checksum mismatch (--force): {path}")


@click.command()
@common_options
@guarded
def verify(root: Path, as_json: bool) -> None:
    """Database integrity check plus the checksum of every pattern file; exit 1 on a problem."""
    with open_store(root, create=False) as store:
        report = store.verify()
    if as_json:
        render.emit_json(report)
    elif report.ok:
        render.line("ok: the database and every pattern file check out")
    else:
        render.table(
            "problems", ("path", "problem"), [(p.path, p.problem) for p in report.problems]
        )
    if not report.ok:
        sys.exit(EXIT_FAILED)


@click.command()
@click.option("--dry-run", is_flag=True, help="Report what would happen; write nothing.")
@click.option("--no-backup", is_flag=True, help="Do not back the database up first.")
@click.option(
    "--from",
    "source",
    type=click.Path(file_okay=False, path_type=Path),
    help="Project (or .drift folder) to migrate from (default: ROOT).",
)
@common_options
@guarded
def migrate(dry_run: bool, no_backup: bool, source: Path | None, root: Path, as_json: bool) -> None:
    """Import a drift 0.9 .drift/patterns/ tree; legacy checksums are verified."""
    if dry_run:
        import driftstore

        url, project = chosen_store()
        report = driftstore.migrate_preview(root, source, store=url, project=project)
    else:
        with open_store(root, create=True) as store:
            report = store.migrate(source, backup=not no_backup)
    if as_json:
        render.emit_json(report)
        return
    verb = "would import" if dry_run else "imported"
    render.line(
        f"{verb} {report.imported}, updated {report.updated}, unchanged {report.unchanged} "
        f"from {report.files} files" + (f" (backup {report.backup})" if report.backup else "")
    )
    for path in report.checksum_mismatches:
        render.line(f"checksum mismatch (imported anyway): {path}")
    for dup in report.duplicates:
        render.line(f"pattern {dup.id} is in {', '.join(dup.statuses)}; kept {dup.kept}")
    for skipped in report.skipped:
        render.line(f"skipped {skipped.path}: {skipped.reason}")
    if report.level_disagreements:
        render.line(
            f"{len(report.level_disagreements)} patterns have a stored confidence level that "
            "disagrees with their score (kept as the files say; see --json)"
        )


COMMANDS: list[click.Command] = [export, import_, verify, migrate]
