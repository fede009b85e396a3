"""`.drift/indexes/by-category.json` and `by-file.json` in drift 0.9's wrapper shapes.

    by-category: {"generatedAt", "patterns": {category: [ids]}, "counts": {category: n}}
    by-file:     {"generatedAt", "patterns": {file: [ids]}, "accessPoints": {}, "functions": {}}

Derived data, rebuilt on every export. Categories, files and ids are sorted, so the content
depends only on the store. `generatedAt` is not the wall clock: the exporter keeps each
index's content checksum in `export_state` and moves `generatedAt` only when the content
changed, so two exports of an unchanged store write identical bytes. `by-file` lists a
pattern under every file it has a location or an outlier in (the `file` command's rule);
the v1 layout spells files as the input did (Windows backslashes), v2 normalised.
"""

from __future__ import annotations

from typing import Any

from driftstore.formats.canonical import canonical_fast, pretty_es
from driftstore.formats.checksum import v2_checksum_of_parts

BY_CATEGORY = "by-category"
BY_FILE = "by-file"
INDEX_NAMES = (BY_CATEGORY, BY_FILE)


def index_contents(
    by_category: dict[str, list[str]], by_file: dict[str, list[str]]
) -> dict[str, dict[str, Any]]:
    """Each index without `generatedAt`, from category -> ids and file -> ids."""
    categories = {cat: sorted(ids) for cat, ids in sorted(by_category.items())}
    return {
        BY_CATEGORY: {
            "patterns": categories,
            "counts": {cat: len(ids) for cat, ids in categories.items()},
        },
        BY_FILE: {
            "patterns": {name: sorted(ids) for name, ids in sorted(by_file.items())},
            "accessPoints": {},
            "functions": {},
        },
    }


def content_checksum(content: dict[str, Any]) -> str:
    return v2_checksum_of_parts([canonical_fast(content)])


def encode_index(content: dict[str, Any], *, generated_at: str, final_newline: bool) -> bytes:
    return pretty_es({"generatedAt": generated_at, **content}, final_newline=final_newline)
