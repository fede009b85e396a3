"""The servers' rows (issues 13 and 14), each beside a floor measured on the same server in
the same run, over the real transports with minimal clients written here (no test
framework in the loop):

- L1 `driftstore lsp` over stdio: didOpen -> publishDiagnostics p50/p99 beside a no-op
  request's round trip (a method the server does not have: its dispatch and framing, no
  work); start -> first diagnostics; the server's RSS.
- H1 `/v1/files/{path}` requests per second from a keep-alive load client on 127.0.0.1,
  beside `/v1/_floor` (constant bytes from the same app); bounded in count and time.
- M1 MCP `file_patterns` over stdio, p50/p99, beside `ping`'s round trip.
"""

from __future__ import annotations

import asyncio
import json
import os
import queue
import random
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote

from benchmarks.harness import Context, Part, Result, percentile

CLI = [sys.executable, "-m", "driftstore.cli.main"]
STATUSES = ["approved", "discovered"]


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _files(ctx: Context, n: int, salt: str) -> list[str]:
    assert ctx.workload is not None
    return random.Random(f"{ctx.seed}/{salt}").sample(ctx.workload.files, n)


# --- LSP ------------------------------------------------------------------------------------
class LspPeer:
    """JSON-RPC with Content-Length framing over a child's stdio; a thread reads."""

    def __init__(self, root: Path) -> None:
        self.proc = subprocess.Popen(
            [*CLI, "lsp", "--root", str(root)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        self.inbox: queue.Queue[dict[str, Any]] = queue.Queue()
        self._next = 0
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        out = self.proc.stdout
        assert out is not None
        while True:
            length = 0
            while True:
                line = out.readline()
                if not line:
                    return
                if line in (b"\r\n", b"\n"):
                    break
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
            self.inbox.put(json.loads(out.read(length)))

    def send(self, message: dict[str, Any]) -> None:
        body = json.dumps({"jsonrpc": "2.0", **message}).encode()
        assert self.proc.stdin is not None
        self.proc.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        self.proc.stdin.flush()

    def request(self, method: str, params: Any) -> dict[str, Any]:
        self._next += 1
        ident = self._next
        self.send({"id": ident, "method": method, "params": params})
        return self.wait(lambda m: m.get("id") == ident and "method" not in m)

    def wait(self, match: Any, timeout: float = 60) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            message = self.inbox.get(timeout=max(0.01, deadline - time.monotonic()))
            if message.get("method") and "id" in message:  # a request from the server
                self.send({"id": message["id"], "result": None})
                continue
            if match(message):
                return message

    def close(self) -> None:
        try:
            self.request("shutdown", None)
            self.send({"method": "exit"})
            self.proc.wait(timeout=10)
        except Exception:
            self.proc.kill()


def l1_lsp(ctx: Context) -> Result:
    assert ctx.loaded_root is not None
    root = ctx.loaded_root
    result = Result(
        "L1",
        "LSP didOpen -> diagnostics over stdio, index warm (p99)",
        unit="ms",
        floor_what="a no-op request's round trip on the same server (p99)",
        target="p99 <= floor + 2 ms; start -> first diagnostics <= 2 s; RSS <= 300 MB",
    )
    n = 60 if ctx.quick else 400
    files = _files(ctx, n + 1, "l1")
    started = time.perf_counter()
    peer = LspPeer(root)
    try:
        peer.request(
            "initialize",
            {"processId": os.getpid(), "rootUri": root.as_uri(), "capabilities": {},
             "initializationOptions": {"statuses": STATUSES}},
        )  # fmt: skip
        peer.send({"method": "initialized", "params": {}})

        def open_doc(path: str) -> int:
            uri = (root / path).as_uri()
            doc = {"uri": uri, "languageId": "typescript", "version": 1, "text": ""}
            peer.send({"method": "textDocument/didOpen", "params": {"textDocument": doc}})
            got = peer.wait(
                lambda m: (
                    m.get("method") == "textDocument/publishDiagnostics"
                    and m["params"]["uri"] == uri
                )
            )
            peer.send({"method": "textDocument/didClose", "params": {"textDocument": {"uri": uri}}})
            return len(got["params"]["diagnostics"])

        open_doc(files[0])
        first = time.perf_counter() - started
        opens, noops, found = [], [], 0
        for path in files[1:]:
            t = time.perf_counter()
            found += open_doc(path)
            opens.append(time.perf_counter() - t)
            t = time.perf_counter()
            peer.request("driftstore/noop", {})
            noops.append(time.perf_counter() - t)
        rss = _rss_mb(peer.proc.pid)
    finally:
        peer.close()
    o_ms, f_ms = [s * 1000 for s in opens], [s * 1000 for s in noops]
    result.value, result.floor = percentile(o_ms, 99), percentile(f_ms, 99)
    result.parts = [
        Part("p99 over floor", result.value - result.floor, "ms", 2.0),
        Part("start -> first diagnostics", first, "s", 2.0),
        Part("RSS", rss, "MB", 300.0),
    ]
    result.details = {
        "p50_ms": percentile(o_ms, 50),
        "floorP50_ms": percentile(f_ms, 50),
        "diagnosticsPerOpen": found / max(1, len(opens)),
    }
    return result


# --- HTTP -----------------------------------------------------------------------------------
_HTTP_SERVER = textwrap.dedent(
    """
    import sys, driftstore
    from driftstore.http.api import build_app
    from driftstore.http.serving import bind, make_server
    store = driftstore.open(sys.argv[1], create=False)
    sock = bind("127.0.0.1", 0)
    app = build_app(store, token="bench-token-not-used", floor=True)
    print(sock.getsockname()[1], flush=True)
    make_server(app).run(sockets=[sock])
    """
)


async def _load(port: int, paths: list[str], seconds: float, connections: int) -> list[float]:
    """Keep-alive GETs of `paths` (round robin) on `connections` connections until
    `seconds` pass or every path was asked; per-request latencies."""
    latencies: list[float] = []
    deadline = time.perf_counter() + seconds
    cursor = iter(range(len(paths)))

    async def worker() -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            while time.perf_counter() < deadline:
                index = next(cursor, None)
                if index is None:
                    return
                t = time.perf_counter()
                writer.write(f"GET {paths[index]} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())
                head = await reader.readuntil(b"\r\n\r\n")
                status = head.split(b" ", 2)[1]
                sizes = [
                    int(line.split(b":")[1])
                    for line in head.split(b"\r\n")
                    if line.lower().startswith(b"content-length:")
                ]
                if not sizes:
                    raise RuntimeError(f"{paths[index]}: no Content-Length in {head[:300]!r}")
                await reader.readexactly(sizes[0])
                if status != b"200":
                    raise RuntimeError(f"{paths[index]}: HTTP {status.decode()}")
                latencies.append(time.perf_counter() - t)
        finally:
            writer.close()

    await asyncio.gather(*(worker() for _ in range(connections)))
    return latencies


def h1_http(ctx: Context) -> Result:
    assert ctx.loaded_root is not None
    result = Result(
        "H1",
        "HTTP GET /v1/files/{path}, 8 keep-alive connections on 127.0.0.1 (requests/s)",
        unit="req/s",
        floor_what="GET /v1/_floor (constant bytes) on the same server",
        target=">= 0.7x floor",
    )
    seconds, count = (2.0, 2_000) if ctx.quick else (6.0, 20_000)
    assert ctx.workload is not None
    chosen = random.Random(ctx.seed).choices(ctx.workload.files, k=count)
    files = [f"/v1/files/{quote(f)}" for f in chosen]  # as a client must send them
    server = subprocess.Popen(
        [sys.executable, "-c", _HTTP_SERVER, str(ctx.loaded_root)],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )  # fmt: skip
    try:
        assert server.stdout is not None
        port = int(server.stdout.readline())
        asyncio.run(_load(port, files[:200], 5.0, 8))  # warm: index built, code paths hot
        t = time.perf_counter()
        real = asyncio.run(_load(port, files, seconds, 8))
        real_rate = len(real) / (time.perf_counter() - t)
        t = time.perf_counter()
        floor = asyncio.run(_load(port, ["/v1/_floor"] * count, seconds, 8))
        floor_rate = len(floor) / (time.perf_counter() - t)
    finally:
        server.terminate()
        server.wait(timeout=15)
    result.value, result.floor = real_rate, floor_rate
    r_ms = [s * 1000 for s in real]
    result.parts = [Part("ratio", real_rate / floor_rate, "x floor", 0.7, kind="min")]
    result.details = {
        "p50_ms": percentile(r_ms, 50),
        "p99_ms": percentile(r_ms, 99),
        "floorP99_ms": percentile([s * 1000 for s in floor], 99),
        "requests": len(real),
    }
    return result


# --- MCP ------------------------------------------------------------------------------------
class McpPeer:
    """MCP's stdio transport: one JSON-RPC message per line."""

    def __init__(self, root: Path) -> None:
        self.proc = subprocess.Popen(
            [*CLI, "mcp", "--root", str(root)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        self._next = 0

    def request(self, method: str, params: Any) -> dict[str, Any]:
        self._next += 1
        ident = self._next
        self.notify(method, params, ident)
        assert self.proc.stdout is not None
        while True:
            message = json.loads(self.proc.stdout.readline())
            if message.get("id") == ident and "method" not in message:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message

    def notify(self, method: str, params: Any, ident: int | None = None) -> None:
        message: dict[str, Any] = {"jsonrpc": "2.0", "method": method, "params": params}
        if ident is not None:
            message["id"] = ident
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps(message).encode() + b"\n")
        self.proc.stdin.flush()

    def close(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def m1_mcp(ctx: Context) -> Result:
    assert ctx.loaded_root is not None
    result = Result(
        "M1",
        "MCP tools/call file_patterns over stdio (p99)",
        unit="ms",
        floor_what="ping's round trip on the same server (p99)",
        target="reported beside the floor (no target set)",
    )
    n = 60 if ctx.quick else 300
    files = _files(ctx, n + 20, "m1")
    peer = McpPeer(ctx.loaded_root)
    try:
        peer.request(
            "initialize",
            {"protocolVersion": "2025-06-18", "capabilities": {},
             "clientInfo": {"name": "driftstore-bench", "version": "1"}},
        )  # fmt: skip
        peer.notify("notifications/initialized", {})
        calls, pings, errors = [], [], 0
        for i, path in enumerate(files):
            t = time.perf_counter()
            answer = peer.request(
                "tools/call", {"name": "file_patterns", "arguments": {"path": path}}
            )
            spent = time.perf_counter() - t
            errors += bool(answer["result"].get("isError"))
            t = time.perf_counter()
            peer.request("ping", {})
            ping = time.perf_counter() - t
            if i >= 20:  # the first calls build the index and warm the code
                calls.append(spent)
                pings.append(ping)
    finally:
        peer.close()
    c_ms, p_ms = [s * 1000 for s in calls], [s * 1000 for s in pings]
    result.value, result.floor = percentile(c_ms, 99), percentile(p_ms, 99)
    result.parts = [Part("errors", float(errors), "errors", 0)]
    result.details = {"p50_ms": percentile(c_ms, 50), "pingP50_ms": percentile(p_ms, 50)}
    return result
