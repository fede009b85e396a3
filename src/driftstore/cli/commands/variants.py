"""Variants: `driftstore variant add | list | remove` (scoped overrides of a pattern)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
import msgspec

from driftstore import Scope, Severity
from driftstore.cli import render
from driftstore.cli.shell import common_options, guarded, open_store

_COLUMNS = (
    "id",
    "pattern",
    "scope",
    "path",
    "severity",
    "enabled",
    "threshold",
    "config",
    "expires",
)


def _row(v: dict[str, Any]) -> tuple[Any, ...]:
    enabled = v.get("enabledOverride")
    expires = v.get("expiresAt") or ""
    return (
        v["id"],
        v["patternId"],
        v["scope"],
        v.get("scopePath") or "",
        v.get("severityOverride") or "",
        "" if enabled is None else ("yes" if enabled else "no"),
        "" if v.get("thresholdOverride") is None else v["thresholdOverride"],
        ""
        if v.get("configOverride") is None
        else msgspec.json.encode(v["configOverride"]).decode(),
        f"{expires} (expired)" if v["expired"] else expires,
    )


@click.group()
def variant() -> None:
    """Scoped overrides of a pattern: for the project, a directory or a file."""


@variant.command()
@click.argument("pattern_id", metavar="ID")
@click.option(
    "--scope",
    type=click.Choice([s.value for s in Scope]),
    required=True,
    help="What the override covers.",
)
@click.option("--path", help="Directory or file (project-relative) for those scopes.")
@click.option("--severity", type=click.Choice([s.value for s in Severity]), help="Severity there.")
@click.option(
    "--disable/--enable",
    "disable",
    default=None,
    help="Turn the pattern off (or back on, under a broader --disable) there.",
)
@click.option("--threshold", type=float, help="A threshold value for the detector there.")
@click.option("--config", help="Detector config there, a JSON object: '{\"maxDepth\": 3}'.")
@click.option("--expires", help="ISO-8601 time after which the variant no longer applies.")
@click.option("--by", help="Who made the change (stored in history).")
@common_options
@guarded
def add(
    pattern_id: str,
    scope: str,
    path: str | None,
    severity: str | None,
    disable: bool | None,
    threshold: float | None,
    config: str | None,
    expires: str | None,
    by: str | None,
    root: Path,
    as_json: bool,
) -> None:
    """Add a variant to pattern ID."""
    with open_store(root) as store:
        stored = store.add_variant(
            pattern_id,
            scope=scope,
            path=path,
            severity=severity,
            enabled=None if disable is None else not disable,
            threshold=threshold,
            config=config,
            expires=expires,
            by=by,
        )
    if as_json:
        render.emit_json(stored)
    else:
        where = f" {stored.scope_path}" if stored.scope_path else ""
        render.line(f"variant {stored.id} added to {stored.pattern_id} ({stored.scope}{where})")


@variant.command(name="list")
@click.argument("pattern_id", metavar="[ID]", required=False)
@common_options
@guarded
def list_(pattern_id: str | None, root: Path, as_json: bool) -> None:
    """Variants of pattern ID (or of every pattern); expired ones are marked."""
    with open_store(root) as store:
        views = render.builtins(store.variant_views(pattern_id))
    if as_json:
        render.emit_json(views)
    elif not views:
        render.line("no variants")
    else:
        render.table(f"{len(views)} variants", _COLUMNS, [_row(v) for v in views])


@variant.command()
@click.argument("variant_id", metavar="VARIANT_ID", type=int)
@click.option("--by", help="Who made the change (stored in history).")
@common_options
@guarded
def remove(variant_id: int, by: str | None, root: Path, as_json: bool) -> None:
    """Delete variant VARIANT_ID."""
    with open_store(root) as store:
        removed = store.remove_variant(variant_id, by=by)
    if as_json:
        render.emit_json(removed)
    else:
        render.line(f"variant {removed.id} removed from {removed.pattern_id}")


COMMANDS: list[click.Command] = [variant]
