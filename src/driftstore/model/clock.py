"""Timestamps in one format everywhere: ISO-8601 UTC with milliseconds, like drift writes."""

from __future__ import annotations

from datetime import UTC, datetime


def now_iso() -> str:
    return format_iso(datetime.now(UTC))


def format_iso(moment: datetime) -> str:
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def parse_iso(text: str) -> datetime:
    """Accepts `Z` or an offset; a naive time is taken as UTC. Raises ValueError."""
    moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment


def normalise_iso(text: str) -> str:
    return format_iso(parse_iso(text))
