from __future__ import annotations

import ntpath

import pytest
from hypothesis import given
from hypothesis import strategies as st

from driftstore import InvalidInputError, pattern_id_for
from driftstore.model.paths import (
    escapes_project,
    in_store_spelling,
    normalise_path,
    safe_relative_path,
)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("src\\api\\x.ts", "src/api/x.ts"),
        ("./src/api/x.ts", "src/api/x.ts"),
        ("src//api///x.ts", "src/api/x.ts"),
        ("src/./api/x.ts", "src/api/x.ts"),
        (".aionui/FEATURE.md", ".aionui/FEATURE.md"),
        ("ünïcødé/файл.ts", "ünïcødé/файл.ts"),
    ],
)
def test_normalise_path_gives_one_spelling(raw: str, expected: str) -> None:
    assert normalise_path(raw) == expected


@pytest.mark.parametrize(
    "raw", ["../../etc/passwd", "/etc/passwd", "C:\\Windows\\x", "src/../../x", "", "a/..\\..\\b"]
)
def test_escaping_paths_are_refused(raw: str) -> None:
    with pytest.raises(InvalidInputError, match="outside the project"):
        safe_relative_path(raw)


segment = st.text(
    alphabet=st.characters(blacklist_characters="/\\\x00", blacklist_categories=("Cs",)),
    min_size=1,
    max_size=8,
).filter(lambda s: s not in {".", ".."})


@given(st.lists(segment, min_size=1, max_size=5), st.sampled_from(["/", "\\"]))
def test_normalise_is_idempotent_and_separator_blind(parts: list[str], sep: str) -> None:
    joined = sep.join(parts)
    once = normalise_path(joined)
    assert normalise_path(once) == once
    assert once == normalise_path("/".join(parts))
    assert not escapes_project(once) or once.startswith("/") or ":" in once[:2]


def test_pattern_ids_are_16_hex_and_depend_only_on_detector_and_pattern() -> None:
    a = pattern_id_for("api/route-structure", "api/route-structure/async")
    assert len(a) == 16 and int(a, 16) >= 0
    assert a == pattern_id_for("api/route-structure", "api/route-structure/async")
    assert a != pattern_id_for("api/route-structure", "api/route-structure/sync")
    # no separator ambiguity: ("a", "b/c") and ("a/b", "c") differ
    assert pattern_id_for("a", "b/c") != pattern_id_for("a/b", "c")


@given(st.text(alphabet="ab./\\:\x00 \n-é", max_size=12) | st.text(max_size=30))
def test_store_spelling_is_exactly_what_needs_no_normalising(raw: str) -> None:
    """The by-file hot path skips path handling for these; they must come out of the
    general handling unchanged, and everything else must still go through it."""
    import posixpath

    if in_store_spelling(raw):
        assert normalise_path(raw) == raw
        assert posixpath.normpath(raw) == raw
        assert raw.strip() and not escapes_project(raw) and "\x00" not in raw
        assert not posixpath.isabs(raw) and not ntpath.isabs(raw)


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("src/api/x.ts", True),
        (".github/workflows/ci.yml", True),
        ("a/./b", False),
        ("a/../b", False),
        ("./a", False),
        ("a//b", False),
        ("a/", False),
        ("/a", False),
        ("a\\b", False),
        ("C:/a", False),
        ("   ", False),
        ("..", False),
        ("a/..\n", True),  # a segment named "..\\n", kept as it is
    ],
)
def test_store_spelling_examples(raw: str, clean: bool) -> None:
    assert in_store_spelling(raw) is clean
