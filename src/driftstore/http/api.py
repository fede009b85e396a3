"""The /v1 routes: parse the request, call the store, send its typed result.

Every GET answer carries the store generation it was read at as its ETag (`"g<n>"`), and an
If-None-Match that names the current generation gets 304 without any work. `/v1/events`
streams "store changed" events (server-sent events; the event id is the generation, so
`Last-Event-ID` resumes). Writes need the bearer token `serve` wrote to
`.drift/serve.token`. Errors are one envelope: `{"ok": false, "error", "status"}`.
"""

from __future__ import annotations

import asyncio
import hmac
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import urlencode

import anyio
import msgspec
from sse_starlette import EventSourceResponse, ServerSentEvent
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.body_limit import RequestBodyLimitMiddleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Mount, Route

import driftstore
from driftstore.http import params as p
from driftstore.http.openapi import openapi_document
from driftstore.http.serving import HostOriginGuard, envelope, local_origins
from driftstore.http.shapes import DecisionBody

MAX_BODY = 16 * 1024
_STATUS_OF = {
    driftstore.PatternNotFoundError: 404,
    driftstore.AmbiguousIdError: 400,
    driftstore.StaleCursorError: 409,
    driftstore.InvalidInputError: 400,
    driftstore.InvalidStatusTransitionError: 409,
    driftstore.StoreBusyError: 503,
    driftstore.ReadOnlyStoreError: 503,
}


class Generations:
    """The store generation as something a stream can wait on, fed by a StoreWatcher."""

    def __init__(self, store: driftstore.PatternStore) -> None:
        self.store = store
        self.current = store.generation
        self.stopping = False
        self._moved = anyio.Event()

    def bump(self, generation: int) -> None:
        self.current = generation
        self._moved.set()
        self._moved = anyio.Event()

    def stop(self) -> None:
        self.stopping = True
        self._moved.set()

    async def after(self, seen: int) -> int | None:
        """The first generation other than `seen`, or None once the server is stopping."""
        while self.current == seen and not self.stopping:
            await self._moved.wait()
        return None if self.stopping else self.current

    @asynccontextmanager
    async def watching(self) -> AsyncIterator[None]:
        loop = asyncio.get_running_loop()

        def on_change(changes: driftstore.ChangeSet) -> None:
            loop.call_soon_threadsafe(self.bump, changes.generation)

        watcher = driftstore.StoreWatcher(self.store, on_change).start()
        try:
            yield
        finally:
            watcher.stop()


def _etag(generation: int) -> str:
    return f'"g{generation}"'


def _matches(request: Request, etag: str) -> bool:
    given = request.headers.get("if-none-match")
    if given is None:
        return False
    tags = [t.strip().removeprefix("W/") for t in given.split(",")]
    return "*" in tags or etag in tags


def _answer(
    request: Request, value: Any, generation: int, headers: dict[str, str] | None = None
) -> Response:
    etag = _etag(generation)
    extra = {"ETag": etag, "Cache-Control": "no-cache", **(headers or {})}
    if _matches(request, etag):
        return Response(status_code=304, headers=extra)
    body = driftstore.to_json(value)
    return Response(body, media_type="application/json", headers=extra)


def build_app(
    store: driftstore.PatternStore,
    *,
    token: str,
    cors: Sequence[str] = (),
    allowed_hosts: Sequence[str] = ("127.0.0.1", "localhost", "::1"),
    extra_routes: Sequence[BaseRoute] = (),
    extra_lifespans: Sequence[Callable[[], Any]] = (),
    floor: bool = False,
) -> Starlette:
    """The app: /v1 (and `extra_routes`, e.g. /mcp). `floor` adds /v1/_floor, a constant
    answer the benchmark measures the server itself with."""
    generations = Generations(store)

    async def call(fn: Callable[..., Any], *args: Any) -> Any:
        return await anyio.to_thread.run_sync(fn, *args)

    async def status(request: Request) -> Response:
        current = store.generation
        if _matches(request, _etag(current)):
            return _answer(request, None, current)
        report = await call(store.status)
        return _answer(request, report, report.generation)

    async def patterns(request: Request) -> Response:
        query = p.parse(request, p.LIST_PATTERNS)
        wanted = {
            "categories": query.get("category"),
            "statuses": query.get("status"),
            "files": query.get("file"),
            "severities": query.get("severity"),
            "tags_any": query.get("tag"),
            "min_confidence": query.get("min_confidence"),
            "max_confidence": query.get("max_confidence"),
            "search": query.get("search"),
        }
        found = {k: v for k, v in wanted.items() if v is not None}
        page = await call(
            lambda: store.page(
                found,
                query.get("sort", "id"),
                limit=query.get("limit", 50),
                cursor=query.get("cursor"),
            )
        )
        headers = {}
        if page.next_cursor:
            rest = [(k, v) for k, v in request.query_params.multi_items() if k != "cursor"]
            link = urlencode([*rest, ("cursor", page.next_cursor)])
            headers["Link"] = f'</v1/patterns?{link}>; rel="next"'
        return _answer(request, page, page.generation, headers)

    async def pattern(request: Request) -> Response:
        current = store.generation
        if _matches(request, _etag(current)):
            return _answer(request, None, current)
        ref = p.path_value(request, p.PATTERN_ID)
        detail = await call(lambda: store.describe(store.resolve_id(ref)))
        return _answer(request, detail, current)

    async def files(request: Request) -> Response:
        path = p.path_value(request, p.FILE_PATH)
        current = store.generation
        if _matches(request, _etag(current)):
            return _answer(request, None, current)
        report = store.file_report_now(path)  # warm: no hop to a worker thread
        if report is None:
            report = await call(lambda: store.file_report(path, indexed=True))
        return _answer(request, report, current)

    async def outliers(request: Request) -> Response:
        query = p.parse(request, p.OUTLIERS)
        listed = await call(
            lambda: store.outliers(
                statuses=query.get("status", ["approved"]),
                categories=query.get("category"),
                files=query.get("file"),
                min_severity=query.get("min_severity", "hint"),
                limit=query.get("limit", 100),
            )
        )
        return _answer(request, listed, listed.generation)

    async def history(request: Request) -> Response:
        query = p.parse(request, p.HISTORY)
        current = store.generation
        if _matches(request, _etag(current)):
            return _answer(request, None, current)
        ref = query.get("id")
        listed = await call(
            lambda: store.history_list(
                store.resolve_id(ref) if ref else None, query.get("since"), query.get("limit", 50)
            )
        )
        return _answer(request, listed, current)

    def decide(target: driftstore.Status) -> Callable[[Request], Any]:
        async def endpoint(request: Request) -> Response:
            header = request.headers.get("authorization", "")
            given = header[7:].strip() if header[:7].lower() == "bearer " else ""
            if not given or not hmac.compare_digest(given.encode(), token.encode()):
                raise HTTPException(
                    401,
                    "writes need 'Authorization: Bearer <token>' with the token in "
                    ".drift/serve.token",
                )
            raw = await request.body()
            try:
                body = (
                    msgspec.json.decode(raw, type=DecisionBody) if raw.strip() else DecisionBody()
                )
            except (msgspec.ValidationError, msgspec.DecodeError) as exc:
                raise HTTPException(
                    400, f'bad body: {exc}; send JSON like {{"reason": "...", "by": "..."}}'
                ) from None
            ref = p.path_value(request, p.PATTERN_ID)
            report = await call(
                lambda: store.set_status(
                    store.resolve_id(ref), target, by=body.by or "http", reason=body.reason
                )
            )
            return _answer(request, report, store.generation)

        return endpoint

    async def events(request: Request) -> Response:
        raw = request.headers.get("last-event-id")
        try:
            last = int(raw) if raw is not None else None
        except ValueError:
            raise HTTPException(400, "Last-Event-ID must be a store generation") from None

        async def stream() -> AsyncIterator[ServerSentEvent]:
            seen = generations.current
            if last != seen:
                yield _event(seen)
            while (moved := await generations.after(seen)) is not None:
                seen = moved
                yield _event(seen)

        return EventSourceResponse(stream(), ping=15, headers={"Cache-Control": "no-cache"})

    document = msgspec.json.encode(openapi_document())

    async def openapi(_request: Request) -> Response:
        return Response(document, media_type="application/json")

    routes: list[BaseRoute] = [
        Route("/status", status, methods=["GET"]),
        Route("/patterns", patterns, methods=["GET"]),
        Route("/patterns/{id}", pattern, methods=["GET"]),
        Route("/patterns/{id}/approve", decide(driftstore.Status.APPROVED), methods=["POST"]),
        Route("/patterns/{id}/ignore", decide(driftstore.Status.IGNORED), methods=["POST"]),
        Route("/files/{path:path}", files, methods=["GET"]),
        Route("/outliers", outliers, methods=["GET"]),
        Route("/history", history, methods=["GET"]),
        Route("/events", events, methods=["GET"]),
        Route("/openapi.json", openapi, methods=["GET"]),
    ]
    if floor:
        constant = b'{"ok":true,"floor":"' + b"x" * 200 + b'"}'

        async def floor_route(_request: Request) -> Response:
            return Response(constant, media_type="application/json")

        routes.append(Route("/_floor", floor_route, methods=["GET"]))

    async def on_http_error(_request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        return envelope(exc.status_code, str(exc.detail), dict(exc.headers or {}))

    async def on_store_error(_request: Request, exc: Exception) -> Response:
        code = next((c for kind, c in _STATUS_OF.items() if isinstance(exc, kind)), 500)
        return envelope(code, " ".join(str(exc).split()))

    async def on_crash(_request: Request, _exc: Exception) -> Response:
        return envelope(500, "internal error; the server's log has the details")

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        async with generations.watching():
            if extra_lifespans:
                from contextlib import AsyncExitStack

                async with AsyncExitStack() as stack:
                    for part in extra_lifespans:
                        await stack.enter_async_context(part())
                    yield
            else:
                yield

    origins = [*local_origins(), *cors]
    middleware = [
        Middleware(HostOriginGuard, allowed_hosts=allowed_hosts, allowed_origins=origins),
        Middleware(RequestBodyLimitMiddleware, max_body_size=MAX_BODY),
    ]
    if cors:
        middleware.append(
            Middleware(
                CORSMiddleware,
                allow_origins=list(cors),
                allow_methods=["GET", "POST"],
                allow_headers=["Authorization", "Content-Type", "If-None-Match", "Last-Event-ID"],
                expose_headers=["ETag", "Link"],
            )
        )
    app = Starlette(
        routes=[Mount("/v1", routes=routes), *extra_routes],
        middleware=middleware,
        exception_handlers={
            HTTPException: on_http_error,
            driftstore.DriftStoreError: on_store_error,
            Exception: on_crash,
        },
        lifespan=lifespan,
    )
    app.state.on_stopping = [generations.stop]
    return app


def _event(generation: int) -> ServerSentEvent:
    data = msgspec.json.encode({"generation": generation}).decode()
    return ServerSentEvent(data=data, event="store", id=str(generation))
