"""Untrusted text (names, descriptions, paths, reasons from scans and shards) printed
literally: control characters, ANSI and OSC sequences become visible escapes, so a scan
can neither style the terminal nor plant a hyperlink (Rich markup is never parsed either:
tables get `Text` cells, see render)."""

from __future__ import annotations

import re

#: C0 controls but tab, DEL, C1 controls, and the Unicode line/paragraph separators and
#: bidirectional overrides that can reorder what a terminal shows
_UNSAFE = re.compile("[\x00-\x08\x0a-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def safe(text: str) -> str:
    """`text` with every character that could act on a terminal shown as an escape."""
    return _UNSAFE.sub(_escape, text)
