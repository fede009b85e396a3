"""Serving an ASGI app safely on this machine: the listening socket, the Host/Origin guard,
one error envelope, and a uvicorn server that ends its open streams when it stops.

Shared by `driftstore serve` and `driftstore mcp --http`.
"""

from __future__ import annotations

import ipaddress
import socket
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit

import msgspec
import uvicorn
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from driftstore.http.shapes import ErrorEnvelope

LOOPBACK_NAMES = ("127.0.0.1", "localhost", "::1")
#: raw path + query bytes; string parameters are bounded well below this (see openapi.py)
MAX_URL = 16 * 1024


def envelope(status: int, message: str, headers: dict[str, str] | None = None) -> Response:
    body = msgspec.json.encode(ErrorEnvelope(ok=False, error=message, status=status))
    return Response(body, status_code=status, media_type="application/json", headers=headers)


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _host_name(header: str) -> str | None:
    """'127.0.0.1:8000' -> '127.0.0.1', '[::1]:80' -> '::1'; None when malformed."""
    try:
        parts = urlsplit("//" + header)
        _ = parts.port  # raises on a bad port
    except ValueError:
        return None
    return parts.hostname


class HostOriginGuard:
    """ASGI middleware run before routing: the Host header must name this server (a DNS
    rebinding page cannot borrow the browser's loopback access), an Origin header must be
    an allowed one, and the URL must be of bounded length."""

    def __init__(
        self,
        app: ASGIApp,
        allowed_hosts: Sequence[str] = LOOPBACK_NAMES,
        allowed_origins: Sequence[str] = (),
        max_url: int = MAX_URL,
    ) -> None:
        self.app = app
        self.hosts = frozenset(h.lower().strip("[]") for h in allowed_hosts)
        self.origins = tuple(o.lower().rstrip("/") for o in allowed_origins)
        self.max_url = max_url

    def origin_ok(self, origin: str) -> bool:
        origin = origin.lower().rstrip("/")
        for allowed in self.origins:
            if origin == allowed:
                return True
            if allowed.endswith(":*"):
                stem = allowed[:-1]
                if origin.startswith(stem) and origin[len(stem) :].isdigit():
                    return True
        return False

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        raw: bytes = scope.get("raw_path") or scope["path"].encode()
        if len(raw) + len(scope.get("query_string", b"")) > self.max_url:
            await envelope(400, f"URL longer than {self.max_url} bytes")(scope, receive, send)
            return
        headers = dict(scope["headers"])
        host = headers.get(b"host", b"").decode("latin-1")
        name = _host_name(host) if host else None
        if name is None or name.lower() not in self.hosts:
            await envelope(
                421,
                f"Host {host[:100]!r} is not served here; ask for this server by its address",
            )(scope, receive, send)
            return
        origin = headers.get(b"origin")
        if origin is not None and not self.origin_ok(origin.decode("latin-1")):
            await envelope(
                403,
                "cross-origin request refused; start the server with --cors ORIGIN to allow one",
            )(scope, receive, send)
            return
        await self.app(scope, receive, send)


def local_origins(port: int | None = None) -> list[str]:
    """The origins of pages served from this machine's loopback (any port by default)."""
    p = "*" if port is None else str(port)
    return [f"http://127.0.0.1:{p}", f"http://localhost:{p}", f"http://[::1]:{p}"]


def bind(host: str, port: int) -> socket.socket:
    """A listening TCP socket. IPPROTO_TCP matters: asyncio sets TCP_NODELAY on accepted
    sockets only when the listening socket says so, and without it Nagle's algorithm and
    delayed ACKs cost ~40 ms a response."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(1024)
    sock.set_inheritable(True)
    return sock


class StoppableServer(uvicorn.Server):
    """uvicorn waits for open connections before the app's lifespan shutdown runs, so
    long-lived streams (events, MCP listens) are ended by `state.on_stopping` hooks as
    shutdown begins. A stop asked for by SIGTERM or Ctrl-C is a clean exit: uvicorn would
    raise the signal again once done, killing the process before its own cleanup (the
    token file) ran."""

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        app: Any = self.config.app
        for hook in getattr(getattr(app, "state", None), "on_stopping", ()):
            hook()
        await super().shutdown(sockets)
        self._captured_signals.clear()


def make_server(app: ASGIApp) -> StoppableServer:
    config = uvicorn.Config(
        app,
        log_level="warning",
        access_log=False,
        lifespan="on",  # a failing startup stops the server instead of being ignored
        timeout_graceful_shutdown=3,
    )
    return StoppableServer(config)


def announce(sock: socket.socket, what: str) -> str:
    host, port = sock.getsockname()[:2]
    shown = f"[{host}]" if ":" in host else host
    return f"{what} on http://{shown}:{port}"


@contextmanager
def running(app: ASGIApp, host: str = "127.0.0.1") -> Iterator[str]:
    """Serve `app` from a thread of this process on an ephemeral port; yields the base URL
    (what tests and the benchmark use)."""
    sock = bind(host, 0)
    port = sock.getsockname()[1]
    server = make_server(app)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the HTTP server did not start")
        time.sleep(0.01)
    try:
        yield f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
