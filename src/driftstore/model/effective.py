"""What a pattern's settings are for one file, once its variants (scoped overrides) apply.

Pure functions over a pattern's own values, its variants, a file and a moment, so the
SQL answer (`driftstore file`) and the in-memory index (`store.by_file`) agree by
construction.

Resolution, per setting: the most specific active variant that sets it wins -- a `file`
variant, then `directory` variants from the longest matching path to the shortest, then
`global` ones, then the pattern's own value (its severity; enabled; no threshold; no
config). Among variants of the same scope and path the newest (highest id) wins. `config`
objects are merged key by key in the same order, so a directory can add one key to a
global config without repeating the rest. A variant stops applying at its `expires_at`
(at that instant, not a millisecond later).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from msgspec import Struct, field

from driftstore.model.clock import parse_iso
from driftstore.model.enums import Scope, Severity
from driftstore.model.records import Variant


class Effective(Struct, rename="camel", kw_only=True):
    """A pattern's settings for one file; `variant_ids` names the variants that applied."""

    severity: Severity
    enabled: bool = True
    threshold: float | None = None
    config: dict[str, Any] | None = None
    variant_ids: list[int] = field(default_factory=list)


def covers_directory(directory: str, file: str) -> bool:
    """Whole-segment prefix: `src/api` covers `src/api/x.ts`, not `src/apiv2/x.ts`."""
    return file.startswith(directory) and file[len(directory) : len(directory) + 1] == "/"


def matches(variant: Variant, file: str) -> bool:
    if variant.scope == Scope.GLOBAL:
        return True
    path = variant.scope_path or ""
    if variant.scope == Scope.FILE:
        return file == path
    return bool(path) and covers_directory(path, file)


def expiry(variant: Variant) -> datetime | None:
    """When the variant stops applying; None if never (or if the stored time is unreadable,
    which driftstore never writes: such a variant is kept in force rather than dropped)."""
    if variant.expires_at is None:
        return None
    try:
        return parse_iso(variant.expires_at)
    except ValueError:
        return None


def is_active(variant: Variant, now: datetime) -> bool:
    ends = expiry(variant)
    return ends is None or now < ends


def specificity(variant: Variant) -> tuple[int, int, int]:
    """Sort key, most specific last: scope rank, then path length in segments, then id."""
    rank = {Scope.GLOBAL: 0, Scope.DIRECTORY: 1, Scope.FILE: 2}[variant.scope]
    depth = (variant.scope_path or "").count("/") + 1 if variant.scope_path else 0
    return (rank, depth, variant.id or 0)


def applicable(variants: Iterable[Variant], file: str, now: datetime) -> list[Variant]:
    """The active variants that cover `file`, most specific first."""
    found = [v for v in variants if matches(v, file) and is_active(v, now)]
    found.sort(key=specificity, reverse=True)
    return found


def resolve(severity: Severity, variants: Sequence[Variant], file: str, now: datetime) -> Effective:
    """The settings for `file`: see the module docstring for the order."""
    chain = applicable(variants, file, now)
    result = Effective(severity=severity, variant_ids=[v.id for v in chain if v.id is not None])
    severity_set = enabled_set = threshold_set = False
    config: dict[str, Any] | None = None
    for v in chain:
        if not severity_set and v.severity_override is not None:
            result.severity, severity_set = v.severity_override, True
        if not enabled_set and v.enabled_override is not None:
            result.enabled, enabled_set = v.enabled_override, True
        if not threshold_set and v.threshold_override is not None:
            result.threshold, threshold_set = v.threshold_override, True
    for v in reversed(chain):
        if v.config_override is not None:
            config = {**(config or {}), **v.config_override}
    result.config = config
    return result


def next_change(variants: Iterable[Variant], file: str, now: datetime) -> datetime | None:
    """The next moment an expiry changes the answer for `file` (for caches), or None."""
    ends = [e for v in variants if matches(v, file) and (e := expiry(v)) is not None and now < e]
    return min(ends) if ends else None
