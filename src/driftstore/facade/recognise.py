"""Scan entries recognised as patterns the store already holds, by their echo
(`formats.echo`): what ingest, its dry run and the CI gate use to skip decoding them."""

from __future__ import annotations

from collections.abc import Mapping

from driftstore.engine.base import ScanState
from driftstore.formats.echo import Echo, echo_if_current
from driftstore.formats.scan import ScanEntry


class Recogniser:
    """The stored echoes that still describe their pattern, by echo."""

    def __init__(self, states: Mapping[str, ScanState]) -> None:
        self._ids: dict[str, str] = {}
        for pid, state in states.items():
            echo = echo_if_current(state.echo, state.content_hash)
            if echo is not None:
                self._ids[echo] = pid

    def recognise(self, entry: ScanEntry) -> tuple[str | None, Echo | None]:
        """The id of the stored pattern this entry is again (None: decode it), and the
        entry's echo (None: it has none)."""
        echo = entry.echo()
        return (None if echo is None else self._ids.get(echo.digest)), echo
