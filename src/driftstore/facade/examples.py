"""Code examples: read from the project's own files, never from outside the project.

Every path goes through the same gate: project-relative, no `..`, not absolute, and after
following links it must still be inside the project root; only regular UTF-8 text files
are read, and only up to a size cap.
"""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path

import msgspec

from driftstore.engine.base import Engine, HistoryRecord
from driftstore.errors import (
    ExampleNotFoundError,
    InvalidInputError,
    PatternNotFoundError,
    Remedy,
)
from driftstore.model.enums import HistoryAction
from driftstore.model.paths import safe_relative_path
from driftstore.model.pattern import Location
from driftstore.model.records import Example

#: an example is a snippet, not a file: at most this many lines and bytes
MAX_EXAMPLE_LINES = 200
MAX_EXAMPLE_BYTES = 64 * 1024
#: files bigger than this are not opened for examples at all
MAX_SOURCE_BYTES = 8 * 1024 * 1024

_RANGE = re.compile(r"^\s*(\d+)\s*(?:-\s*(\d+)\s*)?$")

LANGUAGES: dict[str, str] = {
    ".ts": "typescript",
    ".tsx": "tsx",
    ".mts": "typescript",
    ".cts": "typescript",
    ".js": "javascript",
    ".jsx": "jsx",
    ".mjs": "javascript",
    ".cjs": "javascript",
    ".py": "python",
    ".pyi": "python",
    ".rs": "rust",
    ".go": "go",
    ".java": "java",
    ".kt": "kotlin",
    ".kts": "kotlin",
    ".scala": "scala",
    ".rb": "ruby",
    ".php": "php",
    ".cs": "csharp",
    ".fs": "fsharp",
    ".c": "c",
    ".h": "c",
    ".cc": "cpp",
    ".cpp": "cpp",
    ".cxx": "cpp",
    ".hpp": "cpp",
    ".swift": "swift",
    ".m": "objective-c",
    ".dart": "dart",
    ".lua": "lua",
    ".sh": "bash",
    ".bash": "bash",
    ".zsh": "zsh",
    ".ps1": "powershell",
    ".sql": "sql",
    ".html": "html",
    ".htm": "html",
    ".css": "css",
    ".scss": "scss",
    ".less": "less",
    ".vue": "vue",
    ".svelte": "svelte",
    ".json": "json",
    ".yaml": "yaml",
    ".yml": "yaml",
    ".toml": "toml",
    ".xml": "xml",
    ".md": "markdown",
    ".graphql": "graphql",
    ".prisma": "prisma",
    ".tf": "hcl",
}


def language_for(path: str) -> str | None:
    """The language name editors and markdown fences use, from the file extension."""
    return LANGUAGES.get(os.path.splitext(path)[1].lower())


def parse_lines(lines: str | tuple[int, int]) -> tuple[int, int]:
    """`12-20` or `12` (or a (start, end) pair) -> checked (start, end), 1-based, inclusive."""
    if isinstance(lines, tuple):
        start, end = lines
    else:
        match = _RANGE.match(lines)
        if match is None:
            raise InvalidInputError(
                f"lines {lines!r} is not a range; give START-END like 12-20 (or one line: 12)"
            )
        start = int(match.group(1))
        end = int(match.group(2) or start)
    if start < 1 or end < start:
        raise InvalidInputError(
            f"lines {start}-{end} is not a range; lines start at 1 and END must not be before START"
        )
    if end - start + 1 > MAX_EXAMPLE_LINES:
        raise InvalidInputError(
            f"lines {start}-{end} is {end - start + 1} lines; an example holds at most "
            f"{MAX_EXAMPLE_LINES}: pick the lines that show the pattern"
        )
    return start, end


def open_project_file(root: Path, relative: str) -> tuple[str, Path]:
    """(normalised relative path, real path) of a regular file inside the project, or
    InvalidInputError saying why not."""
    rel = safe_relative_path(relative, what="file")
    base = root.resolve()
    try:
        real = (base / rel).resolve(strict=True)
    except FileNotFoundError:
        raise InvalidInputError(
            f"file {relative!r} does not exist in the project; give a path relative to the "
            "project root"
        ) from None
    except (OSError, RuntimeError) as exc:
        raise InvalidInputError(f"file {relative!r} cannot be opened ({exc})") from None
    if not real.is_relative_to(base):
        raise InvalidInputError(
            f"file {relative!r} leads outside the project through a link; examples are read "
            "only from files inside the project root"
        )
    try:
        info = real.stat()
    except OSError as exc:
        raise InvalidInputError(f"file {relative!r} cannot be read ({exc.strerror})") from None
    if not stat.S_ISREG(info.st_mode):
        raise InvalidInputError(f"file {relative!r} is not a regular file")
    if info.st_size > MAX_SOURCE_BYTES:
        raise InvalidInputError(
            f"file {relative!r} is {info.st_size} bytes; examples are read only from files "
            f"up to {MAX_SOURCE_BYTES} bytes"
        )
    return rel, real


def _text_lines(real: Path, relative: str) -> list[str]:
    """The lines of a UTF-8 text file, opened without following a final link (the path
    was resolved already, so a link appearing now is a swap and is refused)."""
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0)
    try:
        fd = os.open(real, flags)
    except OSError as exc:
        raise InvalidInputError(f"file {relative!r} cannot be read ({exc.strerror})") from None
    with os.fdopen(fd, "rb") as handle:
        data = handle.read(MAX_SOURCE_BYTES + 1)
    if b"\x00" in data:
        raise InvalidInputError(f"file {relative!r} is binary; examples are text")
    try:
        return data.decode("utf-8").splitlines()
    except UnicodeDecodeError:
        raise InvalidInputError(f"file {relative!r} is not UTF-8 text") from None


def _cut(lines: list[str], start: int, end: int, relative: str) -> str:
    code = "\n".join(lines[start - 1 : end])
    if len(code.encode("utf-8")) > MAX_EXAMPLE_BYTES:
        raise InvalidInputError(
            f"lines {start}-{end} of {relative!r} hold more than {MAX_EXAMPLE_BYTES} bytes; "
            "pick fewer lines"
        )
    return code


def read_example(
    root: Path, pattern_id: str, file: str, lines: str | tuple[int, int], *, positive: bool
) -> Example:
    start, end = parse_lines(lines)
    rel, real = open_project_file(root, file)
    lines_of_file = _text_lines(real, file)
    if end > len(lines_of_file):
        raise InvalidInputError(
            f"lines {start}-{end} are past the end of {file!r}, which has "
            f"{len(lines_of_file)} lines"
        )
    code = _cut(lines_of_file, start, end, file)
    return Example(
        pattern_id=pattern_id,
        file=rel,
        code=code,
        line_start=start,
        line_end=end,
        is_positive=positive,
        language=language_for(rel),
    )


def _summary(example: Example) -> dict[str, object]:
    """An example as history keeps it: everything but the code."""
    summary: dict[str, object] = msgspec.to_builtins(example)
    summary.pop("code", None)
    return summary


def add_example(engine: Engine, example: Example, *, by: str | None = None) -> Example:
    """Store it with its history row (action updated, reason 'example added')."""
    with engine.write() as w:
        if not w.existing_ids([example.pattern_id]):
            raise PatternNotFoundError(example.pattern_id)
        stored = w.add_example(example)
        w.record_history(
            [
                HistoryRecord(
                    example.pattern_id,
                    HistoryAction.UPDATED,
                    None,
                    {"example": _summary(stored)},
                    w.now,
                    by,
                    "example added",
                )
            ]
        )
    return stored


def remove_example(engine: Engine, example_id: int, *, by: str | None = None) -> Example:
    with engine.write() as w:
        stored = w.remove_example(example_id)
        if stored is None:
            raise ExampleNotFoundError(
                f"example {example_id} not found", remedy=Remedy.LIST_EXAMPLES
            )
        w.record_history(
            [
                HistoryRecord(
                    stored.pattern_id,
                    HistoryAction.UPDATED,
                    {"example": _summary(stored)},
                    None,
                    w.now,
                    by,
                    "example removed",
                )
            ]
        )
    return stored


def fresh_examples(
    root: Path, pattern_id: str, locations: list[Location], *, limit: int, context: int
) -> list[Example]:
    """Up to `limit` examples cut from the project around the given locations, `context`
    lines either side: first one per file, then more from files already used, never two
    overlapping windows. Files that are missing, unreadable, binary or outside the project
    are skipped."""
    if limit < 0 or context < 0:
        raise InvalidInputError("max and context must be 0 or more")
    ordered = sorted(locations, key=lambda loc: (loc.file, loc.line))
    firsts: dict[str, Location] = {}
    for loc in ordered:
        firsts.setdefault(loc.file, loc)
    rest = [loc for loc in ordered if firsts[loc.file] is not loc]
    found: list[Example] = []
    taken: dict[str, list[tuple[int, int]]] = {}
    unreadable: set[str] = set()
    cache: dict[str, tuple[str, list[str]]] = {}
    for loc in [*firsts.values(), *rest]:
        if len(found) >= limit:
            break
        if loc.file in unreadable:
            continue
        start, end = max(1, loc.line - context), loc.line + context
        if any(a <= end and start <= b for a, b in taken.get(loc.file, [])):
            continue
        try:
            if loc.file not in cache:
                rel, real = open_project_file(root, loc.file)
                cache[loc.file] = (rel, _text_lines(real, loc.file))
            rel, lines = cache[loc.file]
        except InvalidInputError:
            unreadable.add(loc.file)
            continue
        if start > len(lines):
            continue
        end = min(end, len(lines))
        try:
            code = _cut(lines, start, end, rel)
        except InvalidInputError:
            continue
        taken.setdefault(loc.file, []).append((start, end))
        found.append(
            Example(
                pattern_id=pattern_id,
                file=rel,
                code=code,
                line_start=start,
                line_end=end,
                is_positive=True,
                language=language_for(rel),
            )
        )
    return found
