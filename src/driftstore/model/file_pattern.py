"""A pattern as one file sees it: what `store.by_file` gives back.

It is a view, not a copy. Its pattern fields are the stored pattern's, shared with the
index that answered (read-only); its locations and outliers in the file are built the
first time either is read. An editor's asks mostly want names, statuses and a few
outliers, and building every Location of every pattern for each file asked was most of
a first ask's time (benchmarks/NOTES.md). `to_pattern()` gives a whole `Pattern`
restricted to the file, to encode or to keep.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Generic, Protocol, TypeVar, overload

import msgspec
from msgspec import Struct, UnsetType

from driftstore.model.effective import Effective
from driftstore.model.enums import ConfidenceLevel, Severity, Status
from driftstore.model.pattern import Confidence, Detector, Location, Metadata, Pattern

#: a pattern's locations in one file, then its outliers there
FileRowLists = tuple[list[Location], list[Location]]
#: a pattern's settings where no variant applies: one shared object per severity, so a
#: view needs none of its own
_PLAIN = {severity: Effective(severity=severity) for severity in Severity}
T = TypeVar("T")


class FileRows(Protocol):
    """Where the views of one answer get their rows: `rows_of(key)` for the view made
    with that key; it may build all of them on the first call."""

    def rows_of(self, key: int) -> FileRowLists: ...


class GivenRows:
    """Rows already read (a fresh read from the store), by key."""

    __slots__ = ("_rows",)

    def __init__(self, rows: dict[int, FileRowLists]) -> None:
        self._rows = rows

    def rows_of(self, key: int) -> FileRowLists:
        return self._rows.get(key) or ([], [])


class _Stored(Generic[T]):
    """A view's attribute read from its stored pattern's attribute of the same name."""

    __slots__ = ("_name",)

    def __set_name__(self, owner: type, name: str) -> None:
        self._name = name

    @overload
    def __get__(self, view: None, owner: type) -> _Stored[T]: ...
    @overload
    def __get__(self, view: FilePattern, owner: type) -> T: ...
    def __get__(self, view: FilePattern | None, owner: type) -> _Stored[T] | T:
        if view is None:
            return self
        value: T = getattr(view.pattern, self._name)
        return value


class FilePattern(Struct, gc=False):
    """One pattern as `file` sees it: every attribute of a `Pattern`, with `locations`
    and `outliers` cut to the file, plus `effective`, its settings there.

    `pattern` is the stored pattern without its rows: `heads[key]`, where `heads` is the
    answering index's list of them as it was for this answer (never changed afterwards: a
    refresh changes a copy). A view holds the list, not the pattern, so making one does
    not touch the pattern's memory (a first ask makes one per pattern touching the file).
    Encode `to_pattern()`, not the view itself (its `source` is not data, so msgspec
    refuses it rather than write something else than a pattern).
    """

    heads: Sequence[Pattern | None]
    key: int
    source: FileRows
    #: the settings variants give the pattern in this file; None: its own (`effective`)
    settings: Effective | None = None
    held: FileRowLists | None = None

    @property
    def effective(self) -> Effective:
        """The pattern's settings in this file (shared with other views: read-only)."""
        settings = self.settings
        return _PLAIN[self.pattern.severity] if settings is None else settings

    @property
    def pattern(self) -> Pattern:
        head = self.heads[self.key]
        assert head is not None  # a view is made for a pattern that has a head
        return head

    # --- this file's rows ---------------------------------------------------------------
    def _rows(self) -> FileRowLists:
        held = self.held
        if held is None:
            held = self.held = self.source.rows_of(self.key)
        return held

    @property
    def locations(self) -> list[Location]:
        return self._rows()[0]

    @property
    def outliers(self) -> list[Location]:
        return self._rows()[1]

    def all_locations(self) -> list[Location]:
        locations, outliers = self._rows()
        return [*locations, *outliers]

    @property
    def location_count(self) -> int:
        return len(self._rows()[0])

    @property
    def outlier_count(self) -> int:
        locations, outliers = self._rows()
        return len(outliers) + sum(1 for loc in locations if loc.is_outlier is True)

    def to_pattern(self) -> Pattern:
        """A whole Pattern (a copy) with only this file's locations and outliers."""
        locations, outliers = self._rows()
        return msgspec.structs.replace(
            self.pattern, locations=list(locations), outliers=list(outliers)
        )

    # --- the stored pattern's fields, read through ---------------------------------------
    id = _Stored[str]()
    category = _Stored[str]()
    subcategory = _Stored[str]()
    name = _Stored[str]()
    description = _Stored[str]()
    status = _Stored[Status]()
    detection_method = _Stored[str | UnsetType]()
    detector = _Stored[Detector]()
    confidence = _Stored[Confidence]()
    confidence_level = _Stored[ConfidenceLevel | UnsetType]()
    metadata = _Stored[Metadata]()
    severity = _Stored[Severity]()
    auto_fixable = _Stored[bool]()
    extras = _Stored[dict[str, Any] | UnsetType]()
    method = _Stored[str]()
    level = _Stored[ConfidenceLevel]()
    tags = _Stored[list[str]]()

    # --- comparing and showing ----------------------------------------------------------
    def __eq__(self, other: object) -> bool:
        """Equal when they show the same: the pattern, its settings and its rows here
        (wherever the rows came from)."""
        if not isinstance(other, FilePattern):
            return NotImplemented
        return (
            self.pattern == other.pattern
            and self.effective == other.effective
            and self._rows() == other._rows()
        )

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return (
            f"FilePattern(id={self.id!r}, name={self.name!r}, status={self.status.value!r}, "
            f"locations={len(self.locations)}, outliers={len(self.outliers)})"
        )
