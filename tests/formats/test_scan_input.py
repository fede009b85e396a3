"""Scan input: every accepted shape, and every bad entry refused with entry and field named."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from driftstore import InvalidInputError
from driftstore.formats.scan import read_scan
from driftstore.model.entry import to_entry
from tests.factories import entry, make_pattern


def _write(tmp_path: Path, text: str, name: str = "scan.json") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_array_patternfile_and_ndjson_give_the_same_patterns(tmp_path: Path) -> None:
    entries = [entry("a", files=["x.ts"]), entry("b", files=["y.ts"], category="auth")]
    as_array = _write(tmp_path, json.dumps(entries, indent=2), "a.json")
    as_file = _write(
        tmp_path,
        json.dumps({"version": "2.0.0", "category": "api", "patterns": entries}),
        "f.json",
    )
    as_ndjson = _write(tmp_path, "\n".join(json.dumps(e) for e in entries) + "\n", "n.ndjson")
    results = [[p.id for p in read_scan(path)] for path in (as_array, as_file, as_ndjson)]
    assert results == [["a", "b"]] * 3


def test_patternfile_entries_may_leave_category_to_the_file(tmp_path: Path) -> None:
    e = entry("a")
    del e["category"]
    path = _write(tmp_path, json.dumps({"category": "security", "patterns": [e]}))
    assert [p.category for p in read_scan(path)] == ["security"]


def test_a_binary_stream_is_read_like_a_file() -> None:
    data = "\n".join(json.dumps(entry(pid)) for pid in ("a", "b", "c")).encode()
    assert [p.id for p in read_scan(io.BytesIO(data))] == ["a", "b", "c"]
    data = json.dumps([entry("z")]).encode()
    assert [p.id for p in read_scan(io.BytesIO(data))] == ["z"]


def test_windows_paths_are_normalised_and_the_original_kept(tmp_path: Path) -> None:
    e = entry("a", files=["pages\\Admin.tsx"])
    (p,) = read_scan(_write(tmp_path, json.dumps([e])))
    assert p.locations[0].file == "pages/Admin.tsx"
    assert p.locations[0].original_file == "pages\\Admin.tsx"


def test_unknown_keys_are_kept_at_every_level(tmp_path: Path) -> None:
    e = entry("a", files=["x.ts"])
    e["teamNote"] = "keep me"
    e["locations"][0]["snippetHash"] = "abc"
    e["metadata"]["ownedBy"] = "platform"
    (p,) = read_scan(_write(tmp_path, json.dumps([e])))
    back = to_entry(p)
    assert back["teamNote"] == "keep me"
    assert back["locations"][0]["snippetHash"] == "abc"
    assert back["metadata"]["ownedBy"] == "platform"


def _bad(mutate: Any) -> dict[str, Any]:
    e = entry("bad1", files=["x.ts"])
    mutate(e)
    return e


BAD_ENTRIES = [
    ("unknown category", _bad(lambda e: e.update(category="nonsense")), "category"),
    ("unknown severity", _bad(lambda e: e.update(severity="fatal")), "severity"),
    ("line below 1", _bad(lambda e: e["locations"][0].update(line=0)), "locations[0].line"),
    ("confidence above 1", _bad(lambda e: e["confidence"].update(score=1.5)), "confidence.score"),
    ("confidence below 0", _bad(lambda e: e["confidence"].update(score=-0.1)), "confidence.score"),
    ("missing id", _bad(lambda e: e.pop("id")), "id"),
    ("id of wrong type", _bad(lambda e: e.update(id=12)), "id"),
    ("escaping path", _bad(lambda e: e["locations"][0].update(file="../../etc/passwd")), "file"),
]


@pytest.mark.parametrize(("label", "bad", "field"), BAD_ENTRIES, ids=[b[0] for b in BAD_ENTRIES])
def test_bad_entries_name_the_entry_and_the_field(
    tmp_path: Path, label: str, bad: dict[str, Any], field: str
) -> None:
    path = _write(tmp_path, json.dumps([entry("ok1"), bad]))
    with pytest.raises(InvalidInputError) as info:
        list(read_scan(path))
    message = str(info.value)
    assert "entry 1" in message, message
    assert field in message, message
    assert "\n" not in message


def test_malformed_json_names_the_line_of_ndjson(tmp_path: Path) -> None:
    path = _write(tmp_path, json.dumps(entry("a")) + "\n{not json\n")
    with pytest.raises(InvalidInputError, match=r"line 2: malformed JSON"):
        list(read_scan(path))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty"),
        ("   \n", "empty"),
        ('"just a string"', "not a scan"),
        ('{"patterns": 3}', "not a scan"),
        ("[1, 2", "malformed JSON"),
        ("[3]", "entry 0"),
    ],
)
def test_inputs_that_are_not_scans(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(InvalidInputError, match=message):
        list(read_scan(_write(tmp_path, text)))


def test_missing_file_and_folder_are_one_line_errors(tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError, match="no such file"):
        list(read_scan(tmp_path / "nope.json"))
    with pytest.raises(InvalidInputError, match="is a folder"):
        list(read_scan(tmp_path))


# --- property: any valid pattern survives JSON -> read_scan unchanged ------------------
files = st.lists(
    st.text(
        alphabet=st.characters(blacklist_characters="\\/\x00.", blacklist_categories=("Cs",)),
        min_size=1,
        max_size=6,
    ).map(lambda s: f"src/{s}.ts"),
    max_size=4,
)


@given(
    pid=st.from_regex(r"[a-f0-9]{16}", fullmatch=True),
    name=st.text(min_size=1, max_size=20).filter(lambda s: "\x00" not in s),
    score=st.floats(0, 1, allow_nan=False),
    files=files,
    outliers=files,
    tags=st.lists(st.text(max_size=5), max_size=3),
)
def test_scan_round_trip(
    tmp_path_factory: pytest.TempPathFactory,
    pid: str,
    name: str,
    score: float,
    files: list[str],
    outliers: list[str],
    tags: list[str],
) -> None:
    original = make_pattern(
        pid, name=name, score=score, files=files, outlier_files=outliers, tags=tags
    )
    path = tmp_path_factory.mktemp("scan") / "scan.ndjson"
    path.write_text(json.dumps(to_entry(original)) + "\n", encoding="utf-8")
    (back,) = read_scan(path)
    assert to_entry(back) == to_entry(original)


@pytest.mark.parametrize(
    ("name", "data", "where"),
    [
        ("array.json", b'[{"id": "a\xf3(", "category": "api"}]', "entry 0"),
        ("lines.ndjson", b'{"id": "a\xf3(", "category": "api"}\n', "line 1"),
    ],
)
def test_bytes_that_are_not_utf8_are_bad_input_not_a_damaged_store(
    tmp_path: Path, name: str, data: bytes, where: str
) -> None:
    path = tmp_path / name
    path.write_bytes(data)
    with pytest.raises(
        InvalidInputError, match=rf"{where}: not UTF-8 text \(byte 0xf3 at line 1, column \d+\)"
    ):
        list(read_scan(path))
