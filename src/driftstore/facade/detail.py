"""`show`: one pattern with everything that hangs off it, as one JSON-ready document."""

from __future__ import annotations

from datetime import UTC, datetime

import msgspec

from driftstore.engine.base import Engine
from driftstore.errors import PatternNotFoundError
from driftstore.facade.results import PatternDetail
from driftstore.facade.variants import variant_view

#: related patterns `show` lists (the total is given beside them)
RELATED_LIMIT = 20


def describe(engine: Engine, pattern_id: str) -> PatternDetail:
    """The pattern as a v2 entry plus its variants (each marked `expired` or not),
    examples, history (newest first), and related patterns (same category and
    subcategory)."""
    with engine.read() as r:
        p = r.pattern(pattern_id)
        if p is None:
            raise PatternNotFoundError(pattern_id)
        entries = r.history(pattern_id)
        variants = r.variants(pattern_id)
        examples = r.examples(pattern_id)
        related, related_total = r.related(p.id, p.category, p.subcategory, limit=RELATED_LIMIT)
    now = datetime.now(UTC)
    fields = msgspec.structs.asdict(p)
    fields["detection_method"] = p.method  # a v2 entry always carries these two
    fields["confidence_level"] = p.level
    return PatternDetail(
        **fields,
        variants=[variant_view(v, now) for v in variants],
        examples=examples,
        history=entries,
        related=related,
        related_total=related_total,
    )
