"""Outside bytes that fail to parse, described the same way whatever the JSON library's
version says: text that is not UTF-8 is named as such (with where the first bad byte is),
and a syntax error gets its line and column."""

from __future__ import annotations

import mmap
import re

import msgspec

#: messages quote at most this much of a value
MAX_QUOTED = 80

_BYTE = re.compile(r"\(byte (\d+)\)")

#: what a decoder read: a file's bytes, a view of them, the mapped file, or a raw entry
Data = bytes | memoryview | mmap.mmap | msgspec.Raw


def position(data: Data, offset: int) -> str:
    """`line L, column C` of a byte offset (both 1-based)."""
    head = bytes(data)[: max(0, offset)]
    line = head.count(b"\n") + 1
    column = offset - (head.rfind(b"\n") + 1) + 1
    return f"line {line}, column {column}"


def utf8_problem(data: Data) -> str | None:
    """Why `data` is not UTF-8 text, or None when it is."""
    raw = bytes(data)
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        bad = raw[exc.start : exc.start + 1]
        return f"not UTF-8 text (byte 0x{bad.hex()} at {position(raw, exc.start)})"
    return None


def json_problem(data: Data, exc: Exception) -> str:
    """What is wrong with JSON text that failed to decode, in one short phrase."""
    problem = utf8_problem(data)
    if problem is not None:
        return problem
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    found = _BYTE.search(text)
    if found is not None:
        where = position(data, int(found.group(1)))
        text = _BYTE.sub("", text).replace("JSON is malformed: ", "").strip()
        return f"malformed JSON at {where}: {shorten(text)}"
    return f"malformed JSON ({shorten(text)})"


def shorten(text: str, limit: int = MAX_QUOTED) -> str:
    """One line of at most `limit` characters, with an ellipsis when cut."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"
