"""The real `driftstore lsp` process driven by a real LSP client (pytest-lsp's, on pygls):
diagnostics pushed and pulled, hover, lenses, code actions and their commands writing to
the store, diagnostics refreshed when another process writes, and bad requests answered
without a crash."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, Union

import pytest
from lsprotocol import types as lsp
from pygls.exceptions import JsonRpcException
from pytest_lsp import LanguageClient, client_capabilities
from pytest_lsp.client import make_test_lsp_client

import driftstore
from tests.conftest import REPO
from tests.factories import entry

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def _project(root: Path) -> None:
    with driftstore.open(root) as store:
        store.ingest(
            [
                entry("route-async", name="Async route handlers", score=0.95,
                      description="Route handlers are async functions.",
                      files=["src/api/users.ts"], outlier_files=["src/api/users.ts"]),
                entry("error-wrap", name="Errors go through AppError", category="errors",
                      files=["src/api/teams.ts"], outlier_files=["src/api/users.ts", "src/api/users.ts"]),
                entry("found-only", name="Discovered only", outlier_files=["src/api/users.ts"]),
                entry("ignored", name="Ignored one", outlier_files=["src/api/users.ts"]),
            ]
        )  # fmt: skip
        store.approve(["route-async", "error-wrap"], by="ana")
        store.ignore("ignored", by="ana")
        store.add_example("route-async", file="src/api/users.ts", lines="1-2")


def _code_actions_as_sent(client: LanguageClient) -> None:
    """lsprotocol's client converter reads any `Command | CodeAction` that has a `command`
    key as a bare Command; a CodeAction's `command` is an object, a Command's a string."""
    converter = client.protocol._converter

    def structure(obj: Any, _kind: Any) -> lsp.Command | lsp.CodeAction:
        if isinstance(obj.get("command"), str):
            return converter.structure(obj, lsp.Command)
        return converter.structure(obj, lsp.CodeAction)

    converter.register_structure_hook(lsp.Command | lsp.CodeAction, structure)
    converter.register_structure_hook(Union[lsp.Command, lsp.CodeAction], structure)  # noqa: UP007


@asynccontextmanager
async def session(
    root: Path, options: dict[str, Any] | None = None, capabilities: str = "visual-studio-code"
) -> AsyncIterator[LanguageClient]:
    client = make_test_lsp_client()
    _code_actions_as_sent(client)
    await client.start_io(sys.executable, "-m", "driftstore.cli.main", "lsp", "--root", str(root))
    try:
        caps = client_capabilities(capabilities)
        if caps.workspace is not None:  # as current VS Code does: pull clients can be told
            caps.workspace.diagnostics = lsp.DiagnosticWorkspaceClientCapabilities(
                refresh_support=True
            )
        await client.initialize_session(
            lsp.InitializeParams(
                capabilities=caps,
                root_uri=root.as_uri(),
                initialization_options=options,
            )
        )
        yield client
        await asyncio.wait_for(client.shutdown_session(), 10)
    finally:
        server = client._server
        if server is not None and server.returncode is None:
            server.kill()  # a failed test must not leave the server (or the test) hanging
        await asyncio.wait_for(client.stop(), 10)


def _open(client: LanguageClient, uri: str) -> None:
    client.text_document_did_open(
        lsp.DidOpenTextDocumentParams(
            text_document=lsp.TextDocumentItem(
                uri=uri, language_id="typescript", version=1, text="x\n"
            )
        )
    )


async def _diagnostics_after(client: LanguageClient, action: Any) -> None:
    """Run `action`, then wait for the publishDiagnostics it causes (the waiter is made
    before the action: a waiter only sees notifications that come after it)."""
    waiter = asyncio.ensure_future(
        client.wait_for_notification(lsp.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    )
    await asyncio.sleep(0)
    result = action()
    if asyncio.iscoroutine(result):
        await result
    await asyncio.wait_for(waiter, 10)


@pytest.fixture
def project(root: Path) -> Path:
    (root / "src" / "api").mkdir(parents=True)
    (root / "src" / "api" / "users.ts").write_text(
        "export async function users() {\n  return 1;\n}\n"
    )
    _project(root)
    return root


async def test_diagnostics_are_pushed_on_open(project: Path) -> None:
    uri = (project / "src" / "api" / "users.ts").as_uri()
    async with session(project) as client:
        await _diagnostics_after(client, lambda: _open(client, uri))
        found = client.diagnostics[uri]
    assert sorted(str(d.code) for d in found) == ["error-wrap", "error-wrap", "route-async"]
    first = next(d for d in found if d.code == "route-async")
    assert first.source == "driftstore"
    assert first.message == "Async route handlers: breaks it"
    assert first.range.start == lsp.Position(line=99, character=1)
    assert first.severity == lsp.DiagnosticSeverity.Information
    assert len(first.data["outlierId"]) == 16
    assert len({d.data["outlierId"] for d in found}) == 3


async def test_statuses_widen_with_initialization_options(project: Path) -> None:
    uri = (project / "src" / "api" / "users.ts").as_uri()
    async with session(project, {"statuses": ["approved", "discovered", "ignored"]}) as client:
        await _diagnostics_after(client, lambda: _open(client, uri))
        codes = {str(d.code) for d in client.diagnostics[uri]}
    assert codes == {"route-async", "error-wrap", "found-only"}  # ignored never


async def test_pull_answers_unchanged_until_the_store_changes(project: Path) -> None:
    uri = (project / "src" / "api" / "users.ts").as_uri()
    doc = lsp.TextDocumentIdentifier(uri=uri)
    async with session(project) as client:
        full = await client.text_document_diagnostic_async(
            lsp.DocumentDiagnosticParams(text_document=doc)
        )
        assert full.kind == "full" and len(full.items) == 3
        same = await client.text_document_diagnostic_async(
            lsp.DocumentDiagnosticParams(text_document=doc, previous_result_id=full.result_id)
        )
        assert same.kind == "unchanged"
        with driftstore.open(project) as store:
            store.ignore("error-wrap", by="bo")
        changed = await client.text_document_diagnostic_async(
            lsp.DocumentDiagnosticParams(text_document=doc, previous_result_id=full.result_id)
        )
        assert changed.kind == "full" and [str(d.code) for d in changed.items] == ["route-async"]
        assert changed.result_id != full.result_id


async def test_hover_and_lenses(project: Path) -> None:
    uri = (project / "src" / "api" / "users.ts").as_uri()
    doc = lsp.TextDocumentIdentifier(uri=uri)
    async with session(project) as client:
        hover = await client.text_document_hover_async(
            lsp.HoverParams(text_document=doc, position=lsp.Position(line=99, character=3))
        )
        assert hover is not None
        text = hover.contents.value  # type: ignore[union-attr]
        assert "**Async route handlers**" in text and "approved" in text
        assert "Route handlers are async functions" in text and "export async function" in text
        nothing = await client.text_document_hover_async(
            lsp.HoverParams(text_document=doc, position=lsp.Position(line=50, character=0))
        )
        assert nothing is None
        lenses = await client.text_document_code_lens_async(lsp.CodeLensParams(text_document=doc))
        assert len(lenses) == 2 and all(lens.command is None for lens in lenses)
        titles = set()
        for item in lenses:
            resolved = await client.code_lens_resolve_async(item)
            titles.add(resolved.command.title)  # type: ignore[union-attr]
    assert titles == {
        "1 outlier of 'Async route handlers'",
        "2 outliers of 'Errors go through AppError'",
    }


async def test_actions_run_commands_that_write_and_refresh(project: Path) -> None:
    uri = (project / "src" / "api" / "users.ts").as_uri()
    async with session(project, {"user": "dana"}) as client:
        await _diagnostics_after(client, lambda: _open(client, uri))
        diag = next(d for d in client.diagnostics[uri] if d.code == "error-wrap")
        offered = await client.text_document_code_action_async(
            lsp.CodeActionParams(
                text_document=lsp.TextDocumentIdentifier(uri=uri),
                range=diag.range,
                context=lsp.CodeActionContext(diagnostics=[diag]),
            )
        )
        assert offered is not None
        assert all(isinstance(item, lsp.CodeAction) for item in offered)
        commands = {item.command.command for item in offered if item.command is not None}  # type: ignore[union-attr]
        assert commands == {
            "driftstore.approve", "driftstore.ignore", "driftstore.disableInFile",
            "driftstore.disableInDirectory",
        }  # fmt: skip
        await _diagnostics_after(
            client,
            lambda: client.workspace_execute_command_async(
                lsp.ExecuteCommandParams(
                    command="driftstore.disableInFile", arguments=["error-wrap", uri]
                )
            ),
        )
        assert {str(d.code) for d in client.diagnostics[uri]} == {"route-async"}
        await _diagnostics_after(
            client,
            lambda: client.workspace_execute_command_async(
                lsp.ExecuteCommandParams(
                    command="driftstore.ignore", arguments=["route-async", uri]
                )
            ),
        )
        assert list(client.diagnostics[uri]) == []
    with driftstore.open(project) as store:
        assert store.require("route-async").status == "ignored"
        row = store.history("route-async", limit=1)[0]
        assert row.by == "dana" and row.reason == "from the editor"
        assert [v.scope_path for v in store.variants("error-wrap")] == ["src/api/users.ts"]


async def test_another_process_writing_refreshes_open_documents(project: Path) -> None:
    uri = (project / "src" / "api" / "users.ts").as_uri()
    script = "import sys, driftstore; s = driftstore.open(sys.argv[1]); s.approve('found-only'); s.close()"
    async with session(project) as client:
        await _diagnostics_after(client, lambda: _open(client, uri))
        assert len(client.diagnostics[uri]) == 3
        loop = asyncio.get_running_loop()
        started = loop.time()
        await _diagnostics_after(
            client,
            lambda: asyncio.to_thread(
                subprocess.run, [sys.executable, "-c", script, str(project)], check=True, cwd=REPO
            ),
        )
        assert loop.time() - started < 5
        assert "found-only" in {str(d.code) for d in client.diagnostics[uri]}
        for _ in range(100):  # the pull refresh request follows the pushes
            if client.diagnostic_refresh_count:
                break
            await asyncio.sleep(0.02)
        assert client.diagnostic_refresh_count >= 1


async def test_documents_outside_the_root_and_bad_requests_do_not_crash(
    project: Path, tmp_path: Path
) -> None:
    outside = (tmp_path / "elsewhere.ts").as_uri()
    async with session(project) as client:
        await _diagnostics_after(client, lambda: _open(client, outside))
        assert list(client.diagnostics[outside]) == []
        with pytest.raises(JsonRpcException, match=r"not found|nope"):
            await client.workspace_execute_command_async(
                lsp.ExecuteCommandParams(command="driftstore.approve", arguments=["nope", outside])
            )
        with pytest.raises(JsonRpcException):
            await client.workspace_execute_command_async(
                lsp.ExecuteCommandParams(command="driftstore.approve", arguments=[42])
            )
        # still serving
        hover = await client.text_document_hover_async(
            lsp.HoverParams(
                text_document=lsp.TextDocumentIdentifier(
                    uri=(project / "src/api/users.ts").as_uri()
                ),
                position=lsp.Position(line=99, character=0),
            )
        )
        assert hover is not None


async def test_a_restore_under_the_server_refreshes_and_damage_is_reported(project: Path) -> None:
    uri = (project / "src" / "api" / "users.ts").as_uri()
    with driftstore.open(project) as store:
        backup = store.backup()
        store.ignore(["route-async", "error-wrap"], by="bo")
    async with session(project) as client:
        await _diagnostics_after(client, lambda: _open(client, uri))
        assert list(client.diagnostics[uri]) == []
        await _diagnostics_after(
            client,
            lambda: asyncio.to_thread(
                subprocess.run,
                [sys.executable, "-m", "driftstore.cli.main", "backup", "restore", backup,
                 "--root", str(project)],
                check=True, cwd=REPO, capture_output=True,
            ),
        )  # fmt: skip
        assert len(client.diagnostics[uri]) == 3
        (project / ".drift" / "drift.db").write_bytes(b"not a database" * 1000)
        for _ in range(100):  # the watcher finds the damage and says so once
            if client.messages:
                break
            await asyncio.sleep(0.05)
        with pytest.raises(JsonRpcException):  # an LSP error; the server lives on
            await client.text_document_hover_async(
                lsp.HoverParams(
                    text_document=lsp.TextDocumentIdentifier(uri=uri),
                    position=lsp.Position(line=99, character=0),
                )
            )
        lenses = await client.text_document_code_lens_async(
            lsp.CodeLensParams(
                text_document=lsp.TextDocumentIdentifier(uri=(project / "x.ts").as_uri())
            )
        )
        assert not lenses  # a file the store knows nothing of, answered without a crash
