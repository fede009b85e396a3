"""The MCP server: tools, resources, and change notifications for both protocol eras.

Resources: `driftstore://status`, `driftstore://patterns/{id}` and
`driftstore://files/{+path}` (the path percent-encoded as RFC 6570 `{+path}` expands it).
When the store generation moves (a write from here or from any other process), clients are
told: on the 2026 protocol through the SDK's subscription bus, on the 2025 handshake era
through `resources/subscribe` and `notifications/resources/updated`. Updates name the status,
each changed pattern, and every file resource a client has read (a file's answer can change
with any pattern, so a read file is assumed changed rather than looked up).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import quote

import anyio
from mcp.server.context import ServerRequestContext
from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.context import Context
from mcp.server.mcpserver.exceptions import ResourceError, ToolError, UnexpectedToolError
from mcp.server.session import ServerSession
from mcp.server.subscriptions import (
    InMemorySubscriptionBus,
    ResourcesListChanged,
    ResourceUpdated,
)
from mcp_types import EmptyResult, SubscribeRequestParams, UnsubscribeRequestParams
from pydantic import ValidationError

import driftstore
from driftstore.mcp.tools import read_tools, write_tools

log = logging.getLogger("driftstore.mcp")

STATUS_URI = "driftstore://status"
INSTRUCTIONS = (
    "driftstore holds the coding conventions (patterns) learned from this project: where each "
    "occurs, where it is broken (outliers) and the team's decision (discovered, approved, "
    "ignored). Call context_for_file before editing a file; file_patterns and outliers say "
    "what is wrong in a file."
)


def pattern_uri(pattern_id: str) -> str:
    return f"driftstore://patterns/{quote(pattern_id, safe='')}"


def file_uri(path: str) -> str:
    return f"driftstore://files/{quote(path, safe='/')}"


class DriftStoreMCP(MCPServer[Any]):
    """MCPServer whose argument errors are one line naming the argument, not pydantic's
    multi-line report."""

    async def call_tool(
        self, name: str, arguments: dict[str, Any], context: Context[Any, Any] | None = None
    ) -> Any:
        try:
            return await super().call_tool(name, arguments, context)
        except ToolError as exc:
            cause = exc.__cause__
            if isinstance(exc, UnexpectedToolError) or not isinstance(cause, ValidationError):
                raise
            first = cause.errors()[0]
            where = ".".join(str(part) for part in first["loc"]) or "arguments"
            raise ToolError(
                f"bad argument {where!r} for {name}: {first['msg']}; see the tool's inputSchema"
            ) from cause


class Notifier:
    """Fans store changes out to subscribers of both protocol eras."""

    def __init__(self, bus: InMemorySubscriptionBus) -> None:
        self.bus = bus
        self.legacy: dict[ServerSession, set[str]] = {}
        self.files_read: set[str] = set()

    async def on_subscribe(
        self, ctx: ServerRequestContext[Any], params: SubscribeRequestParams
    ) -> EmptyResult:
        self.legacy.setdefault(ctx.session, set()).add(str(params.uri))
        return EmptyResult()

    async def on_unsubscribe(
        self, ctx: ServerRequestContext[Any], params: UnsubscribeRequestParams
    ) -> EmptyResult:
        self.legacy.get(ctx.session, set()).discard(str(params.uri))
        return EmptyResult()

    async def publish(self, changes: driftstore.ChangeSet) -> None:
        uris = [STATUS_URI, *sorted(self.files_read)]
        if changes.ids is not None:
            uris += [pattern_uri(i) for i in sorted(changes.ids)]
        for uri in uris:
            await self.bus.publish(ResourceUpdated(uri=uri))
        await self.bus.publish(ResourcesListChanged())
        for session, wanted in list(self.legacy.items()):
            hit = [
                uri
                for uri in wanted
                if uri in uris or (changes.ids is None and uri.startswith("driftstore://"))
            ]
            for uri in hit:
                try:
                    await session.send_resource_updated(uri)
                except Exception:  # a closed session: forget it
                    self.legacy.pop(session, None)
                    break

    @asynccontextmanager
    async def running(self, store: driftstore.PatternStore) -> AsyncIterator[None]:
        """Watch the store; moves seen on the watcher's thread reach the loop through a
        non-blocking hand-off, so a writer never waits for the loop."""
        loop = asyncio.get_running_loop()
        send, receive = anyio.create_memory_object_stream[driftstore.ChangeSet](256)

        def offer(changes: driftstore.ChangeSet) -> None:
            with contextlib.suppress(anyio.WouldBlock, anyio.ClosedResourceError):
                send.send_nowait(changes)  # a dropped move is covered by the next one

        def on_change(changes: driftstore.ChangeSet) -> None:
            loop.call_soon_threadsafe(offer, changes)

        def on_error(exc: driftstore.DriftStoreError) -> None:
            log.warning("cannot read the store: %s", exc)

        async def pump() -> None:
            async with receive:
                async for changes in receive:
                    await self.publish(changes)

        watcher = driftstore.StoreWatcher(store, on_change, on_error=on_error).start()
        try:
            async with anyio.create_task_group() as group:
                group.start_soon(pump)
                yield
                group.cancel_scope.cancel()
        finally:
            watcher.stop()
            send.close()


def build_server(
    store: driftstore.PatternStore,
    *,
    allow_writes: bool = False,
    by: str = "mcp",
    stdio: bool = False,
) -> DriftStoreMCP:
    """The server over `store`; write tools only with `allow_writes`."""
    bus = InMemorySubscriptionBus()
    notifier = Notifier(bus)
    tools = read_tools(store)
    if allow_writes:
        tools += write_tools(store, by)

    @asynccontextmanager
    async def lifespan(_server: MCPServer[Any]) -> AsyncIterator[dict[str, Any]]:
        # stdio: the SDK points fd 1 at stderr while serving, but Python's own stdout buffer
        # would be flushed onto the wire at exit; send stray prints to stderr as well
        guard = contextlib.redirect_stdout(sys.stderr) if stdio else contextlib.nullcontext()
        with guard:
            async with notifier.running(store):
                yield {}

    server = DriftStoreMCP(
        "driftstore",
        version=driftstore.__version__,
        instructions=INSTRUCTIONS,
        tools=tools,
        subscriptions=bus,
        lifespan=lifespan,
    )

    def encode(value: Any) -> str:
        return driftstore.to_json(value).decode()

    async def in_thread(fn: Any, *args: Any) -> str:
        try:
            return encode(await anyio.to_thread.run_sync(fn, *args))
        except driftstore.DriftStoreError as exc:
            raise ResourceError(" ".join(str(exc).split())) from exc

    @server.resource(
        STATUS_URI, mime_type="application/json", description="Totals, health and generation."
    )
    async def status_resource() -> str:
        return await in_thread(store.status)

    @server.resource(
        "driftstore://patterns/{id}", mime_type="application/json", description="One pattern."
    )
    async def pattern_resource(id: str) -> str:
        return await in_thread(lambda: store.describe(store.resolve_id(id)))

    @server.resource(
        "driftstore://files/{+path}",
        mime_type="application/json",
        description="The patterns touching one file (path relative to the project root).",
    )
    async def file_resource(path: str) -> str:
        answer = await in_thread(store.file_report, path)
        notifier.files_read.add(file_uri(store.project_path(path)))
        return answer

    # 2025-era per-URI subscriptions: MCPServer has no public API for them yet (the SDK's
    # migration guide registers the handlers on the low-level server, as here)
    low = server._lowlevel_server
    low.add_request_handler("resources/subscribe", SubscribeRequestParams, notifier.on_subscribe)
    low.add_request_handler(
        "resources/unsubscribe", UnsubscribeRequestParams, notifier.on_unsubscribe
    )
    return server
