"""Reading scan input: a JSON array of entries, a v2 PatternFile, or NDJSON.

Big inputs are streamed: a file is memory-mapped; NDJSON is decoded line by line from the
map, an array or PatternFile is split into raw entries that are decoded one at a time, so
a scan never sits in memory as a whole as Python objects. A stream ('-') is read line by
line when it is NDJSON.

`scan_entries` hands out each entry undecoded (`ScanEntry`), so a merge can recognise an
entry it already holds by its echo (`formats.echo`) and decode only the others;
`read_scan` decodes them all.
"""

from __future__ import annotations

import contextlib
import mmap
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import IO

import msgspec

from driftstore.errors import InvalidInputError
from driftstore.formats.echo import Echo, echo_of
from driftstore.formats.entries import TOO_DEEP, decode_entry
from driftstore.formats.text import json_problem, utf8_problem
from driftstore.model.pattern import Pattern


class _PatternFileHead(msgspec.Struct):
    patterns: list[msgspec.Raw]
    category: str | None = None


_array_decoder = msgspec.json.Decoder(list[msgspec.Raw])
#: a line holding more than ASCII whitespace (what `bytes.strip` removes)
_NOT_BLANK = re.compile(rb"\S")
#: dropping decoded pages of a read-only file map only unmaps them (the OS keeps them
#: cached, and reading them again would fault them back in); not on every platform
_DONTNEED: int | None = getattr(mmap, "MADV_DONTNEED", None)
_RELEASE_EVERY = 8 << 20
_file_decoder = msgspec.json.Decoder(_PatternFileHead)


class ScanEntry:
    """One entry of a scan, as its bytes (often a view into the mapped scan file):
    `decode` validates it into a Pattern, `echo` only hashes it."""

    __slots__ = ("_clean", "category", "raw", "where")

    def __init__(
        self, raw: bytes | memoryview, where: str, category: str | None, clean: set[str]
    ) -> None:
        self.raw = raw
        self.where = where
        self.category = category
        self._clean = clean

    def decode(self) -> Pattern:
        return decode_entry(
            self.raw, where=self.where, category=self.category, clean_paths=self._clean
        )

    def echo(self) -> Echo | None:
        return echo_of(self.raw, self.category)


def read_scan(source: str | Path | IO[bytes]) -> Iterator[Pattern]:
    """Validated patterns from a path, '-' (stdin) or a binary stream, in input order.

    Raises InvalidInputError naming the input, the entry and the field at the first bad
    entry; callers consume it inside one transaction so a bad entry stores nothing.
    """
    for entry in scan_entries(source):
        yield entry.decode()


def scan_entries(source: str | Path | IO[bytes]) -> Iterator[ScanEntry]:
    """The entries of a scan (as `read_scan` reads them), each still undecoded; a problem
    with the input as a whole (not a scan, unreadable) is raised here, one with an entry
    by its `decode`."""
    if isinstance(source, str) and source == "-":
        yield from _from_stream(sys.stdin.buffer, "<stdin>")
        return
    if isinstance(source, str | Path):
        path = Path(source)
        try:
            handle = path.open("rb")
        except FileNotFoundError:
            raise InvalidInputError(
                f"{path}: no such file; give the path of a scan file or '-'"
            ) from None
        except IsADirectoryError:
            raise InvalidInputError(f"{path}: is a folder; give the path of a scan file") from None
        except OSError as exc:
            raise InvalidInputError(f"{path}: cannot read it ({exc.strerror})") from None
        with handle:
            yield from _from_file(handle, str(path))
        return
    yield from _from_stream(source, getattr(source, "name", "<stream>"))


_BOM = b"\xef\xbb\xbf"


def _body(data: bytes | mmap.mmap) -> memoryview:
    """The input without a UTF-8 byte order mark (leading blank lines stay: JSON skips
    them, and NDJSON line numbers count them)."""
    view = memoryview(data)
    return view[3:] if bytes(view[:3]) == _BOM else view


def _first_byte(data: memoryview) -> int:
    found = _NOT_BLANK.search(data[:4096]) or _NOT_BLANK.search(data)
    return data[found.start()] if found is not None else -1


def _first_line(data: memoryview) -> bytes:
    """The first line that is not blank (what tells NDJSON from a whole document)."""
    start = 0
    size = len(data)
    while start < size:
        end = bytes(data[start : start + 65536]).find(b"\n")
        stop = size if end < 0 and start + 65536 >= size else (start + end if end >= 0 else -1)
        if stop < 0:  # a first line longer than 64 KiB: find its end the slow way
            rest = bytes(data[start:]).find(b"\n")
            stop = size if rest < 0 else start + rest
        line = bytes(data[start:stop])
        if line.strip():
            return line
        start = stop + 1
    return b""


def _from_file(handle: IO[bytes], name: str) -> Iterator[ScanEntry]:
    size = handle.seek(0, 2)
    handle.seek(0)
    if size == 0:
        raise InvalidInputError(
            f"{name}: empty file; a scan is a JSON array, a PatternFile or NDJSON"
        )
    data = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
    try:
        yield from _from_buffer(data, name)
    finally:
        # raw entries of a failed decode may still point into the map (the traceback holds
        # them); the map is then released when they are, instead of here
        with contextlib.suppress(BufferError):
            data.close()


def _from_stream(stream: IO[bytes], name: str) -> Iterator[ScanEntry]:
    """A stream is read whole, then exactly like a file (the same rules and messages);
    NDJSON on a pipe is decoded line by line as it arrives."""
    first = stream.readline()
    skipped = 0
    while first and not first.strip(b" \t\r\n" + _BOM):
        skipped += 1
        first = stream.readline()
    if not first:
        raise InvalidInputError(
            f"{name}: empty input; a scan is a JSON array, a PatternFile or NDJSON"
        )
    if _is_ndjson_line(first.removeprefix(_BOM)):
        yield from _ndjson_lines(_chain(first.removeprefix(_BOM), stream), name, skipped)
        return
    yield from _from_whole(first + stream.read(), name)


def _chain(first: bytes, stream: IO[bytes]) -> Iterator[bytes]:
    yield first
    yield from stream


def _is_ndjson_line(line: bytes) -> bool:
    """A first line that is a whole JSON object without `patterns` starts NDJSON."""
    text = line.strip().removeprefix(_BOM)
    if not text.startswith(b"{"):
        return False
    try:
        obj = msgspec.json.decode(text)
    except (msgspec.DecodeError, UnicodeDecodeError, RecursionError):
        # an object line with bad bytes is still a line: let the line reader name it
        return utf8_problem(text) is not None
    return isinstance(obj, dict) and "patterns" not in obj


def _from_buffer(data: mmap.mmap, name: str) -> Iterator[ScanEntry]:
    body = _body(data)
    if _first_byte(body) == ord("{") and _is_ndjson_line(_first_line(body)):
        yield from _ndjson_mapped(data, name)
        return
    yield from _from_whole(body, name)


def _ndjson_mapped(data: mmap.mmap, name: str) -> Iterator[ScanEntry]:
    """NDJSON lines decoded straight from views of the mapped file: no line is read into a
    buffer or copied (a scan's heavy patterns are lines of several MB).

    Pages already decoded are handed back every few MB: mapped pages count as the
    process's memory, and a whole 100 MB scan would otherwise stay resident to the end.
    """
    clean: set[str] = set()
    view = memoryview(data)
    find, size = data.find, len(data)
    start = number = released = 0
    while start < size:
        end = find(b"\n", start)
        if end < 0:
            end = size
        number += 1
        if _NOT_BLANK.search(data, start, end) is not None:
            yield ScanEntry(view[start:end], f"{name}: line {number}", None, clean)
        start = end + 1
        if start - released >= _RELEASE_EVERY and _DONTNEED is not None:
            upto = start - start % mmap.PAGESIZE
            with contextlib.suppress(OSError):  # only a hint: memory, never correctness
                data.madvise(_DONTNEED, released, upto - released)
            released = upto


def _from_whole(data: bytes | memoryview, name: str) -> Iterator[ScanEntry]:
    body = _body(data) if isinstance(data, bytes) else data
    first = _first_byte(body)
    if first == -1:
        raise InvalidInputError(
            f"{name}: empty input; a scan is a JSON array, a PatternFile or NDJSON"
        )
    category: str | None = None
    try:
        if first == ord("["):
            entries = _array_decoder.decode(body)
        elif first == ord("{"):
            head = _file_decoder.decode(body)
            entries, category = head.patterns, head.category
        else:
            raise InvalidInputError(
                f"{name}: not a scan; expected a JSON array, a PatternFile object or NDJSON"
            )
    except msgspec.ValidationError as exc:
        raise InvalidInputError(f"{name}: not a scan ({_what_instead(body, exc)})") from None
    except (msgspec.DecodeError, UnicodeDecodeError) as exc:
        problem = json_problem(body, exc)
        if first == ord("{") and "trailing characters" in str(exc):
            problem = (
                "several JSON objects one after another, each over several lines; NDJSON needs "
                "one whole object per line (or give a JSON array)"
            )
        raise InvalidInputError(f"{name}: {problem}") from None
    except RecursionError:
        raise InvalidInputError(f"{name}: {TOO_DEEP}") from None
    clean: set[str] = set()
    for index, raw in enumerate(entries):
        yield ScanEntry(raw, f"{name}: entry {index}", category, clean)


def _what_instead(body: memoryview, exc: msgspec.ValidationError) -> str:
    """Why an object is not a PatternFile: most often one entry on its own."""
    text = str(exc).replace("`", "")
    if "missing required field" in text and "patterns" in text:
        return (
            "one object without 'patterns': a single entry goes in a JSON array, several "
            "go one whole object per line (NDJSON)"
        )
    return text


def _ndjson_lines(
    lines: IO[bytes] | Iterator[bytes], name: str, skipped: int = 0
) -> Iterator[ScanEntry]:
    clean: set[str] = set()
    for number, line in enumerate(lines, start=1 + skipped):
        if not line.strip():
            continue
        yield ScanEntry(line, f"{name}: line {number}", None, clean)
