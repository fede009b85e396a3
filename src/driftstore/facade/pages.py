"""Paging for callers that come back later (an agent, an HTTP client): the cursor names
the listing it continues (filter, sort, store generation), so a cursor from another
listing, or from before the store changed, is refused in one line instead of silently
skipping or repeating patterns."""

from __future__ import annotations

import base64
import binascii

import msgspec
import xxhash

from driftstore.engine.base import Engine
from driftstore.errors import StaleCursorError
from driftstore.facade.results import PatternPage
from driftstore.model.query import PatternFilter, Sort


class _Cursor(msgspec.Struct, array_like=True):
    generation: int
    listing: str
    position: str


def _listing(filter: PatternFilter, sort: Sort) -> str:
    return xxhash.xxh3_64_hexdigest(msgspec.json.encode([filter, sort]))


def page(
    engine: Engine, filter: PatternFilter, sort: Sort, limit: int, cursor: str | None
) -> PatternPage:
    """One page of `limit` patterns after `cursor` (None: the first page)."""
    listing = _listing(filter, sort)
    with engine.read() as r:
        generation = r.generation()
        position = None
        if cursor is not None:
            given = _decode(cursor)
            if given.listing != listing:
                raise StaleCursorError(
                    "this cursor belongs to another listing (other filters or sort); "
                    "ask again with the same filters, or without a cursor"
                )
            if given.generation != generation:
                raise StaleCursorError(
                    "the store changed since this cursor was handed out; start again "
                    "without a cursor"
                )
            position = given.position
        result = r.query(filter, sort, offset=0, limit=limit, cursor=position)
    after = None
    if result.next_cursor is not None:
        token = msgspec.json.encode(_Cursor(generation, listing, result.next_cursor))
        after = base64.urlsafe_b64encode(token).decode().rstrip("=")
    return PatternPage(
        patterns=result.patterns, total=result.total, next_cursor=after, generation=generation
    )


def _decode(cursor: str) -> _Cursor:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        return msgspec.json.decode(raw, type=_Cursor)
    except (binascii.Error, ValueError, msgspec.DecodeError, msgspec.ValidationError):
        shown = cursor if len(cursor) <= 40 else cursor[:37] + "..."
        raise StaleCursorError(
            f"cursor {shown!r} is not one this store handed out; start again without a cursor"
        ) from None
