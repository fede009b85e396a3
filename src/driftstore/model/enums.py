"""Closed vocabularies of the domain, each with the rules that belong to it."""

from __future__ import annotations

from enum import StrEnum


class Status(StrEnum):
    DISCOVERED = "discovered"
    APPROVED = "approved"
    IGNORED = "ignored"


#: the status moves a user may make (formats.md); anything else is refused
ALLOWED_MOVES: frozenset[tuple[Status, Status]] = frozenset(
    {
        (Status.DISCOVERED, Status.APPROVED),
        (Status.DISCOVERED, Status.IGNORED),
        (Status.APPROVED, Status.IGNORED),
        (Status.IGNORED, Status.APPROVED),
    }
)


def can_move(current: Status, target: Status) -> bool:
    return (current, target) in ALLOWED_MOVES


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"
    HINT = "hint"

    @property
    def rank(self) -> int:
        """Higher is more severe: error > warning > info > hint."""
        return _SEVERITY_RANK[self]


_SEVERITY_RANK = {Severity.ERROR: 3, Severity.WARNING: 2, Severity.INFO: 1, Severity.HINT: 0}


class ConfidenceLevel(StrEnum):
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"
    UNCERTAIN = "uncertain"


#: thresholds from formats.md; the one place a level is derived from a score
LEVEL_THRESHOLDS: tuple[tuple[float, ConfidenceLevel], ...] = (
    (0.85, ConfidenceLevel.HIGH),
    (0.70, ConfidenceLevel.MEDIUM),
    (0.50, ConfidenceLevel.LOW),
)


def level_for(score: float) -> ConfidenceLevel:
    for threshold, level in LEVEL_THRESHOLDS:
        if score >= threshold:
            return level
    return ConfidenceLevel.UNCERTAIN


class DetectionMethod(StrEnum):
    """How a detector found a pattern (drift's detector `type`)."""

    AST = "ast"
    REGEX = "regex"
    SEMANTIC = "semantic"
    STRUCTURAL = "structural"
    LEARNING = "learning"
    CUSTOM = "custom"


class Scope(StrEnum):
    GLOBAL = "global"
    DIRECTORY = "directory"
    FILE = "file"


class HistoryAction(StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    APPROVED = "approved"
    IGNORED = "ignored"
    DELETED = "deleted"


#: drift's 15 categories (formats.md)
CATEGORIES: tuple[str, ...] = (
    "api",
    "auth",
    "security",
    "errors",
    "logging",
    "data-access",
    "config",
    "testing",
    "performance",
    "components",
    "styling",
    "structural",
    "types",
    "accessibility",
    "documentation",
)
CATEGORY_SET: frozenset[str] = frozenset(CATEGORIES)
