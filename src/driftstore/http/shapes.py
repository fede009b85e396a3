"""The shapes the HTTP API adds to driftstore's results: its error envelope and the body of
a decision."""

from __future__ import annotations

import msgspec


class ErrorEnvelope(msgspec.Struct):
    """Every error the HTTP API returns: `{"ok": false, "error": "...", "status": N}`."""

    ok: bool
    error: str
    status: int


class DecisionBody(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """The body of a POST .../approve or .../ignore (both fields optional)."""

    reason: str | None = None
    by: str | None = None
