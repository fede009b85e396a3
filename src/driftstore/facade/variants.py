"""Variants (scoped overrides): checking what a user asks for, storing it with its history
row, and showing it with whether it has expired."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import msgspec

from driftstore.engine.base import Engine, HistoryRecord
from driftstore.errors import (
    InvalidInputError,
    PatternNotFoundError,
    Remedy,
    VariantNotFoundError,
)
from driftstore.facade.results import VariantView
from driftstore.model.clock import format_iso, parse_iso
from driftstore.model.effective import Effective, is_active, resolve
from driftstore.model.enums import HistoryAction, Scope, Severity
from driftstore.model.paths import safe_relative_path
from driftstore.model.records import Variant


def _choice(value: Any, enum: type[Scope] | type[Severity], what: str) -> Any:
    try:
        return enum(value)
    except ValueError:
        raise InvalidInputError(
            f"{what} {value!r} is not valid; choose one of {', '.join(e.value for e in enum)}"
        ) from None


def inside_root(root: Path, relative: str, *, what: str) -> None:
    """Refuse a project path whose existing part resolves (through links) outside root."""
    base = root.resolve()
    try:
        real = (base / relative).resolve()
    except (OSError, RuntimeError) as exc:  # RuntimeError: a symlink loop
        raise InvalidInputError(f"{what} {relative!r} cannot be resolved ({exc})") from None
    if real != base and not real.is_relative_to(base):
        raise InvalidInputError(
            f"{what} {relative!r} leads outside the project through a link; give a path "
            "that stays inside the project root"
        )


def scope_path(root: Path, scope: Scope, path: str | None) -> str | None:
    if scope == Scope.GLOBAL:
        if path:
            raise InvalidInputError(
                "a global variant covers the whole project; drop --path, or use --scope "
                "directory or file"
            )
        return None
    if not path:
        raise InvalidInputError(f"a {scope.value} variant needs --path (a project-relative path)")
    where = f"variant {scope.value} path"
    clean = safe_relative_path(path, what=where).rstrip("/")
    if not clean or clean == ".":
        raise InvalidInputError(
            f"{where} {path!r} is the project root; use --scope global for the whole project"
        )
    inside_root(root, clean, what=where)
    return clean


def parse_config(config: str | dict[str, Any] | None) -> dict[str, Any] | None:
    if config is None or isinstance(config, dict):
        return config
    try:
        value = msgspec.json.decode(config.encode())
    except (msgspec.DecodeError, UnicodeDecodeError) as exc:
        raise InvalidInputError(
            f"variant config is not valid JSON ({exc}); give a JSON object like "
            "'{\"maxDepth\": 3}'"
        ) from None
    if not isinstance(value, dict):
        raise InvalidInputError(
            f"variant config must be a JSON object, not {type(value).__name__}; "
            "e.g. '{\"maxDepth\": 3}'"
        )
    return value


def parse_expiry(expires: str | datetime | None) -> str | None:
    if expires is None:
        return None
    if isinstance(expires, datetime):
        moment = expires if expires.tzinfo else expires.replace(tzinfo=UTC)
        return format_iso(moment)
    try:
        return format_iso(parse_iso(expires))
    except ValueError:
        raise InvalidInputError(
            f"expiry {expires!r} is not an ISO-8601 time; use e.g. 2026-12-31T00:00:00Z"
        ) from None


def build_variant(
    root: Path,
    pattern_id: str,
    *,
    scope: str,
    path: str | None,
    severity: str | None,
    enabled: bool | None,
    threshold: float | None,
    config: str | dict[str, Any] | None,
    expires: str | datetime | None,
    now: datetime,
) -> Variant:
    """A checked Variant, or InvalidInputError naming the one thing that is wrong."""
    kind = _choice(scope, Scope, "scope")
    where = scope_path(root, kind, path)
    level = None if severity is None else _choice(severity, Severity, "severity")
    if threshold is not None and (
        isinstance(threshold, bool)
        or not isinstance(threshold, int | float)
        or not math.isfinite(threshold)
    ):
        raise InvalidInputError(f"threshold {threshold!r} must be a finite number")
    settings = parse_config(config)
    ends = parse_expiry(expires)
    if ends is not None and parse_iso(ends) <= now:
        raise InvalidInputError(
            f"expiry {ends} is not in the future; give a later time, or leave it out"
        )
    if level is None and enabled is None and threshold is None and settings is None:
        raise InvalidInputError(
            "a variant must override something: give a severity, enable/disable, a threshold "
            "or a config"
        )
    return Variant(
        pattern_id=pattern_id,
        scope=kind,
        scope_path=where,
        severity_override=level,
        enabled_override=enabled,
        threshold_override=None if threshold is None else float(threshold),
        config_override=settings,
        expires_at=ends,
    )


def add_variant(
    engine: Engine, variant: Variant, *, by: str | None = None, reason: str | None = None
) -> Variant:
    """Store it with its history row (action updated, reason 'variant added' and the
    caller's reason when given). Idempotent: when the pattern already has a variant with
    the same scope, path and overrides, that one is returned and nothing is written (an
    agent or a script retrying a call must not stack copies)."""
    with engine.write() as w:
        if not w.existing_ids([variant.pattern_id]):
            raise PatternNotFoundError(variant.pattern_id)
        same = next((v for v in w.variants(variant.pattern_id) if _same(v, variant)), None)
        if same is not None:
            return same
        stored = w.add_variant(variant)
        w.record_history(
            [
                HistoryRecord(
                    variant.pattern_id,
                    HistoryAction.UPDATED,
                    None,
                    {"variant": msgspec.to_builtins(stored)},
                    w.now,
                    by,
                    f"variant added: {reason}" if reason else "variant added",
                )
            ]
        )
    return stored


#: what makes two variants of one pattern the same (not their ids or creation times)
_SETTINGS = (
    "scope",
    "scope_path",
    "severity_override",
    "enabled_override",
    "threshold_override",
    "config_override",
    "expires_at",
)


def _same(a: Variant, b: Variant) -> bool:
    return all(getattr(a, name) == getattr(b, name) for name in _SETTINGS)


def remove_variant(engine: Engine, variant_id: int, *, by: str | None = None) -> Variant:
    with engine.write() as w:
        stored = w.remove_variant(variant_id)
        if stored is None:
            raise VariantNotFoundError(
                f"variant {variant_id} not found", remedy=Remedy.LIST_VARIANTS
            )
        w.record_history(
            [
                HistoryRecord(
                    stored.pattern_id,
                    HistoryAction.UPDATED,
                    {"variant": msgspec.to_builtins(stored)},
                    None,
                    w.now,
                    by,
                    "variant removed",
                )
            ]
        )
    return stored


def variant_view(variant: Variant, now: datetime) -> VariantView:
    """The variant with `expired` (an expired variant no longer applies)."""
    return VariantView(**msgspec.structs.asdict(variant), expired=not is_active(variant, now))


def effective_for(engine: Engine, pattern_id: str, file: str, now: datetime) -> Effective:
    with engine.read() as r:
        stored = r.pattern(pattern_id, with_locations=False)
        if stored is None:
            raise PatternNotFoundError(pattern_id)
        variants = r.variants(pattern_id)
    return resolve(stored.severity, variants, file, now)
