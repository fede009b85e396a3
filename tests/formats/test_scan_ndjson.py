"""NDJSON from a file is decoded from the memory-mapped file, from a stream line by line:
both must give the same patterns, and name the same line when one is bad."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from driftstore import InvalidInputError
from driftstore.formats import scan
from driftstore.formats.scan import read_scan
from tests.factories import entry

#: what may stand between two entries: nothing, blank lines, whitespace-only lines
gaps = st.lists(st.sampled_from(["", " ", "\t", "  \r", "\x0c"]), max_size=3)


def _outcome(source: Path | io.BytesIO) -> tuple[list[str], str | None]:
    """Ids read until the first error, and that error's message after the input's name."""
    ids: list[str] = []
    try:
        for p in read_scan(source):
            ids.append(p.id)
    except InvalidInputError as exc:
        return ids, str(exc).split(": ", 1)[1]
    return ids, None


@settings(max_examples=30)
@given(
    layout=st.lists(st.tuples(gaps, st.booleans()), min_size=1, max_size=6),
    newline=st.sampled_from(["\n", "\r\n"]),
    trailing=st.booleans(),
    bad_at=st.one_of(st.none(), st.integers(1, 5)),
)
def test_a_mapped_file_and_a_stream_read_ndjson_alike(
    tmp_path_factory: pytest.TempPathFactory,
    layout: list[tuple[list[str], bool]],
    newline: str,
    trailing: bool,
    bad_at: int | None,
) -> None:
    lines = [json.dumps(entry("first"))]  # a scan is NDJSON when its first line is an entry
    for index, (gap, with_location) in enumerate(layout):
        lines += gap
        e = entry(f"p{index}", files=["a.ts"] if with_location else [])
        if bad_at == index:
            e["confidence"]["score"] = 7
        lines.append(json.dumps(e))
    data = (newline.join(lines) + (newline if trailing else "")).encode()
    path = tmp_path_factory.mktemp("ndjson") / "scan.ndjson"
    path.write_bytes(data)
    from_file = _outcome(path)
    assert from_file == _outcome(io.BytesIO(data))
    expected = ["first"] + [f"p{i}" for i in range(len(layout))]
    if bad_at is None or bad_at >= len(layout):
        assert from_file == (expected, None)
    else:
        number = lines.index(next(x for x in lines if f'"p{bad_at}"' in x)) + 1
        assert from_file[0] == expected[: bad_at + 1]
        assert from_file[1] is not None
        assert from_file[1].startswith(f"line {number} (id 'p{bad_at}'): confidence.score")


def test_pages_already_decoded_can_be_handed_back_without_changing_what_is_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if scan._DONTNEED is None:
        pytest.skip("this platform's mmap has no MADV_DONTNEED")
    monkeypatch.setattr(scan, "_RELEASE_EVERY", 1)  # hand pages back after every line
    entries = [
        entry(f"p{i}", files=[f"src/{'d' * 200}/{j}.ts" for j in range(40)]) for i in range(60)
    ]
    path = tmp_path / "scan.ndjson"
    path.write_text("\n".join(json.dumps(e) for e in entries) + "\n", encoding="utf-8")
    assert path.stat().st_size > 10 * 4096
    got = list(read_scan(path))
    assert [p.id for p in got] == [f"p{i}" for i in range(60)]
    assert [loc.file for loc in got[-1].locations] == [f"src/{'d' * 200}/{j}.ts" for j in range(40)]
