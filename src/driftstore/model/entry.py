"""A pattern as a plain v2 entry dict (formats.md §2): what shards, `show` and history print.

Unknown keys kept in `__extras__` slots are put back where they came from.
"""

from __future__ import annotations

from typing import Any

import msgspec

from driftstore.model.pattern import EXTRAS_KEY, Pattern


def flatten_extras(obj: Any) -> Any:
    """Put keys kept in `__extras__` slots back in place, at every level (in place)."""
    if isinstance(obj, dict):
        extras = obj.pop(EXTRAS_KEY, None)
        for key, value in obj.items():
            if isinstance(value, dict | list):
                obj[key] = flatten_extras(value)
        if extras:
            for key, value in extras.items():
                obj.setdefault(key, value)
        return obj
    if isinstance(obj, list):
        return [flatten_extras(v) for v in obj]
    return obj


def to_entry(p: Pattern) -> dict[str, Any]:
    """Every field, camelCase, with detectionMethod and confidenceLevel always present."""
    data: dict[str, Any] = msgspec.to_builtins(p)
    data["detectionMethod"] = p.method
    data["confidenceLevel"] = p.level.value
    ordered = {key: data.pop(key) for key in _ORDER if key in data}
    ordered.update(data)
    return flatten_extras(ordered)  # type: ignore[no-any-return]


_ORDER = tuple(f.encode_name for f in msgspec.structs.fields(Pattern))
