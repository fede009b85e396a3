"""Telling a long-running server that the store changed, whoever changed it.

The store generation (`PatternStore.generation`) moves with every committed write from any
process, and reading it is one cheap probe. A StoreWatcher reads it once per interval on a
thread of its own and hands each move, with the ids that changed, to the server's callback:
the language server republishes diagnostics, the MCP server sends resource updates, the
HTTP server wakes its event streams. One number for all of them, never a poll of the data.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

from driftstore.engine.base import ChangeSet
from driftstore.errors import DriftStoreError

if TYPE_CHECKING:
    from driftstore.facade.store import PatternStore

#: how often the generation is read: changes reach a client well within a second
DEFAULT_INTERVAL_S = 0.2


class StoreWatcher:
    """Calls `on_change(changes)` on its own thread when the generation moves; `on_error`
    (if given) hears a store that cannot be read, once per distinct message."""

    def __init__(
        self,
        store: PatternStore,
        on_change: Callable[[ChangeSet], None],
        *,
        interval: float = DEFAULT_INTERVAL_S,
        on_error: Callable[[DriftStoreError], None] | None = None,
    ) -> None:
        self.store = store
        self.on_change = on_change
        self.on_error = on_error
        self.interval = interval
        self.generation = store.generation
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._last_error = ""

    def start(self) -> StoreWatcher:
        self._thread = threading.Thread(target=self._run, name="driftstore-watch", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=5)

    def check(self) -> ChangeSet | None:
        """One look: the changes since the last move seen, or None if there were none."""
        current = self.store.generation
        if current == self.generation:
            return None
        changes = self.store.changes_since(self.generation)
        self.generation = changes.generation
        return changes

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                changes = self.check()
            except DriftStoreError as exc:
                if self.on_error is not None and str(exc) != self._last_error:
                    self._last_error = str(exc)
                    self.on_error(exc)
                continue
            self._last_error = ""
            if changes is not None:
                self.on_change(changes)

    def __enter__(self) -> StoreWatcher:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
