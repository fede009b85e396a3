"""The pattern filters `list` takes, shared by every command that selects patterns
(`approve` and `ignore` by filter): one set of options, one way to build a PatternFilter."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

from driftstore import CATEGORIES, ConfidenceLevel, PatternFilter, Severity, Status

F = TypeVar("F", bound=Callable[..., Any])

#: option names the decorator adds; `build` consumes them
NAMES = (
    "categories",
    "statuses",
    "files",
    "min_confidence",
    "max_confidence",
    "severities",
    "levels",
    "tags",
    "has_outliers",
    "search",
)


def filter_options(fn: F) -> F:
    options = [
        click.option(
            "--category",
            "categories",
            multiple=True,
            type=click.Choice(sorted(CATEGORIES)),
            help="Only this category (repeatable).",
        ),
        click.option(
            "--status",
            "statuses",
            multiple=True,
            type=click.Choice([s.value for s in Status]),
            help="Only this status (repeatable).",
        ),
        click.option("--file", "files", multiple=True, help="Only patterns touching this file."),
        click.option("--min-confidence", type=click.FloatRange(0, 1), help="Score at least X."),
        click.option("--max-confidence", type=click.FloatRange(0, 1), help="Score at most X."),
        click.option(
            "--severity",
            "severities",
            multiple=True,
            type=click.Choice([s.value for s in Severity]),
            help="Only this severity (repeatable).",
        ),
        click.option(
            "--level",
            "levels",
            multiple=True,
            type=click.Choice([s.value for s in ConfidenceLevel]),
            help="Only this confidence level (repeatable).",
        ),
        click.option(
            "--tag", "tags", multiple=True, help="Has this tag (repeatable: any of them)."
        ),
        click.option(
            "--outliers/--no-outliers", "has_outliers", default=None, help="With/without outliers."
        ),
        click.option("--search", help="Text in name or description (case-insensitive)."),
    ]
    for option in reversed(options):
        fn = option(fn)
    return fn


def build(values: dict[str, Any]) -> PatternFilter:
    """The PatternFilter of the options (popped from `values`)."""
    got = {name: values.pop(name) for name in NAMES}
    return PatternFilter(
        categories=list(got["categories"]) or None,
        statuses=[Status(s) for s in got["statuses"]] or None,
        files=list(got["files"]) or None,
        min_confidence=got["min_confidence"],
        max_confidence=got["max_confidence"],
        severities=[Severity(s) for s in got["severities"]] or None,
        levels=[ConfidenceLevel(s) for s in got["levels"]] or None,
        tags_any=list(got["tags"]) or None,
        has_outliers=got["has_outliers"],
        search=got["search"],
    )


def given(flt: PatternFilter) -> bool:
    """Whether any filter option was used."""
    return any(getattr(flt, name) is not None for name in PatternFilter.__struct_fields__)
