"""`show`: one pattern with everything that hangs off it, as one JSON-ready document."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import msgspec

from driftstore.engine import examples as example_sql
from driftstore.engine import history as history_sql
from driftstore.engine import patterns as pattern_sql
from driftstore.engine import variants as variant_sql
from driftstore.engine.connection import Database
from driftstore.errors import PatternNotFoundError
from driftstore.facade import summaries
from driftstore.facade.variants import variant_view
from driftstore.model.entry import to_entry


def describe(db: Database, pattern_id: str) -> dict[str, Any]:
    """The v2 entry plus category, variants (each marked `expired` or not), examples,
    history (newest first), and related patterns (same category and subcategory)."""
    with db.reader() as conn:
        p = pattern_sql.load_pattern(conn, pattern_id)
        if p is None:
            raise PatternNotFoundError(pattern_id)
        entries = history_sql.read(conn, pattern_id)
        variants = variant_sql.list_variants(conn, pattern_id)
        examples = example_sql.list_examples(conn, pattern_id)
        related = summaries.related(conn, p.id, p.category, p.subcategory)
    now = datetime.now(UTC)
    detail = to_entry(p)
    detail["category"] = p.category
    detail["variants"] = [variant_view(v, now) for v in variants]
    detail["examples"] = [msgspec.to_builtins(e) for e in examples]
    detail["history"] = [msgspec.to_builtins(h) for h in entries]
    detail["related"] = related["patterns"]
    detail["relatedTotal"] = related["total"]
    return detail
