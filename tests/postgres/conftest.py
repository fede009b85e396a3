"""PostgreSQL-only tests: what a shared store adds (projects, --store, copy, waiting
writers). The behaviour both engines share is tested once, on both, by the facade and CLI
suites (tests/conftest.py: `store_engine`)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest


@pytest.fixture
def url(pg_server_url: str, pg_template: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A database of this test's own on the test server (the environment names no store:
    each test passes it explicitly)."""
    from tests import pg_server

    monkeypatch.delenv("DRIFTSTORE_STORE", raising=False)
    monkeypatch.delenv("DRIFTSTORE_PROJECT", raising=False)
    with pg_server.scratch_database(pg_server_url, template=pg_template) as scratch:
        yield scratch
