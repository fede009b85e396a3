"""Every command group, in the order `driftstore --help` lists them.

Add a module here to add commands; main.py needs no edit.
"""

from __future__ import annotations

import click

from driftstore.cli.commands import (
    backups,
    ci,
    examples,
    formats,
    git,
    patterns,
    scans,
    servers,
    stores,
    timeline,
    variants,
)

COMMANDS: list[click.Command] = [
    *scans.COMMANDS,
    *patterns.COMMANDS,
    *backups.COMMANDS,
    *formats.COMMANDS,
    *variants.COMMANDS,
    *examples.COMMANDS,
    *ci.COMMANDS,
    *git.COMMANDS,
    *timeline.COMMANDS,
    *stores.COMMANDS,
    *servers.COMMANDS,
]
