"""Canonical JSON and ECMAScript number spelling, checked against the rfc8785 package."""

from __future__ import annotations

import math
from typing import Any

import msgspec
import pytest
import rfc8785
from hypothesis import given
from hypothesis import strategies as st

from driftstore.errors import InvalidInputError
from driftstore.formats.canonical import (
    canonical_fast,
    canonical_from_json,
    canonicalize,
    compact_es,
    es_float,
    es_number,
    es_ready,
    pretty_es,
)
from tests.formats.strategies import any_floats, json_values


@pytest.mark.parametrize(
    ("value", "javascript"),
    [
        (5.0, "5"),
        (-0.0, "0"),
        (1e-7, "1e-7"),
        (2.5e-6, "0.0000025"),
        (1e-6, "0.000001"),
        (0.1 + 0.2, "0.30000000000000004"),
        (1e16, "10000000000000000"),
        (1.2345678901234568e20, "123456789012345680000"),
        (1e21, "1e+21"),
        (1.5e300, "1.5e+300"),
        (5e-324, "5e-324"),
        (123.456, "123.456"),
        (-1.5e-7, "-1.5e-7"),
        (12, "12"),
    ],
)
def test_numbers_are_spelled_the_way_javascript_spells_them(value: float, javascript: str) -> None:
    assert es_number(value) == javascript
    assert compact_es(es_ready([value])) == f"[{javascript}]".encode()
    assert canonical_fast([es_float(value)] if isinstance(value, float) else [value]) == (
        f"[{javascript}]".encode()
    )


def test_non_finite_numbers_are_refused() -> None:
    for bad in (math.inf, -math.inf, math.nan):
        with pytest.raises(ValueError):
            es_number(bad)
    with pytest.raises(InvalidInputError, match="malformed JSON"):
        canonical_from_json(b"[1e400]")


@given(any_floats)
def test_every_float_matches_rfc8785(value: float) -> None:
    expected = rfc8785.dumps(value)
    assert es_number(value).encode() == expected
    assert canonical_fast([es_float(value)]) == b"[" + expected + b"]"


@given(json_values)
def test_reference_and_fast_paths_match_rfc8785(value: Any) -> None:
    expected = rfc8785.dumps(value)
    assert canonicalize(value) == expected
    assert canonical_fast(es_ready(value)) == expected
    assert canonical_from_json(msgspec.json.encode(value)) == expected


def as_javascript(value: Any) -> Any:
    """What JavaScript sees: every number a double (Python tells 1 from 1.0, JS does not)."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, dict):
        return {k: as_javascript(v) for k, v in value.items()}
    return [as_javascript(v) for v in value]


@given(json_values)
def test_pretty_output_parses_back_to_the_same_value(value: Any) -> None:
    text = pretty_es(es_ready(value), final_newline=True)
    assert text.endswith(b"\n")
    assert as_javascript(msgspec.json.decode(text)) == as_javascript(value)


def test_keys_sort_by_utf16_code_units_not_code_points() -> None:
    # U+E000 sorts after the surrogate pair of U+1F600 in UTF-16, before it by code point
    value = {"\ue000": 1, "😀": 2, "é": 3, "a": 4}
    assert canonical_fast(value) == rfc8785.dumps(value)
    assert canonical_fast(value).decode() == '{"a":4,"é":3,"😀":2,"\ue000":1}'


def test_strings_escape_like_json_stringify() -> None:
    text = '\x00\x1f\x7f"\\\b\f\n\r\t/\u2028é😀'
    expected = '"\\u0000\\u001f\x7f\\"\\\\\\b\\f\\n\\r\\t/\u2028é😀"'
    assert canonicalize(text).decode() == expected
    assert compact_es(text).decode() == expected
    assert canonicalize("\ud800") == b'"\\ud800"'  # a lone surrogate, as JSON.stringify does


def test_pretty_output_is_json_stringify_with_two_spaces() -> None:
    doc = {"a": [], "b": {}, "c": [1, 5.0, 2.5e-6], "d": {"e": "ü"}}
    expected = (
        '{\n  "a": [],\n  "b": {},\n  "c": [\n    1,\n    5,\n    0.0000025\n  ],\n'
        '  "d": {\n    "e": "ü"\n  }\n}'
    )
    assert pretty_es(es_ready(doc), final_newline=False).decode() == expected


@given(st.lists(any_floats, max_size=5))
def test_es_ready_keeps_values_equal(values: list[float]) -> None:
    assert as_javascript(msgspec.json.decode(compact_es(es_ready(values)))) == values
