"""`show`: one pattern with everything that hangs off it, as one JSON-ready document."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import msgspec

from driftstore.engine.base import Engine
from driftstore.errors import PatternNotFoundError
from driftstore.facade.variants import variant_view
from driftstore.model.entry import to_entry

#: related patterns `show` lists (the total is given beside them)
RELATED_LIMIT = 20


def describe(engine: Engine, pattern_id: str) -> dict[str, Any]:
    """The v2 entry plus category, variants (each marked `expired` or not), examples,
    history (newest first), and related patterns (same category and subcategory)."""
    with engine.read() as r:
        p = r.pattern(pattern_id)
        if p is None:
            raise PatternNotFoundError(pattern_id)
        entries = r.history(pattern_id)
        variants = r.variants(pattern_id)
        examples = r.examples(pattern_id)
        related, related_total = r.related(p.id, p.category, p.subcategory, limit=RELATED_LIMIT)
    now = datetime.now(UTC)
    detail = to_entry(p)
    detail["category"] = p.category
    detail["variants"] = [variant_view(v, now) for v in variants]
    detail["examples"] = [msgspec.to_builtins(e) for e in examples]
    detail["history"] = [msgspec.to_builtins(h) for h in entries]
    detail["related"] = [msgspec.to_builtins(x) for x in related]
    detail["relatedTotal"] = related_total
    return detail
