"""A scan entry's echo: equal exactly when the bytes are equal but for the lastSeen value."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from driftstore.formats.echo import Echo, echo_if_current, echo_of, stored_echo
from tests.factories import entry

_stamps = st.text(max_size=30)


def _bytes(e: dict[str, Any], **dumps: Any) -> bytes:
    return json.dumps(e, **dumps).encode()


def _with_last_seen(stamp: str) -> dict[str, Any]:
    e = entry("p1", files=["a.ts", "b.ts"])
    e["metadata"]["lastSeen"] = stamp
    return e


@settings(max_examples=60, deadline=None)
@given(first=_stamps, second=_stamps, spaced=st.booleans())
def test_entries_that_differ_only_in_last_seen_echo_alike(
    first: str, second: str, spaced: bool
) -> None:
    style: dict[str, Any] = {} if spaced else {"separators": (",", ":")}
    one = echo_of(_bytes(_with_last_seen(first), **style))
    two = echo_of(_bytes(_with_last_seen(second), **style))
    assert one is not None and two is not None
    assert one.digest == two.digest
    assert (one.last_seen, two.last_seen) == (first, second)


@settings(max_examples=60, deadline=None)
@given(
    line=st.integers(min_value=1, max_value=10_000),
    name=st.text(min_size=1, max_size=20),
    stamp=_stamps,
)
def test_any_other_difference_changes_the_echo(line: int, name: str, stamp: str) -> None:
    base = _with_last_seen(stamp)
    other = _with_last_seen(stamp)
    other["locations"][0]["line"] = line
    other["name"] = name
    if other == base:
        return
    one, two = echo_of(_bytes(base)), echo_of(_bytes(other))
    assert one is not None and two is not None and one.digest != two.digest


def test_the_same_content_spelled_differently_echoes_differently() -> None:
    e = _with_last_seen("2026-01-01T00:00:00.000Z")
    one, two = echo_of(_bytes(e)), echo_of(_bytes(e, indent=1))
    assert one is not None and two is not None and one.digest != two.digest


def test_the_category_a_pattern_file_gives_is_part_of_the_echo() -> None:
    raw = _bytes(_with_last_seen("t"))
    echoes = {echo_of(raw), echo_of(raw, "api"), echo_of(raw, "auth")}
    assert len({e.digest for e in echoes if e is not None}) == 3


def test_escapes_in_the_stamp_are_decoded() -> None:
    found = echo_of(_bytes(_with_last_seen('a "quoted" \\ stamp \u00e9')))
    assert found is not None and found.last_seen == 'a "quoted" \\ stamp \u00e9'


def test_without_last_seen_the_whole_entry_is_hashed() -> None:
    e = entry("p1")
    e["metadata"].pop("lastSeen", None)
    found = echo_of(_bytes(e))
    assert isinstance(found, Echo) and found.last_seen is None


def test_an_entry_it_cannot_read_the_stamp_of_has_no_echo() -> None:
    twice = _with_last_seen("t")
    twice["lastSeen"] = "u"  # an unknown top-level key of the same name
    assert echo_of(_bytes(twice)) is None
    not_text = _with_last_seen("t")
    not_text["metadata"]["lastSeen"] = 5
    assert echo_of(_bytes(not_text)) is None


def test_a_stored_echo_counts_only_while_the_content_is_what_it_decoded_to() -> None:
    found = echo_of(_bytes(_with_last_seen("t")))
    assert found is not None
    kept = stored_echo(found, "hash-1")
    assert echo_if_current(kept, "hash-1") == found.digest
    assert echo_if_current(kept, "hash-2") is None
    assert echo_if_current(None, "hash-1") is None
    assert echo_if_current(kept, None) is None


def test_whitespace_around_the_entry_does_not_change_its_echo() -> None:
    raw = _bytes(_with_last_seen("t"))
    found = {echo_of(raw + b"\n"), echo_of(raw + b"\r\n"), echo_of(b"  " + raw), echo_of(raw)}
    assert len(found) == 1 and None not in found
