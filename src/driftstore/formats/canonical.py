"""JSON the way JavaScript writes it: RFC 8785 canonical JSON and ES-compatible output.

Checksums must be recomputable by any tool, so numbers are written the ECMAScript way
(ECMA-262 Number::toString, RFC 8785 §3.2.2.3), not Python's (`5.0`, `1e-07`).

Two paths, one answer:
- `canonicalize` is the reference: a small pure-Python JCS serializer.
- The fast path lets msgspec do the bulk work. msgspec's float text equals ECMAScript's
  except for integral floats (`5.0`, `1e16`), `-0.0`, values below 1e-5 (`2.5e-6`) and
  exponents of 21 and up (`1e21`, JS `1e+21`); `es_float` turns exactly those into an int or
  a pre-formatted `msgspec.Raw`, so msgspec's output is ECMAScript's. msgspec's `sorted`
  key order is code-point order, which equals RFC 8785's UTF-16 order unless a key holds a
  character beyond U+FFFF; such documents take the reference path.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from typing import Any

import msgspec

from driftstore.errors import InvalidInputError

_encode = msgspec.json.encode
_plain_decoder = msgspec.json.Decoder()

#: UTF-8 lead bytes of characters beyond U+FFFF (only there can the key orders differ)
_ASTRAL_LEADS = (b"\xf0", b"\xf1", b"\xf2", b"\xf3", b"\xf4")
_ESCAPE = re.compile('[\\x00-\\x1f"\\\\\ud800-\udfff]')
_SHORT_ESCAPES = {
    "\b": "\\b",
    "\t": "\\t",
    "\n": "\\n",
    "\f": "\\f",
    "\r": "\\r",
    '"': '\\"',
    "\\": "\\\\",
}
_SAFE_INT = 2**53


def es_number(value: float | int) -> str:
    """ECMAScript Number::toString of a finite number (what JSON.stringify writes)."""
    if isinstance(value, bool):
        raise TypeError("a bool is not a number")
    if isinstance(value, int):
        return str(value)
    if not math.isfinite(value):
        raise ValueError(f"{value!r} cannot be written as JSON")
    if value == 0:
        return "0"
    if value < 0:
        return "-" + es_number(-value)
    # repr gives the shortest digits that round-trip, as ECMA-262 asks; only the
    # placement of the decimal point and the exponent differ
    mantissa, _, exp_text = repr(value).partition("e")
    exponent = int(exp_text) if exp_text else 0
    whole, _, fraction = mantissa.partition(".")
    if whole == "0":
        digits = fraction.lstrip("0")
        point = exponent - (len(fraction) - len(digits))
    else:
        digits = whole + fraction
        point = len(whole) + exponent
    digits = digits.rstrip("0")
    k = len(digits)
    n = point  # value = 0.<digits> * 10**n
    if k <= n <= 21:
        return digits + "0" * (n - k)
    if 0 < n <= 21:
        return digits[:n] + "." + digits[n:]
    if -6 < n <= 0:
        return "0." + "0" * (-n) + digits
    sign = "+" if n - 1 >= 0 else "-"
    head = digits if k == 1 else digits[0] + "." + digits[1:]
    return f"{head}e{sign}{abs(n - 1)}"


def es_float(value: float) -> float | int | msgspec.Raw:
    """`value` as something msgspec writes exactly as ECMAScript would."""
    if value.is_integer():
        if -_SAFE_INT < value < _SAFE_INT:
            return int(value)
        return msgspec.Raw(es_number(value).encode())
    if -1e-5 < value < 1e-5 or not -1e21 < value < 1e21:
        return msgspec.Raw(es_number(value).encode())
    return value


def es_ready(value: Any) -> Any:
    """A copy of a JSON-like tree with every float made ES-safe (for small trees)."""
    if isinstance(value, float):
        return es_float(value)
    if isinstance(value, dict):
        return {k: es_ready(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [es_ready(v) for v in value]
    return value


#: free-form values (unknown keys, custom metadata) may nest this deep, no deeper: the
#: writers recurse, and real drift data nests a handful of levels at most
MAX_NESTING = 32


def nests_deeper_than(value: Any, limit: int = MAX_NESTING) -> bool:
    """True when `value` has containers more than `limit` levels deep (iterative, so any
    depth is safe to ask about)."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children)
    return False


def es_float_hook(text: str) -> float | int | msgspec.Raw:
    """A decoder's float hook: each float in its ECMAScript spelling; non-finite refused."""
    number = float(text)
    if not math.isfinite(number):
        raise ValueError(f"number {text} is out of range")
    return es_float(number)


#: decodes JSON with every float already in its ECMAScript spelling
es_decoder = msgspec.json.Decoder(float_hook=es_float_hook)


# --- the reference serializer ----------------------------------------------------------
def _quote(text: str) -> str:
    def escape(match: re.Match[str]) -> str:
        char = match.group()
        return _SHORT_ESCAPES.get(char) or f"\\u{ord(char):04x}"

    return '"' + _ESCAPE.sub(escape, text) + '"'


def _utf16_key(key: str) -> bytes:
    return key.encode("utf-16-be", "surrogatepass")


def _write(value: Any, out: list[str]) -> None:
    if value is None:
        out.append("null")
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif isinstance(value, str):
        out.append(_quote(value))
    elif isinstance(value, int | float):
        out.append(es_number(value))
    elif isinstance(value, msgspec.Raw):
        out.append(bytes(value).decode())
    elif isinstance(value, dict):
        out.append("{")
        for index, key in enumerate(sorted(value, key=_utf16_key)):
            if not isinstance(key, str):
                raise TypeError(f"object key {key!r} is not a string")
            if index:
                out.append(",")
            out.append(_quote(key))
            out.append(":")
            _write(value[key], out)
        out.append("}")
    elif isinstance(value, list | tuple):
        out.append("[")
        for index, item in enumerate(value):
            if index:
                out.append(",")
            _write(item, out)
        out.append("]")
    else:
        raise TypeError(f"{type(value).__name__} is not a JSON value")


def canonicalize(value: Any) -> bytes:
    """RFC 8785 canonical JSON of plain JSON data (dict, list, str, int, float, bool, None)."""
    out: list[str] = []
    _write(value, out)
    return "".join(out).encode("utf-8", "surrogatepass")


# --- the fast path ---------------------------------------------------------------------
def canonical_encode(value: Any) -> bytes:
    """msgspec's sorted compact encoding: canonical JSON of data with ES-safe floats unless
    `has_astral` says a key may sort differently."""
    return _encode(value, order="sorted")


def has_astral(encoded: bytes) -> bool:
    """True when `encoded` holds a character beyond U+FFFF (code point and UTF-16 key
    orders can then differ)."""
    return not encoded.isascii() and any(lead in encoded for lead in _ASTRAL_LEADS)


def canonical_fast(value: Any) -> bytes:
    """Canonical JSON of data whose floats are already ES-safe (`es_float`/`es_decoder`).

    Accepts msgspec Structs too (their fields are sorted by JSON name like dict keys).
    """
    out = _encode(value, order="sorted")
    if not has_astral(out):
        return out
    return canonicalize(_plain_decoder.decode(out))


def canonical_from_json(raw: bytes | memoryview) -> bytes:
    """Canonical JSON of a JSON text (what any JCS tool gives for the parsed value)."""
    try:
        value = es_decoder.decode(raw)
    except (msgspec.DecodeError, ValueError, RecursionError) as exc:
        raise InvalidInputError(f"malformed JSON ({exc})") from None
    return canonical_fast(value)


def compact_es(value: Any) -> bytes:
    """JSON.stringify(value): compact, keys in their order, ES numbers (floats ES-safe)."""
    return _encode(value)


def pretty_es(value: Any, *, final_newline: bool) -> bytes:
    """JSON.stringify(value, null, 2) (floats must be ES-safe), optionally with a newline."""
    text = msgspec.json.format(_encode(value), indent=2)
    return text + b"\n" if final_newline else text


def join_array(parts: Iterable[bytes]) -> bytes:
    """`[a,b,c]` from already-encoded items."""
    return b"[" + b",".join(parts) + b"]"
