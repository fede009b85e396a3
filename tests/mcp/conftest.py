"""A store with decided patterns and outliers, and the anyio backend the MCP client runs on."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

import driftstore
from tests.factories import entry


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def fill(store: driftstore.PatternStore) -> None:
    store.ingest(
        [
            entry("route-async", name="Async route handlers", category="api", score=0.95,
                  files=["src/api/users.ts", "src/api/teams.ts"], outlier_files=["src/api/legacy.ts"]),
            entry("error-wrap", name="Errors go through AppError", category="errors", score=0.8,
                  files=["src/api/users.ts"], outlier_files=["src/api/users.ts", "src/lib/db.ts"]),
            entry("log-json", name="Structured logs", category="logging", score=0.6,
                  files=["src/lib/log.ts"], outlier_files=["src/api/users.ts"]),
            entry("naming", name="kebab-case files", category="structural", score=0.4,
                  files=["src/a-b.ts"]),
        ]
    )  # fmt: skip
    store.approve(["route-async", "error-wrap"], by="ana")
    store.ignore("log-json", by="ana")


@pytest.fixture
def filled(root: Path) -> Iterator[driftstore.PatternStore]:
    with driftstore.open(root) as store:
        fill(store)
        yield store
