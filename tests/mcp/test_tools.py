"""Every MCP tool and resource through the SDK's in-process client, on both protocol eras:
typed outputs that validate against their advertised schemas, one-line errors, write tools
only with --allow-writes, fresh reads, and change notifications when another writer moves
the store."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import warnings
from collections.abc import Callable
from typing import Any

import anyio
import jsonschema
import pytest
from mcp.shared.subscriptions import ResourceUpdated
from mcp_types import ResourceUpdatedNotification

import driftstore
from driftstore.mcp.server import build_server
from mcp import Client, MCPError
from tests.conftest import REPO
from tests.factories import entry

pytestmark = pytest.mark.anyio


async def _tools(client: Client) -> dict[str, Any]:
    return {t.name: t for t in (await client.list_tools()).tools}


async def _call(client: Client, name: str, args: dict[str, Any]) -> Any:
    tools = await _tools(client)
    result = await client.call_tool(name, args)
    assert not result.is_error, result.content[0].text  # type: ignore[union-attr]
    jsonschema.validate(result.structured_content, tools[name].output_schema)
    assert json.loads(result.content[0].text) == result.structured_content  # type: ignore[union-attr]
    return result.structured_content


async def test_read_tools_answer_from_the_store(filled: driftstore.PatternStore) -> None:
    async with Client(build_server(filled)) as client:
        tools = await _tools(client)
        assert set(tools) == {
            "status", "list_patterns", "get_pattern", "file_patterns", "outliers", "examples",
            "history", "context_for_file",
        }  # fmt: skip
        for tool in tools.values():
            assert tool.annotations.read_only_hint is True
            assert tool.output_schema["type"] == "object"

        status = await _call(client, "status", {})
        assert status["totalPatterns"] == 4 and status["byStatus"]["approved"] == 2
        assert status["generation"] == filled.generation

        page = await _call(client, "list_patterns", {"status": ["approved"], "sort": "-confidence"})
        assert [p["id"] for p in page["patterns"]] == ["route-async", "error-wrap"]

        detail = await _call(client, "get_pattern", {"id": "route"})  # a unique prefix
        assert detail["id"] == "route-async" and detail["status"] == "approved"

        report = await _call(client, "file_patterns", {"path": "src/api/users.ts"})
        assert {p["id"] for p in report["patterns"]} == {"route-async", "error-wrap", "log-json"}

        listed = await _call(client, "outliers", {})
        assert {(o["patternId"], o["file"]) for o in listed["outliers"]} == {
            ("route-async", "src/api/legacy.ts"),
            ("error-wrap", "src/api/users.ts"),
            ("error-wrap", "src/lib/db.ts"),
        }
        assert all(len(o["id"]) == 16 for o in listed["outliers"])
        only = await _call(client, "outliers", {"file": ["src/lib/db.ts"]})
        assert [o["patternId"] for o in only["outliers"]] == ["error-wrap"]

        history = await _call(client, "history", {"id": "route-async", "limit": 1})
        assert history["hasMore"] is True and history["entries"][0]["action"] == "approved"

        examples = await _call(client, "examples", {"id": "route-async"})
        assert examples == {"patternId": "route-async", "fresh": False, "examples": []}

        context = await _call(client, "context_for_file", {"path": "src/api/users.ts"})
        assert [p["id"] for p in context["patterns"]] == ["route-async", "error-wrap"]
        assert context["usedTokens"] <= context["budgetTokens"] == 2000


async def test_context_stays_within_its_budget(root: Any) -> None:
    with driftstore.open(root) as store:
        store.ingest(
            [entry(f"p{i:02d}", description="x" * 400, files=["big.ts"]) for i in range(30)]
        )
        async with Client(build_server(store)) as client:
            small = await _call(
                client, "context_for_file", {"path": "big.ts", "budget_tokens": 500}
            )
    assert small["usedTokens"] <= 500 and small["omitted"] > 0
    assert len(small["patterns"]) + small["omitted"] == 30


async def test_list_patterns_pages_with_a_cursor_that_goes_stale(
    filled: driftstore.PatternStore,
) -> None:
    async with Client(build_server(filled, allow_writes=True)) as client:
        first = await _call(client, "list_patterns", {"limit": 2})
        assert len(first["patterns"]) == 2 and first["nextCursor"]
        second = await _call(client, "list_patterns", {"limit": 2, "cursor": first["nextCursor"]})
        assert {p["id"] for p in first["patterns"]} | {p["id"] for p in second["patterns"]} == {
            "route-async", "error-wrap", "log-json", "naming"
        }  # fmt: skip
        await _call(client, "approve", {"ids": ["naming"], "reason": "agreed"})
        stale = await client.call_tool("list_patterns", {"limit": 2, "cursor": first["nextCursor"]})
        assert stale.is_error and "store changed" in stale.content[0].text  # type: ignore[union-attr]
        other = await client.call_tool(
            "list_patterns", {"limit": 2, "sort": "name", "cursor": first["nextCursor"]}
        )
        assert other.is_error


async def test_write_tools_exist_only_when_allowed_and_record_who_and_why(
    filled: driftstore.PatternStore,
) -> None:
    async with Client(build_server(filled)) as client:
        assert "approve" not in await _tools(client)
        refused = await client.call_tool("approve", {"ids": ["naming"], "reason": "x"})
        assert refused.is_error
    assert filled.require("naming").status == "discovered"

    async with Client(build_server(filled, allow_writes=True, by="mcp:server")) as client:
        tools = await _tools(client)
        assert tools["approve"].annotations.read_only_hint is False
        assert tools["approve"].annotations.idempotent_hint is True
        assert tools["add_variant"].annotations.idempotent_hint is True
        moved = await _call(client, "approve", {"ids": ["naming"], "reason": "team agreed"})
        assert moved["ids"] == ["naming"]
        again = await _call(client, "approve", {"ids": ["naming"], "reason": "again", "by": "bo"})
        assert again["ids"] == [] and again["unchanged"] == ["naming"]
        ignored = await _call(client, "ignore", {"ids": ["route"], "reason": "noisy", "by": "bo"})
        assert ignored["ids"] == ["route-async"]
        variant = await _call(
            client,
            "add_variant",
            {"id": "error-wrap", "scope": "directory", "path": "src/lib", "enabled": False,
             "reason": "generated code"},
        )  # fmt: skip
        assert variant["scope"] == "directory" and variant["enabledOverride"] is False
        retried = await _call(
            client,
            "add_variant",
            {"id": "error-wrap", "scope": "directory", "path": "src/lib", "enabled": False,
             "reason": "retried"},
        )  # fmt: skip
        assert retried["id"] == variant["id"]  # a retried call stacks no second copy
    assert len(filled.variants("error-wrap")) == 1
    rows = filled.history("naming", limit=1)
    assert rows[0].by == "mcp:server" and rows[0].reason == "team agreed"
    assert filled.history("route-async", limit=1)[0].by == "bo"
    assert filled.by_file("src/lib/db.ts") == []  # the variant turned it off there


async def test_errors_are_one_line(filled: driftstore.PatternStore) -> None:
    async with Client(build_server(filled)) as client:
        missing = await client.call_tool("get_pattern", {"id": "nope"})
        text = missing.content[0].text  # type: ignore[union-attr]
        assert missing.is_error and "nope" in text and "\n" not in text
        bad = await client.call_tool("list_patterns", {"limit": 0})
        text = bad.content[0].text  # type: ignore[union-attr]
        assert bad.is_error and "\n" not in text and "'limit'" in text
        outside = await client.call_tool("file_patterns", {"path": "../../etc/passwd"})
        assert outside.is_error and "outside" in outside.content[0].text  # type: ignore[union-attr]
        unknown = await client.call_tool("nosuch", {})
        assert unknown.is_error


async def test_resources_read_fresh_and_refuse_escapes(filled: driftstore.PatternStore) -> None:
    async with Client(build_server(filled)) as client:
        listed = await client.list_resources()
        assert [str(r.uri) for r in listed.resources] == ["driftstore://status"]
        templates = await client.list_resource_templates()
        assert {t.uri_template for t in templates.resource_templates} == {
            "driftstore://patterns/{id}",
            "driftstore://files/{+path}",
        }
        status = await client.read_resource("driftstore://status")
        assert json.loads(status.contents[0].text)["totalPatterns"] == 4  # type: ignore[union-attr]
        pattern = await client.read_resource("driftstore://patterns/error-wrap")
        assert json.loads(pattern.contents[0].text)["id"] == "error-wrap"  # type: ignore[union-attr]
        for uri in (
            "driftstore://files/src/api/users.ts",
            "driftstore://files/src%2Fapi%2Fusers.ts",
        ):
            found = await client.read_resource(uri)
            assert json.loads(found.contents[0].text)["file"] == "src/api/users.ts"  # type: ignore[union-attr]
        await _in_thread(lambda: filled.ingest([entry("late", files=["x.ts"])]))
        again = await client.read_resource("driftstore://status")
        assert json.loads(again.contents[0].text)["totalPatterns"] == 5  # type: ignore[union-attr]
        with pytest.raises(MCPError):
            await client.read_resource("driftstore://patterns/nope")
        for escape in ("driftstore://files/../etc/passwd", "driftstore://files/%2E%2E/x"):
            with pytest.raises(MCPError):
                await client.read_resource(escape)


async def _in_thread(fn: Callable[[], object]) -> None:
    """A write from a plain thread, as another writer would make it, without blocking the
    loop the server runs on."""
    thread = threading.Thread(target=fn)
    thread.start()
    while thread.is_alive():
        await anyio.sleep(0.01)


async def test_another_process_writing_notifies_listeners(filled: driftstore.PatternStore) -> None:
    script = (
        "import sys, driftstore; s = driftstore.open(sys.argv[1]); "
        "s.approve('naming', by='cli'); s.close()"
    )
    async with Client(build_server(filled)) as client:
        async with client.listen(resource_subscriptions=["driftstore://patterns/naming"]) as events:
            await anyio.to_thread.run_sync(
                lambda: subprocess.run(
                    [sys.executable, "-c", script, str(filled.root)], check=True, cwd=REPO
                )
            )
            with anyio.fail_after(5):
                first = await events.__anext__()
        assert first == ResourceUpdated(uri="driftstore://patterns/naming")


async def test_legacy_clients_subscribe_and_hear_updates(filled: driftstore.PatternStore) -> None:
    heard: list[str] = []
    arrived = anyio.Event()

    async def on_message(message: Any) -> None:
        if isinstance(message, ResourceUpdatedNotification):
            heard.append(str(message.params.uri))
            arrived.set()

    async with Client(build_server(filled), mode="legacy", message_handler=on_message) as client:
        assert client.server_capabilities.resources.subscribe is True  # type: ignore[union-attr]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            await client.subscribe_resource("driftstore://status")
        page = await client.call_tool("list_patterns", {"limit": 2})
        assert not page.is_error
        await _in_thread(lambda: filled.ignore("naming", by="other"))
        with anyio.fail_after(5):
            await arrived.wait()
    assert heard[0] == "driftstore://status"
