"""The `driftstore` command: a thin shell over the library.

Command groups live in `cli/commands/`, one module per area; this file only assembles
them and turns click's usage errors into one line with exit code 2.
"""

from __future__ import annotations

import sys

import click

from driftstore import __version__
from driftstore.cli.commands import COMMANDS
from driftstore.cli.shell import EXIT_USAGE, fail


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="driftstore")
def cli() -> None:
    """driftstore: the storage layer for code-pattern data (.drift/drift.db)."""


for command in COMMANDS:
    cli.add_command(command)


def main(argv: list[str] | None = None) -> None:
    try:
        cli.main(args=argv, prog_name="driftstore", standalone_mode=False)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.Abort:
        fail("aborted", EXIT_USAGE)
    except click.UsageError as exc:
        where = f"{exc.ctx.command_path}: " if exc.ctx is not None else ""
        hint = f" (see '{exc.ctx.command_path} --help')" if exc.ctx is not None else ""
        fail(f"{where}{exc.format_message()}{hint}", EXIT_USAGE)
    except click.ClickException as exc:
        fail(exc.format_message(), exc.exit_code)
    sys.exit(0)


if __name__ == "__main__":
    main()
