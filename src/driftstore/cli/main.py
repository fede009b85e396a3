"""The `driftstore` command: a thin shell over the library.

Command groups live in `cli/commands/`, one module per area; this file only assembles
them, takes the global options (`--root`, `--json` before the command word), and turns
click's usage errors, a closed pipe and Ctrl-C into one line and an exit code.
"""

from __future__ import annotations

import contextlib
import os
import sys
from pathlib import Path

import click

from driftstore.cli.commands import COMMANDS
from driftstore.cli.shell import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_USAGE, GlobalOptions, fail


def _version(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    if not value or ctx.resilient_parsing:
        return
    import driftstore

    found = driftstore.versions()
    click.echo(f"driftstore {found.driftstore} (SQLite {found.sqlite}, schema {found.schema})")
    ctx.exit(0)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--version",
    is_flag=True,
    expose_value=False,
    is_eager=True,
    callback=_version,
    help="Show driftstore's version, SQLite's version and the schema version.",
)
@click.option(
    "--root",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Project folder for the command (also DRIFTSTORE_ROOT; default: found from here).",
)
@click.option("--json", "as_json", is_flag=True, help="Machine output for the command.")
@click.option(
    "--store",
    metavar="URL",
    default=None,
    help="Store for the command: a postgresql:// URL (also DRIFTSTORE_STORE; default: "
    "the SQLite file under the root).",
)
@click.option(
    "--project",
    metavar="NAME",
    default=None,
    help="Project in a shared store (also DRIFTSTORE_PROJECT; default: the root's name).",
)
@click.pass_context
def cli(
    ctx: click.Context, root: Path | None, as_json: bool, store: str | None, project: str | None
) -> None:
    """driftstore: the storage layer for code-pattern data (.drift/drift.db).

    Shell completion: eval "$(_DRIFTSTORE_COMPLETE=bash_source driftstore)" (zsh_source,
    fish_source for those shells).
    """
    ctx.obj = GlobalOptions(root=root, json=as_json, store=store, project=project)


for command in COMMANDS:
    cli.add_command(command)


def _quiet_pipe() -> None:
    """stdout's reader went away (`driftstore list | head`): stop without a word."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    with contextlib.suppress(OSError, ValueError):
        os.dup2(devnull, sys.stdout.fileno())
    sys.exit(EXIT_FAILED)


def _interrupted() -> None:
    fail(
        "interrupted; every write is one transaction, so what had been committed stays and "
        "what had not was rolled back (see 'driftstore history')",
        EXIT_INTERRUPTED,
    )


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    if not args and os.environ.get("_DRIFTSTORE_COMPLETE") is None:
        click.echo(cli.get_help(click.Context(cli, info_name="driftstore")))
        sys.exit(0)
    try:
        cli.main(args=args, prog_name="driftstore", standalone_mode=False)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.Abort:  # click's form of Ctrl-C (and of end of input at a prompt)
        _interrupted()
    except click.UsageError as exc:
        path = exc.ctx.command_path if exc.ctx is not None else "driftstore"
        where = path.removeprefix("driftstore").strip()
        hint = f" (see '{path} --help')" if exc.ctx is not None else ""
        fail(f"{where + ': ' if where else ''}{exc.format_message()}{hint}", EXIT_USAGE)
    except click.ClickException as exc:
        fail(exc.format_message(), exc.exit_code)
    except BrokenPipeError:
        _quiet_pipe()
    except KeyboardInterrupt:
        _interrupted()
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        _quiet_pipe()
    sys.exit(0)


if __name__ == "__main__":
    main()
