"""Fixtures of the contract suite: one run of every test per engine kit (`kits.KITS`)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from driftstore.engine.base import Engine, MigrationHook, StoreLocation
from tests.engine.contract.kits import KITS, EngineKit


@pytest.fixture(scope="session", params=KITS, ids=[kit.name for kit in KITS])
def kit(request: pytest.FixtureRequest) -> Iterator[EngineKit]:
    chosen: EngineKit = request.param
    with chosen.serve():
        yield chosen


class Stores:
    """Stores of one test, each in a folder of its own under tmp_path; closed at the end."""

    def __init__(self, kit: EngineKit, base: Path) -> None:
        self.kit = kit
        self.base = base
        self._opened: list[Engine] = []
        self._shared: dict[str, Engine] = {}

    def folder(self, name: str = "store") -> Path:
        path = self.base / name
        path.mkdir(exist_ok=True)
        return path

    def location(self, name: str = "store") -> StoreLocation:
        return self.kit.locate(self.folder(name))

    def open(
        self, name: str = "store", *, create: bool = True, on_migration: MigrationHook | None = None
    ) -> Engine:
        engine = self.location(name).open(create=create, on_migration=on_migration)
        self._opened.append(engine)
        return engine

    def once(self, name: str, fill: Callable[[Engine], None]) -> Engine:
        """The store `name`, opened and filled on the first ask of this test (hypothesis
        examples of one test share it)."""
        if name not in self._shared:
            engine = self.open(name)
            fill(engine)
            self._shared[name] = engine
        return self._shared[name]

    def close_all(self) -> None:
        for engine in reversed(self._opened):
            engine.close()
        self._opened.clear()


@pytest.fixture
def stores(kit: EngineKit, tmp_path: Path) -> Iterator[Stores]:
    made = Stores(kit, tmp_path)
    try:
        yield made
    finally:
        made.close_all()


@pytest.fixture
def engine(stores: Stores) -> Engine:
    """A fresh, empty store of the engine under test."""
    return stores.open()
