"""The records that hang off a pattern: scoped overrides, code examples, history."""

from __future__ import annotations

from typing import Any

from msgspec import Struct

from driftstore.model.enums import HistoryAction, Scope, Severity


class Variant(Struct, rename="camel", omit_defaults=True, kw_only=True):
    """A scoped override of a pattern's settings (the seed's pattern_variants)."""

    pattern_id: str
    scope: Scope
    scope_path: str | None = None
    severity_override: Severity | None = None
    enabled_override: bool | None = None
    threshold_override: float | None = None
    config_override: dict[str, Any] | None = None
    expires_at: str | None = None
    id: int | None = None
    created_at: str | None = None


class Example(Struct, rename="camel", omit_defaults=True, kw_only=True):
    """A good (positive) or bad code example for a pattern."""

    pattern_id: str
    file: str
    code: str
    line_start: int | None = None
    line_end: int | None = None
    is_positive: bool = True
    language: str | None = None
    id: int | None = None
    created_at: str | None = None


class HistoryEntry(Struct, rename="camel", kw_only=True):
    """One change to one pattern, with the state before and after it."""

    id: int
    pattern_id: str
    action: HistoryAction
    at: str
    by: str | None = None
    reason: str | None = None
    old: dict[str, Any] | None = None
    new: dict[str, Any] | None = None
