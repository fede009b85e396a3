"""Editor URIs onto project paths: percent-encoding, drive letters in any case, documents
outside the root."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from driftstore.lsp.paths import path_to_uri, uri_to_path

_SEGMENT = st.text(
    alphabet=st.characters(blacklist_characters="/\\\x00", blacklist_categories=("Cs",)),
    min_size=1,
    max_size=8,
).filter(lambda s: s not in (".", ".."))


@given(st.lists(_SEGMENT, min_size=1, max_size=4))
def test_a_path_survives_the_uri_round_trip(segments: list[str]) -> None:
    relative = "/".join(segments)
    for root in ("/home/ana/project", "C:/work/project"):
        assert uri_to_path(path_to_uri(relative, root), root) == relative


def test_windows_drive_letters_and_percent_encoding() -> None:
    root = "C:\\Users\\ana\\app"
    for uri in (
        "file:///c%3A/Users/ana/app/src/x%20y.ts",
        "file:///C:/Users/ana/app/src/x%20y.ts",
        "file:///c:/users/ANA/app/src/x%20y.ts",
    ):
        assert uri_to_path(uri, root) == "src/x y.ts"


def test_documents_outside_the_root_get_nothing() -> None:
    root = "/home/ana/project"
    for uri in (
        "file:///home/ana/other/x.ts",
        "file:///home/ana/project-two/x.ts",
        "file:///home/ana/project/../secret.ts",
        "untitled:Untitled-1",
        "https://example.com/home/ana/project/x.ts",
        "file://otherhost/home/ana/project/x.ts",
        "file:///home/ana/project",
    ):
        assert uri_to_path(uri, root) is None, uri
