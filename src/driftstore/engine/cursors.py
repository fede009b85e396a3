"""Keyset cursors for listings, the same on every engine: the last row's sort value and id,
as opaque URL-safe text."""

from __future__ import annotations

import base64
from typing import Any

import msgspec

from driftstore.errors import InvalidInputError


def encode_cursor(values: tuple[Any, str]) -> str:
    return base64.urlsafe_b64encode(msgspec.json.encode(list(values))).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[Any, str]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        value, last_id = msgspec.json.decode(base64.urlsafe_b64decode(padded.encode()))
        if not isinstance(last_id, str):
            raise ValueError
        return value, last_id
    except (ValueError, TypeError, msgspec.DecodeError):
        raise InvalidInputError(
            f"cursor {cursor!r} is not one this store handed out; start again without a cursor"
        ) from None
