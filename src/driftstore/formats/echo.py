"""A scan entry's *echo*: a hash of its bytes with the `lastSeen` value left out.

A scanner in watch mode writes the same entries run after run, changing only the stamp of
when it last saw each pattern. An entry whose echo equals the one stored beside a pattern
(`ScanState.echo`, recorded with the content hash its bytes decoded to) is that pattern
again, unchanged: a re-scan learns this without decoding the entry at all, which is most
of what reading a scan costs (benchmark B12, benchmarks/NOTES.md).

The echo covers every byte but the `lastSeen` string, so entries that differ anywhere
else (a location, a key order, a space) echo differently and are decoded as usual. An
entry that spells the key `"lastSeen"` more than once, or with a value that is not a
string, has no echo: it is always decoded.
"""

from __future__ import annotations

import re
from typing import NamedTuple

import msgspec
import xxhash

#: bumped when what an entry's bytes decode to changes, so older echoes never match
ECHO_VERSION = b"driftstore-echo-1\x00"

_KEY = re.compile(rb'"lastSeen"')
_SPACE = frozenset(b" \t\r\n")
_STRING_VALUE = re.compile(rb'[ \t\r\n]*:[ \t\r\n]*("(?:[^"\\]|\\.)*")')


class Echo(NamedTuple):
    """`digest`: the echo; `last_seen`: the decoded `lastSeen` string (None: no such key)."""

    digest: str
    last_seen: str | None


def echo_of(raw: bytes | memoryview, category: str | None = None) -> Echo | None:
    """The echo of one entry's JSON bytes; `category` is the one a PatternFile gives its
    entries (it decides what an entry without its own category decodes to)."""
    view = _trimmed(memoryview(raw))
    hasher = xxhash.xxh3_128(ECHO_VERSION)
    if category is not None:
        hasher.update(msgspec.json.encode(category))
    hasher.update(b"\x00")
    key = _KEY.search(view)
    if key is None:
        hasher.update(view)
        return Echo(hasher.hexdigest(), None)
    if _KEY.search(view, key.end()) is not None:
        return None
    value = _STRING_VALUE.match(view, key.end())
    if value is None:
        return None
    start, end = value.span(1)
    try:
        stamp = msgspec.json.decode(view[start:end], type=str)
    except (msgspec.DecodeError, UnicodeDecodeError):
        return None
    hasher.update(view[:start])
    hasher.update(b"\x00")
    hasher.update(view[end:])
    return Echo(hasher.hexdigest(), stamp)


def _trimmed(view: memoryview) -> memoryview:
    """Without the whitespace around the JSON value (a line read from a stream keeps its
    line end, one from a mapped file does not; a CRLF file keeps its CR)."""
    start, end = 0, len(view)
    while end > start and view[end - 1] in _SPACE:
        end -= 1
    while start < end and view[start] in _SPACE:
        start += 1
    return view[start:end]


def stored_echo(echo: Echo, content_hash: str) -> str:
    """What the store keeps beside a pattern: the echo and the content hash it decoded to."""
    return f"{echo.digest} {content_hash}"


def echo_if_current(stored: str | None, content_hash: str | None) -> str | None:
    """The echo part of `stored` when the pattern still holds the content it decoded to
    (any later write that changed the pattern changed its content hash), else None."""
    if not stored or not content_hash:
        return None
    digest, _, decoded_to = stored.partition(" ")
    return digest if decoded_to == content_hash else None
