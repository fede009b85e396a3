"""The parameters of every /v1 operation, declared once: the OpenAPI document renders them
and the routes parse requests with them, so what the document promises is exactly what the
server accepts (a fuzzer checks both directions)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request

import driftstore

#: the longest file path, search text and id the API takes
MAX_PATH = 1024
MAX_TEXT = 256
MAX_ITEMS = 20

#: a file path: segments without '/', '\\' or control characters, none of them '.' or '..'
#: (no lookarounds, so any regex engine and test-data generator reads it)
_C = r"/\\\x00-\x1f\x7f"
_SEGMENT = rf"(?:[^{_C}.][^{_C}]*|\.[^{_C}.][^{_C}]*|\.\.[^{_C}]+)"
FILE_PATH_PATTERN = rf"^{_SEGMENT}(?:/{_SEGMENT})*$"
_FILE_PATH = re.compile(FILE_PATH_PATTERN)

STATUSES = [s.value for s in driftstore.Status]
SEVERITIES = [s.value for s in driftstore.Severity]
SORTS = [prefix + f.value for f in driftstore.SortField for prefix in ("", "-")]


@dataclass(frozen=True)
class Param:
    """One query (or path) parameter: its JSON Schema type and bounds."""

    name: str
    kind: str = "string"  # string | integer | number
    many: bool = False
    choices: list[str] | None = None
    low: float | None = None
    high: float | None = None
    max_length: int = MAX_TEXT
    file_path: bool = False
    doc: str = ""
    where: str = "query"
    extra: dict[str, Any] = field(default_factory=dict)

    def item_schema(self) -> dict[str, Any]:
        if self.kind in ("integer", "number"):
            found: dict[str, Any] = {"type": self.kind}
            if self.low is not None:
                found["minimum"] = self.low
            if self.high is not None:
                found["maximum"] = self.high
            return found
        if self.choices is not None:
            return {"type": "string", "enum": self.choices}
        found = {"type": "string", "minLength": 1, "maxLength": self.max_length, **self.extra}
        if self.file_path:
            found["pattern"] = FILE_PATH_PATTERN
        return found

    def document(self) -> dict[str, Any]:
        schema = self.item_schema()
        if self.many:
            schema = {"type": "array", "items": schema, "maxItems": MAX_ITEMS}
        found: dict[str, Any] = {"name": self.name, "in": self.where, "schema": schema}
        if self.where == "path":
            found["required"] = True
        if self.many:
            found.update(style="form", explode=True)
        if self.doc:
            found["description"] = self.doc
        return found

    def parse_one(self, raw: str) -> Any:
        if self.kind in ("integer", "number"):
            try:
                value: float = int(raw) if self.kind == "integer" else float(raw)
            except ValueError:
                raise HTTPException(400, f"{self.name} must be a {self.kind}") from None
            if (
                value != value
                or (self.low is not None and value < self.low)
                or (self.high is not None and value > self.high)
            ):
                raise HTTPException(400, f"{self.name} must be from {self.low:g} to {self.high:g}")
            return value
        if self.choices is not None and raw not in self.choices:
            raise HTTPException(400, f"{self.name} must be one of {', '.join(self.choices)}")
        if not raw or len(raw) > self.max_length:
            raise HTTPException(400, f"{self.name} must be 1 to {self.max_length} characters")
        if self.file_path and not _FILE_PATH.match(raw):
            raise HTTPException(
                400,
                f"{self.name} {raw[:80]!r} is not a project-relative path (no '.' or '..' "
                "segments, no leading '/', no backslashes or control characters)",
            )
        return raw


def parse(request: Request, params: list[Param]) -> dict[str, Any]:
    """The query parameters `params` declare, checked; anything else is refused."""
    query = request.query_params
    known = {p.name: p for p in params if p.where == "query"}
    for name in query:
        if name not in known:
            raise HTTPException(400, f"unknown query parameter {name[:60]!r}")
    found: dict[str, Any] = {}
    for name, param in known.items():
        values = query.getlist(name)
        if not values:
            continue
        if param.many:
            if len(values) > MAX_ITEMS:
                raise HTTPException(400, f"at most {MAX_ITEMS} values of {name}")
            found[name] = [param.parse_one(v) for v in values]
        elif len(values) > 1:
            raise HTTPException(400, f"give {name} once")
        else:
            found[name] = param.parse_one(values[0])
    return found


def path_value(request: Request, param: Param) -> Any:
    return param.parse_one(str(request.path_params[param.name]))


CATEGORY = Param("category", many=True, choices=sorted(driftstore.CATEGORIES))
STATUS = Param("status", many=True, choices=STATUSES)
FILES = Param("file", many=True, max_length=MAX_PATH, file_path=True, doc="Only these files.")

LIST_PATTERNS = [
    CATEGORY,
    STATUS,
    FILES,
    Param("severity", many=True, choices=SEVERITIES),
    Param("tag", many=True),
    Param("min_confidence", kind="number", low=0, high=1),
    Param("max_confidence", kind="number", low=0, high=1),
    Param("search", doc="Text in name or description (case-insensitive)."),
    Param("sort", choices=SORTS, doc="A field; a leading '-' sorts descending."),
    Param("limit", kind="integer", low=1, high=500),
    Param("cursor", max_length=512, doc="nextCursor of the previous page."),
]
OUTLIERS = [
    STATUS,
    CATEGORY,
    FILES,
    Param("min_severity", choices=SEVERITIES),
    Param("limit", kind="integer", low=1, high=1000),
]
HISTORY = [
    Param("id", doc="One pattern's history (an id or a unique prefix)."),
    Param("since", max_length=64, doc="ISO-8601 time.", extra={"format": "date-time"}),
    Param("limit", kind="integer", low=1, high=500),
]
PATTERN_ID = Param("id", where="path", doc="A pattern id or a unique prefix of one.")
FILE_PATH = Param(
    "path",
    where="path",
    max_length=MAX_PATH,
    file_path=True,
    doc="A file path relative to the project root.",
)
