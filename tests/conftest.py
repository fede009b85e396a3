"""Fixtures shared by every test layer."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

import driftstore
from tests.factories import make_pattern

settings.register_profile(
    "default",
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
settings.register_profile("soak", max_examples=2000, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"
REAL_DRIFT = SHARED / "data" / "real-drift"


# --- both engines ----------------------------------------------------------------------------
#: the suites that run once per engine: every test in them opens its store through
#: `driftstore.open` (or the CLI), which DRIFTSTORE_STORE points at PostgreSQL for the
#: second run; a test about SQLite's file itself is marked `sqlite_only` and not generated
#: for PostgreSQL
BOTH_ENGINES = ("facade", "cli", "ci", "variants", "examples", "index")
ENGINES = ("sqlite", "postgresql")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "sqlite_only: a test of SQLite's own file, not run on PostgreSQL"
    )
    config.addinivalue_line(
        "markers", "engine_free: opens no store, so it runs once (with SQLite's parameter)"
    )


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "store_engine" in metafunc.fixturenames:
        metafunc.parametrize("store_engine", ENGINES, indirect=True)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    kept, dropped = [], []
    for item in items:
        callspec = getattr(item, "callspec", None)
        engine = callspec.params.get("store_engine") if callspec is not None else None
        if engine == "postgresql" and (
            item.get_closest_marker("sqlite_only") or item.get_closest_marker("engine_free")
        ):
            dropped.append(item)
        else:
            kept.append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept


@pytest.fixture(scope="session")
def pg_server_url() -> Iterator[str]:
    """A PostgreSQL server for the run (tests.pg_server); a missing one fails the test."""
    from tests import pg_server

    try:
        with pg_server.server() as url:
            yield url
    except pg_server.NoServer as exc:
        pytest.fail(str(exc))


@pytest.fixture(scope="session")
def pg_template(pg_server_url: str) -> Iterator[str]:
    """A database holding driftstore's schema and no project: each test's own database is
    a copy of it (a copy costs ~40 ms; creating the schema ~400 ms)."""
    from tests import pg_server

    with pg_server.template_database(pg_server_url) as name:
        yield name


@pytest.fixture
def store_engine(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Which engine `driftstore.open` (and every CLI process the test starts) gives this
    test. PostgreSQL: a database of the test's own, so projects are named after their
    folders as a user's are, and no test sees another's."""
    # a unittest-style class (hypothesis' state machines) is not parametrised: SQLite
    kind: str = getattr(request, "param", "sqlite")
    monkeypatch.delenv("DRIFTSTORE_PROJECT", raising=False)
    if kind == "postgresql":
        from tests import pg_server

        server = request.getfixturevalue("pg_server_url")
        template = request.getfixturevalue("pg_template")
        with pg_server.scratch_database(server, template=template) as url:
            monkeypatch.setenv("DRIFTSTORE_STORE", url)
            yield kind
    else:
        monkeypatch.delenv("DRIFTSTORE_STORE", raising=False)
        yield kind


@pytest.fixture
def on_both_engines(store_engine: str) -> str:
    """Made autouse by the conftest of each suite in BOTH_ENGINES: every test there runs
    once per engine."""
    return store_engine


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """An empty project folder (named after the test: a shared store names projects after
    their folders)."""
    project = tmp_path / f"project-{tmp_path.name}"
    project.mkdir()
    return project


@pytest.fixture
def store(root: Path) -> Iterator[driftstore.PatternStore]:
    with driftstore.open(root) as opened:
        yield opened


__all__ = ["REAL_DRIFT", "REPO", "SHARED", "make_pattern"]
