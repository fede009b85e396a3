"""The real `driftstore mcp` process: over stdio with the SDK's client and with raw pipes
(stdout carries protocol and nothing else, even block-buffered as agents launch it), over
streamable HTTP on loopback with its Host and Origin checks, and `--list-tools --json`."""

from __future__ import annotations

import http.client
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import pytest
from mcp.client.stdio import stdio_client

import driftstore
from mcp import Client, StdioServerParameters
from tests.conftest import REPO
from tests.mcp.conftest import fill

CLI = [sys.executable, "-m", "driftstore.cli.main"]
#: as an agent launches a server: no PYTHONUNBUFFERED, so stdout is block-buffered
AGENT_ENV = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}


@pytest.fixture
def project(root: Path) -> Path:
    with driftstore.open(root) as store:
        fill(store)
    return root


@pytest.mark.anyio
async def test_stdio_client_calls_tools_and_reads_resources(project: Path) -> None:
    params = StdioServerParameters(
        command=sys.executable,
        args=["-m", "driftstore.cli.main", "mcp", "--root", str(project), "--allow-writes"],
        env={"PATH": os.environ.get("PATH", "")},
        cwd=str(REPO),
    )
    with tempfile.TemporaryFile("w+") as errors:
        async with Client(stdio_client(params, errlog=errors)) as client:
            names = {t.name for t in (await client.list_tools()).tools}
            assert {"context_for_file", "approve", "add_variant"} <= names
            done = await client.call_tool("approve", {"ids": ["naming"], "reason": "ok"})
            assert not done.is_error and done.structured_content["ids"] == ["naming"]  # type: ignore[index]
            found = await client.read_resource("driftstore://files/src/api/users.ts")
            assert json.loads(found.contents[0].text)["file"] == "src/api/users.ts"  # type: ignore[union-attr]
    with driftstore.open(project) as store:
        assert store.require("naming").status == "approved"
        assert store.history("naming", limit=1)[0].by.startswith("mcp:")  # type: ignore[union-attr]


def _rpc(proc: subprocess.Popen[str], message: dict[str, Any]) -> list[dict[str, Any]]:
    """Send one message; read lines up to its reply (notifications may come first)."""
    assert proc.stdin is not None and proc.stdout is not None
    proc.stdin.write(json.dumps(message) + "\n")
    proc.stdin.flush()
    if "id" not in message:
        return []
    lines = []
    while True:
        line = proc.stdout.readline()
        assert line, "the server closed stdout"
        lines.append(json.loads(line))  # anything but JSON-RPC on stdout fails here
        if lines[-1].get("id") == message["id"]:
            return lines


def test_stdout_carries_only_protocol(project: Path) -> None:
    proc = subprocess.Popen(
        [*CLI, "mcp", "--root", str(project)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=REPO,
        env=AGENT_ENV,
    )
    try:
        init = _rpc(
            proc,
            {"jsonrpc": "2.0", "id": 1, "method": "initialize",
             "params": {"protocolVersion": "2025-11-25", "capabilities": {},
                        "clientInfo": {"name": "raw", "version": "0"}}},
        )  # fmt: skip
        assert init[-1]["result"]["serverInfo"]["name"] == "driftstore"
        _rpc(proc, {"jsonrpc": "2.0", "method": "notifications/initialized"})
        listed = _rpc(proc, {"jsonrpc": "2.0", "id": 2, "method": "tools/list"})
        assert "approve" not in {t["name"] for t in listed[-1]["result"]["tools"]}
        called = _rpc(
            proc,
            {"jsonrpc": "2.0", "id": 3, "method": "tools/call",
             "params": {"name": "get_pattern", "arguments": {"id": "nope"}}},
        )  # fmt: skip
        assert called[-1]["result"]["isError"] is True
        rest, _err = proc.communicate(timeout=30)  # stdin closed: the server ends
    finally:
        if proc.poll() is None:
            proc.kill()
    for line in rest.splitlines():
        assert json.loads(line)["jsonrpc"] == "2.0"
    assert proc.returncode == 0


def test_list_tools_json_without_serving(project: Path) -> None:
    done = subprocess.run(
        [*CLI, "mcp", "--list-tools", "--json", "--root", str(project)],
        capture_output=True, text=True, timeout=60, cwd=REPO, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    tools = {t["name"]: t for t in json.loads(done.stdout)}
    assert "approve" not in tools
    assert tools["get_pattern"]["inputSchema"]["required"] == ["id"]
    assert tools["get_pattern"]["annotations"]["readOnlyHint"] is True
    assert tools["outliers"]["outputSchema"]["type"] == "object"


def _post(port: int, headers: dict[str, str]) -> int:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request(
            "POST", "/mcp", body=b"{}", headers={"Content-Type": "application/json", **headers}
        )
        return connection.getresponse().status
    finally:
        connection.close()


@pytest.mark.anyio
async def test_streamable_http_on_loopback_with_host_and_origin_checks(project: Path) -> None:
    proc = subprocess.Popen(
        [*CLI, "mcp", "--root", str(project), "--http", "127.0.0.1:0"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO,
    )  # fmt: skip
    try:
        assert proc.stderr is not None
        line = proc.stderr.readline()
        assert "http://127.0.0.1:" in line, line
        port = int(line.split("http://127.0.0.1:")[1].split("/")[0])
        url = f"http://127.0.0.1:{port}/mcp"
        async with Client(url) as client:
            status = await client.call_tool("status", {})
            assert status.structured_content["totalPatterns"] == 4  # type: ignore[index]
        async with Client(url, mode="legacy") as client:
            page = await client.call_tool("list_patterns", {"limit": 1})
            assert len(page.structured_content["patterns"]) == 1  # type: ignore[index]
        assert _post(port, {"Host": "evil.example"}) == 421
        assert _post(port, {"Origin": "http://evil.example"}) == 403
    finally:
        started = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(10)
    assert code in (0, -signal.SIGTERM)
    assert time.monotonic() - started < 6
    assert proc.stdout is not None and proc.stdout.read() == ""


def test_a_remote_address_needs_allow_remote(project: Path) -> None:
    done = subprocess.run(
        [*CLI, "mcp", "--root", str(project), "--http", "0.0.0.0:0"],
        capture_output=True, text=True, timeout=60, cwd=REPO, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    assert done.returncode == 2 and "--allow-remote" in done.stderr
    assert done.stderr.count("\n") == 1 and done.stdout == ""
