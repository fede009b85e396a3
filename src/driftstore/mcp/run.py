"""`driftstore mcp`: serve over stdio (the default: nothing but protocol on stdout) or over
streamable HTTP (`--http HOST:PORT`, loopback unless --allow-remote), or list the tools.

Logging is set up before the SDK is imported: the SDK configures the root logger itself
when it finds none, with rich tracebacks on stderr; ours is plain, on stderr, warnings up.
"""

from __future__ import annotations

import json
import logging
import sys
from typing import Any, TextIO

import driftstore


def parse_address(value: str) -> tuple[str, int]:
    host, sep, port = value.rpartition(":")
    if not sep or not port.isdigit() or not host:
        raise driftstore.InvalidInputError(
            f"--http wants HOST:PORT such as 127.0.0.1:8766, got {value!r}"
        )
    return host.strip("[]"), int(port)


def _quiet_logging() -> None:
    logging.basicConfig(
        stream=sys.stderr, level=logging.WARNING, format="driftstore mcp: %(levelname)s %(message)s"
    )


def list_tools(
    store: driftstore.PatternStore, *, allow_writes: bool, as_json: bool, out: TextIO
) -> int:
    """The tools a client would see, without serving."""
    _quiet_logging()
    import anyio

    from driftstore.mcp.server import build_server

    server = build_server(store, allow_writes=allow_writes)
    tools = anyio.run(server.list_tools)
    if as_json:
        listed: list[dict[str, Any]] = [
            t.model_dump(by_alias=True, exclude_none=True, mode="json") for t in tools
        ]
        out.write(json.dumps(listed, indent=2) + "\n")
    else:
        for t in tools:
            first = (t.description or "").strip().splitlines()[0] if t.description else ""
            out.write(f"{t.name:18} {first}\n")
    return 0


def serve(
    store: driftstore.PatternStore,
    *,
    http: str | None = None,
    allow_writes: bool = False,
    allow_remote: bool = False,
    by: str = "mcp",
    log: TextIO = sys.stderr,
) -> int:
    _quiet_logging()
    if http is None:
        from driftstore.mcp.server import build_server

        build_server(store, allow_writes=allow_writes, by=by, stdio=True).run("stdio")
        return 0
    host, port = parse_address(http)
    from driftstore.http.run import allowed_hosts, check_address

    check_address(host, allow_remote)
    from mcp.server.transport_security import TransportSecuritySettings

    from driftstore.http.serving import HostOriginGuard, bind, local_origins, make_server
    from driftstore.mcp.server import build_server

    server = build_server(store, allow_writes=allow_writes, by=by)
    hosts = allowed_hosts(host)
    # explicit settings: the SDK arms its own check only for a literal loopback host
    security = TransportSecuritySettings(
        enable_dns_rebinding_protection=True,
        allowed_hosts=[f"{h}:*" if ":" not in h else f"[{h}]:*" for h in hosts],
        allowed_origins=local_origins(),
    )
    app = server.streamable_http_app(streamable_http_path="/mcp", transport_security=security)
    guarded = HostOriginGuard(app, allowed_hosts=hosts, allowed_origins=local_origins())
    try:
        sock = bind(host, port)
    except OSError as exc:
        raise driftstore.InvalidInputError(
            f"cannot listen on {host}:{port}: {exc.strerror}; choose another port (0: any free)"
        ) from None
    bound_host, bound_port = sock.getsockname()[:2]
    shown = f"[{bound_host}]" if ":" in bound_host else bound_host
    print(
        f"driftstore mcp: http://{shown}:{bound_port}/mcp"
        + (" (write tools on)" if allow_writes else " (read-only)")
        + "; Ctrl-C stops",
        file=log,
        flush=True,
    )
    uvicorn_server = make_server(guarded)
    try:
        uvicorn_server.run(sockets=[sock])
    finally:
        sock.close()
    return 0
