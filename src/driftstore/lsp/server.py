"""The language server: handlers parse the request, ask the store, answer in protocol types.

Diagnostics are pushed on open and save and pulled through `textDocument/diagnostic`, whose
`resultId` is the store generation: a pull answers "unchanged" until the store changes. A
StoreWatcher notices writes from any process (a scanner ingesting, an approval from the CLI)
and the server republishes every open document's diagnostics (and asks pull clients to
refresh) without rebuilding the index. Failures become an LSP error or a shown message;
the server keeps running and writes nothing but protocol to stdout.
"""

from __future__ import annotations

import asyncio
import getpass
import logging
import os
import posixpath
from typing import Any

from lsprotocol import types as lsp
from pygls.lsp.server import LanguageServer

import driftstore
from driftstore.lsp import render
from driftstore.lsp.paths import uri_to_path

log = logging.getLogger("driftstore.lsp")


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


class DriftLanguageServer(LanguageServer):
    """The server's state: the store, what to show, who writes, the open documents."""

    def __init__(self, store: driftstore.PatternStore) -> None:
        super().__init__("driftstore", driftstore.__version__)
        self.store = store
        self.roots = sorted({str(store.root), os.path.realpath(store.root)})
        self.statuses: list[str] = [driftstore.Status.APPROVED.value]
        self.user = _user()
        self.open_documents: set[str] = set()
        self.loop: asyncio.AbstractEventLoop | None = None
        self.watcher: driftstore.StoreWatcher | None = None
        self.last_error = ""

    # --- paths and answers ---------------------------------------------------------------
    def path_of(self, uri: str) -> str | None:
        for root in self.roots:
            found = uri_to_path(uri, root)
            if found is not None:
                return found
        return None

    def file_diagnostics(self, uri: str) -> tuple[list[lsp.Diagnostic], int]:
        path = self.path_of(uri)
        if path is None:
            return [], self.store.generation
        found = self.store.diagnostics(path, self.statuses)
        return render.diagnostics(found), found.generation

    def publish(self, uri: str) -> None:
        try:
            found, _generation = self.file_diagnostics(uri)
        except driftstore.DriftStoreError as exc:
            self.tell(exc)
            return
        self.text_document_publish_diagnostics(
            lsp.PublishDiagnosticsParams(uri=uri, diagnostics=found)
        )

    def refresh_all(self) -> None:
        """Republish every open document; ask a pull client to pull again."""
        for uri in sorted(self.open_documents):
            self.publish(uri)
        if self.pull_refresh_supported():
            self.workspace_diagnostic_refresh(None)

    def pull_refresh_supported(self) -> bool:
        workspace = self.client_capabilities.workspace
        diagnostics = workspace.diagnostics if workspace is not None else None
        return bool(diagnostics is not None and diagnostics.refresh_support)

    def tell(self, exc: Exception) -> None:
        """Show a store problem once (not on every keystroke), and log it."""
        message = " ".join(str(exc).split())
        log.warning("%s", message)
        if message != self.last_error:
            self.last_error = message
            self.window_show_message(
                lsp.ShowMessageParams(type=lsp.MessageType.Error, message=f"driftstore: {message}")
            )

    # --- watching --------------------------------------------------------------------------
    def start_watching(self) -> None:
        self.loop = asyncio.get_running_loop()

        def on_change(_changes: driftstore.ChangeSet) -> None:
            if self.loop is not None:
                self.loop.call_soon_threadsafe(self.refresh_all)

        def on_error(exc: driftstore.DriftStoreError) -> None:
            if self.loop is not None:
                self.loop.call_soon_threadsafe(self.tell, exc)

        self.watcher = driftstore.StoreWatcher(self.store, on_change, on_error=on_error).start()

    def stop_watching(self) -> None:
        if self.watcher is not None:
            self.watcher.stop()
            self.watcher = None

    # --- writes ----------------------------------------------------------------------------
    def decide(self, command: str, pattern_id: str, uri: str | None) -> dict[str, Any]:
        pid = self.store.resolve_id(pattern_id)
        reason = "from the editor"
        if command == render.APPROVE:
            report: Any = self.store.approve(pid, by=self.user, reason=reason)
        elif command == render.IGNORE:
            report = self.store.ignore(pid, by=self.user, reason=reason)
        else:
            path = self.path_of(uri or "")
            if path is None:
                raise driftstore.InvalidInputError(
                    f"{uri!r} is not a file in the project at {self.store.root}"
                )
            if command == render.DISABLE_IN_FILE:
                scope, where = "file", path
            else:
                scope, where = "directory", posixpath.dirname(path)
                if not where:
                    scope, where = "global", None
            report = self.store.add_variant(
                pid, scope=scope, path=where, enabled=False, by=self.user, reason=reason
            )
        self.refresh_all()
        return driftstore.to_builtins(report)  # type: ignore[no-any-return]


def build_server(store: driftstore.PatternStore) -> DriftLanguageServer:
    server = DriftLanguageServer(store)

    @server.feature(lsp.INITIALIZE)
    def initialize(ls: DriftLanguageServer, params: lsp.InitializeParams) -> None:
        options = params.initialization_options
        if isinstance(options, dict):
            statuses = options.get("statuses")
            if isinstance(statuses, list) and all(isinstance(s, str) for s in statuses):
                valid = {s.value for s in driftstore.Status}
                ls.statuses = [s for s in statuses if s in valid] or ls.statuses
            user = options.get("user")
            if isinstance(user, str) and user.strip():
                ls.user = user.strip()[:200]

    @server.feature(lsp.INITIALIZED)
    def initialized(ls: DriftLanguageServer, _params: lsp.InitializedParams) -> None:
        ls.start_watching()

    @server.feature(lsp.SHUTDOWN)
    def shutdown(ls: DriftLanguageServer, _params: None) -> None:
        ls.stop_watching()

    @server.feature(lsp.TEXT_DOCUMENT_DID_OPEN)
    def did_open(ls: DriftLanguageServer, params: lsp.DidOpenTextDocumentParams) -> None:
        uri = params.text_document.uri
        ls.open_documents.add(uri)
        ls.publish(uri)

    @server.feature(lsp.TEXT_DOCUMENT_DID_SAVE)
    def did_save(ls: DriftLanguageServer, params: lsp.DidSaveTextDocumentParams) -> None:
        ls.publish(params.text_document.uri)

    @server.feature(lsp.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(ls: DriftLanguageServer, params: lsp.DidCloseTextDocumentParams) -> None:
        uri = params.text_document.uri
        ls.open_documents.discard(uri)
        ls.text_document_publish_diagnostics(lsp.PublishDiagnosticsParams(uri=uri, diagnostics=[]))

    @server.feature(
        lsp.TEXT_DOCUMENT_DIAGNOSTIC,
        lsp.DiagnosticOptions(
            identifier="driftstore", inter_file_dependencies=False, workspace_diagnostics=False
        ),
    )
    def pull(
        ls: DriftLanguageServer, params: lsp.DocumentDiagnosticParams
    ) -> lsp.DocumentDiagnosticReport:
        current = str(ls.store.generation)
        if params.previous_result_id == current:
            return lsp.RelatedUnchangedDocumentDiagnosticReport(result_id=current)
        found, generation = ls.file_diagnostics(params.text_document.uri)
        return lsp.RelatedFullDocumentDiagnosticReport(items=found, result_id=str(generation))

    @server.feature(lsp.TEXT_DOCUMENT_HOVER)
    def hover(ls: DriftLanguageServer, params: lsp.HoverParams) -> lsp.Hover | None:
        path = ls.path_of(params.text_document.uri)
        if path is None:
            return None
        line = params.position.line + 1
        parts = []
        for p in ls.store.by_file(path):
            spots = [*p.locations, *p.outliers]
            if not any(loc.line <= line <= (loc.end_line or loc.line) for loc in spots):
                continue
            example = next((e for e in ls.store.examples(p.id) if e.is_positive), None)
            parts.append(render.hover_markdown(p.pattern, p.effective.severity, example))
        if not parts:
            return None
        return lsp.Hover(
            contents=lsp.MarkupContent(
                kind=lsp.MarkupKind.Markdown, value="\n\n---\n\n".join(parts)
            )
        )

    @server.feature(lsp.TEXT_DOCUMENT_CODE_LENS, lsp.CodeLensOptions(resolve_provider=True))
    def code_lens(ls: DriftLanguageServer, params: lsp.CodeLensParams) -> list[lsp.CodeLens]:
        uri = params.text_document.uri
        path = ls.path_of(uri)
        if path is None:
            return []
        found = ls.store.diagnostics(path, ls.statuses)
        first: dict[str, tuple[str, int, int]] = {}
        for spot in found.spots:
            name, count, line = first.get(spot.pattern_id, (spot.pattern_name, 0, spot.line))
            first[spot.pattern_id] = (name, count + 1, min(line, spot.line))
        return [
            render.lens(pid, name, count, line, uri)
            for pid, (name, count, line) in sorted(first.items(), key=lambda kv: kv[1][2])
        ]

    @server.feature(lsp.CODE_LENS_RESOLVE)
    def resolve_lens(_ls: DriftLanguageServer, item: lsp.CodeLens) -> lsp.CodeLens:
        return render.resolved(item)

    @server.feature(
        lsp.TEXT_DOCUMENT_CODE_ACTION,
        lsp.CodeActionOptions(code_action_kinds=[lsp.CodeActionKind.QuickFix]),
    )
    def code_action(ls: DriftLanguageServer, params: lsp.CodeActionParams) -> list[lsp.CodeAction]:
        uri = params.text_document.uri
        if ls.path_of(uri) is None:
            return []
        found: list[lsp.CodeAction] = []
        for diag in params.context.diagnostics:
            if diag.source != render.SOURCE or diag.code is None:
                continue
            name = diag.message.split(": ", 1)[0]
            found += render.actions(diag, uri, name)
        return found

    def command(name: str) -> None:
        @server.command(name)
        def run(ls: DriftLanguageServer, pattern_id: str, uri: str | None = None) -> Any:
            if not isinstance(pattern_id, str) or (uri is not None and not isinstance(uri, str)):
                raise driftstore.InvalidInputError(f"{name} takes a pattern id and a document URI")
            if name == render.SHOW_OUTLIERS:
                path = ls.path_of(uri or "")
                files = [path] if path is not None else None
                listed = ls.store.outliers(
                    statuses=list(driftstore.Status), files=files, limit=None
                )
                pid = ls.store.resolve_id(pattern_id)
                return [driftstore.to_builtins(o) for o in listed.outliers if o.pattern_id == pid]
            return ls.decide(name, pattern_id, uri)

    for name in render.COMMANDS:
        command(name)
    return server
