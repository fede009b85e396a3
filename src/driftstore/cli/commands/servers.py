"""The long-running faces: the language server, the MCP server and the HTTP API.

Each lives in its own package with its own extra; the command only opens the store and
hands it over, importing the server when it runs (so other commands start as fast as
before) and saying in one line which extra to install when it is missing.
"""

from __future__ import annotations

import getpass
import importlib.util
import sys
from pathlib import Path

import click

from driftstore.cli.shell import EXIT_USAGE, common_options, fail, guarded, open_store

#: extra -> the modules it provides
_EXTRAS = {
    "lsp": ("pygls", "lsprotocol"),
    "mcp": ("mcp",),
    "http": ("starlette", "uvicorn", "sse_starlette"),
}


def need(extra: str) -> None:
    missing = [m for m in _EXTRAS[extra] if importlib.util.find_spec(m) is None]
    if missing:
        fail(
            f"this command needs the '{extra}' extra ({', '.join(missing)} not installed); "
            f"install it with: pip install 'driftstore[{extra}]'",
            EXIT_USAGE,
        )


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


@click.command()
@common_options
@guarded
def lsp(root: Path, as_json: bool) -> None:
    """Language server over stdio: diagnostics for outliers, hover, code lenses and code
    actions (approve, ignore, turn off in a file or directory). Editors start it."""
    del as_json
    need("lsp")
    from driftstore.lsp.run import serve

    with open_store(root) as store:
        serve(store)


@click.command()
@click.option(
    "--http",
    "http",
    metavar="HOST:PORT",
    help="Serve streamable HTTP at http://HOST:PORT/mcp instead of stdio.",
)
@click.option(
    "--allow-writes",
    is_flag=True,
    help="Offer the write tools (approve, ignore, add_variant); off by default.",
)
@click.option(
    "--allow-remote",
    is_flag=True,
    help="With --http: allow an address other machines can reach.",
)
@click.option(
    "--by",
    default=None,
    help="Who writes are recorded as when a call names nobody (default: mcp:<user>).",
)
@click.option(
    "--list-tools",
    is_flag=True,
    help="Print the tools (with --json: their schemas) and exit without serving.",
)
@common_options
@guarded
def mcp(
    http: str | None,
    allow_writes: bool,
    allow_remote: bool,
    by: str | None,
    list_tools: bool,
    root: Path,
    as_json: bool,
) -> None:
    """MCP server for AI agents: read tools and resources with change notifications; the
    write tools only with --allow-writes. stdio unless --http."""
    need("mcp")
    from driftstore.mcp.run import list_tools as show_tools
    from driftstore.mcp.run import serve as run

    with open_store(root) as store:
        if list_tools:
            show_tools(store, allow_writes=allow_writes, as_json=as_json, out=sys.stdout)
            return
        run(
            store,
            http=http,
            allow_writes=allow_writes,
            allow_remote=allow_remote,
            by=by or f"mcp:{_user()}",
        )


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=8765,
    show_default=True,
    help="Port to listen on (0: any free one).",
)
@click.option(
    "--allow-remote",
    is_flag=True,
    help="Allow a --host other machines can reach (writes still need the token).",
)
@click.option(
    "--cors",
    "cors",
    multiple=True,
    metavar="ORIGIN",
    help="Let pages from this origin call the API (repeatable; none by default).",
)
@common_options
@guarded
def serve(
    host: str, port: int, allow_remote: bool, cors: tuple[str, ...], root: Path, as_json: bool
) -> None:
    """Local HTTP API under /v1/ (status, patterns, files, outliers, history, events);
    approve and ignore with the bearer token written to .drift/serve.token."""
    del as_json
    need("http")
    from driftstore.http.run import serve as run

    with open_store(root) as store:
        run(store, host=host, port=port, allow_remote=allow_remote, cors=cors)


COMMANDS = [lsp, mcp, serve]
