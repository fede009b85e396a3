"""The /v1 API on a real uvicorn bound to 127.0.0.1, driven by a real HTTP client
(http.client): answers, ETag and 304, cursors and Link, events after another process
writes, the token on writes, the Host/Origin guard, bounded bodies and paths, and the
`driftstore serve` process itself."""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

import driftstore
from driftstore.http.api import build_app
from driftstore.http.serving import running
from tests.conftest import REPO
from tests.mcp.conftest import fill

TOKEN = "test-token-0123456789"
CLI = [sys.executable, "-m", "driftstore.cli.main"]


class Answer:
    def __init__(self, status: int, headers: dict[str, str], body: bytes) -> None:
        self.status, self.headers, self.body = status, headers, body

    def json(self) -> Any:
        return json.loads(self.body)


def ask(
    base: str,
    method: str,
    path: str,
    *,
    headers: dict[str, str] | None = None,
    body: bytes | None = None,
) -> Answer:
    parts = urlsplit(base)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        found = Answer(
            response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
        )
    finally:
        connection.close()
    return found


@pytest.fixture
def api(root: Path) -> Iterator[tuple[str, driftstore.PatternStore]]:
    with driftstore.open(root) as store:
        fill(store)
        with running(build_app(store, token=TOKEN, cors=["https://dash.example"])) as base:
            yield base, store


def test_reads_answer_with_the_generation_as_etag(api: tuple[str, Any]) -> None:
    base, store = api
    status = ask(base, "GET", "/v1/status")
    assert status.status == 200 and status.json()["totalPatterns"] == 4
    assert status.headers["etag"] == f'"g{store.generation}"'
    assert (
        ask(base, "GET", "/v1/patterns/error-wrap").json()["name"] == "Errors go through AppError"
    )
    files = ask(base, "GET", "/v1/files/src/api/users.ts").json()
    assert {p["id"] for p in files["patterns"]} == {"route-async", "error-wrap", "log-json"}
    outliers = ask(base, "GET", "/v1/outliers?file=src/lib/db.ts").json()
    assert [o["patternId"] for o in outliers["outliers"]] == ["error-wrap"]
    history = ask(base, "GET", "/v1/history?id=naming").json()
    assert history["entries"][0]["action"] == "created"
    listed = ask(base, "GET", "/v1/patterns?status=approved&sort=-confidence").json()
    assert [p["id"] for p in listed["patterns"]] == ["route-async", "error-wrap"]
    spec = ask(base, "GET", "/v1/openapi.json").json()
    assert spec["openapi"].startswith("3.1") and "/v1/files/{path}" in spec["paths"]


def test_304_until_the_store_changes(api: tuple[str, Any]) -> None:
    base, store = api
    for path in ("/v1/status", "/v1/patterns/naming", "/v1/files/src/a-b.ts", "/v1/history"):
        first = ask(base, "GET", path)
        tag = first.headers["etag"]
        again = ask(base, "GET", path, headers={"If-None-Match": tag})
        assert again.status == 304 and again.body == b"", path
    store.approve("naming", by="cli")
    fresh = ask(base, "GET", "/v1/patterns/naming", headers={"If-None-Match": tag})
    assert fresh.status == 200 and fresh.json()["status"] == "approved"
    assert fresh.headers["etag"] != tag


def test_pages_follow_the_link_header_and_refuse_a_stale_cursor(api: tuple[str, Any]) -> None:
    base, store = api
    first = ask(base, "GET", "/v1/patterns?limit=3")
    link = first.headers["link"]
    assert link.endswith('rel="next"')
    target = link[1 : link.index(">")]
    second = ask(base, "GET", target).json()
    assert len(first.json()["patterns"]) + len(second["patterns"]) == 4
    store.ignore("naming", by="cli")
    stale = ask(base, "GET", target)
    assert stale.status == 409 and stale.json()["ok"] is False


def test_errors_share_one_envelope(api: tuple[str, Any]) -> None:
    base, _store = api
    for path, code in (
        ("/v1/patterns/nope", 404),
        ("/v1/patterns?limit=0", 400),
        ("/v1/patterns?bogus=1", 400),
        ("/v1/patterns?sort=nope", 400),
        ("/v1/history?since=yesterday", 400),
        ("/v1/nowhere", 404),
    ):
        found = ask(base, "GET", path)
        body = found.json()
        assert found.status == code == body["status"], path
        assert (
            body["ok"] is False and "\n" not in body["error"] and "Traceback" not in body["error"]
        )


def test_writes_need_the_token(api: tuple[str, Any]) -> None:
    base, store = api
    body = json.dumps({"reason": "agreed", "by": "ana"}).encode()
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": TOKEN}):
        refused = ask(base, "POST", "/v1/patterns/naming/approve", headers=headers, body=body)
        assert refused.status == 401
    assert store.require("naming").status == "discovered"
    done = ask(
        base, "POST", "/v1/patterns/naming/approve",
        headers={"Authorization": f"Bearer {TOKEN}"}, body=body,
    )  # fmt: skip
    assert done.status == 200 and done.json()["ids"] == ["naming"]
    row = store.history("naming", limit=1)[0]
    assert (row.by, row.reason) == ("ana", "agreed")
    bad = ask(
        base, "POST", "/v1/patterns/naming/ignore",
        headers={"Authorization": f"Bearer {TOKEN}"}, body=b'{"nope": 1}',
    )  # fmt: skip
    assert bad.status == 400
    big = ask(
        base, "POST", "/v1/patterns/naming/ignore",
        headers={"Authorization": f"Bearer {TOKEN}"}, body=b"x" * 100_000,
    )  # fmt: skip
    assert big.status == 413


def test_host_origin_and_paths_are_guarded(api: tuple[str, Any]) -> None:
    base, _store = api
    assert ask(base, "GET", "/v1/status", headers={"Host": "evil.example"}).status == 421
    assert ask(base, "GET", "/v1/status", headers={"Origin": "http://evil.example"}).status == 403
    allowed = ask(base, "GET", "/v1/status", headers={"Origin": "https://dash.example"})
    assert allowed.status == 200
    assert allowed.headers["access-control-allow-origin"] == "https://dash.example"
    local = ask(base, "GET", "/v1/status", headers={"Origin": "http://127.0.0.1:3000"})
    assert local.status == 200 and "access-control-allow-origin" not in local.headers
    assert ask(base, "GET", "/v1/files/" + "a/" * 9000 + "x").status == 400
    parts = urlsplit(base)
    for raw in (
        "/v1/files/../../etc/passwd",
        "/v1/files/..%2F..%2Fetc%2Fpasswd",
        "/v1/files//etc/passwd",
    ):
        with socket.create_connection((parts.hostname, parts.port), timeout=10) as sock:
            sock.sendall(
                f"GET {raw} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".encode()
            )
            reply = b""
            while chunk := sock.recv(65536):
                reply += chunk
        head, _, payload = reply.partition(b"\r\n\r\n")
        assert b" 200 " not in head.split(b"\r\n")[0], raw
        assert b"root:" not in payload


def _events(base: str, last: str | None, want: int, deadline: float) -> list[dict[str, str]]:
    """Read `want` server-sent events (or fail at the deadline)."""
    parts = urlsplit(base)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=deadline)
    headers = {"Accept": "text/event-stream"}
    if last is not None:
        headers["Last-Event-ID"] = last
    connection.request("GET", "/v1/events", headers=headers)
    response = connection.getresponse()
    assert response.status == 200
    found: list[dict[str, str]] = []
    event: dict[str, str] = {}
    try:
        while len(found) < want:
            line = response.fp.readline().decode().rstrip("\r\n")
            if not line:
                if "data" in event:
                    found.append(event)
                event = {}
            elif not line.startswith(":"):
                key, _, value = line.partition(":")
                event[key] = value.strip()
    finally:
        connection.close()
    return found


def test_events_follow_another_process_and_resume(api: tuple[str, Any]) -> None:
    base, store = api
    import threading

    got: list[list[dict[str, str]]] = []
    reader = threading.Thread(target=lambda: got.append(_events(base, None, 2, 10)))
    reader.start()
    time.sleep(0.5)
    script = (
        "import sys, driftstore; s = driftstore.open(sys.argv[1]); s.approve('naming'); s.close()"
    )
    subprocess.run([sys.executable, "-c", script, str(store.root)], check=True, cwd=REPO)
    reader.join(timeout=15)
    assert got, "no events within the deadline"
    first, second = got[0]
    assert int(second["id"]) > int(first["id"]) and second["event"] == "store"
    assert json.loads(second["data"])["generation"] == int(second["id"]) == store.generation
    # a client that saw an older generation gets the current one at once
    resumed = _events(base, first["id"], 1, 10)
    assert resumed[0]["id"] == second["id"]


def test_the_serve_process_writes_a_private_token_and_stops_cleanly(root: Path) -> None:
    with driftstore.open(root) as store:
        fill(store)
    proc = subprocess.Popen(
        [*CLI, "serve", "--root", str(root), "--port", "0"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO,
    )  # fmt: skip
    try:
        assert proc.stderr is not None
        line = proc.stderr.readline()
        base = line.split()[2].removesuffix("/v1/")
        token_file = root / ".drift" / "serve.token"
        assert oct(token_file.stat().st_mode & 0o777) == "0o600"
        token = token_file.read_text().strip()
        assert ask(base, "GET", "/v1/status").json()["totalPatterns"] == 4
        done = ask(
            base, "POST", "/v1/patterns/naming/ignore",
            headers={"Authorization": f"Bearer {token}"},
        )  # fmt: skip
        assert done.status == 200
    finally:
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(10)
    assert code in (0, -signal.SIGTERM)
    assert proc.stdout is not None and proc.stdout.read() == ""
    assert not (root / ".drift" / "serve.token").exists()


def test_serve_refuses_a_remote_address_without_allow_remote(root: Path) -> None:
    driftstore.open(root).close()
    done = subprocess.run(
        [*CLI, "serve", "--root", str(root), "--host", "0.0.0.0", "--port", "0"],
        capture_output=True, text=True, timeout=60, cwd=REPO, env=dict(os.environ),
    )  # fmt: skip
    assert done.returncode == 2 and "--allow-remote" in done.stderr
