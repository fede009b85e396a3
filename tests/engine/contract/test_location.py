"""StoreLocation: where a store lives, before and after it is opened."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from driftstore.engine.base import Engine, SnapshotInfo
from driftstore.errors import DriftStoreError
from tests.engine.contract.conftest import Stores
from tests.engine.contract.data import content, pattern, put
from tests.engine.contract.kits import EngineKit


def test_a_store_exists_once_opened_with_create(stores: Stores) -> None:
    location = stores.location("fresh")
    assert not location.exists()
    engine = stores.open("fresh")
    assert location.exists()
    assert stores.location("fresh").exists()
    engine.close()
    assert stores.location("fresh").exists()


def test_opening_a_missing_store_without_create_fails_and_creates_nothing(
    stores: Stores,
) -> None:
    location = stores.location("missing")
    with pytest.raises(DriftStoreError) as raised:
        location.open(create=False, on_migration=None)
    assert "\n" not in str(raised.value)
    assert not location.exists()


def test_a_store_reopens_with_what_it_held(stores: Stores) -> None:
    engine = stores.open("kept")
    put(engine, pattern("a", files=["a.ts"]))
    with engine.write() as w:
        w.put_meta("t:k", "v")
    held = content(engine)
    generation = engine.generation()
    engine.close()
    again = stores.open("kept", create=False)
    assert content(again) == held
    assert again.generation() == generation
    assert again.changes_since(generation).ids == frozenset()


def test_describe_names_the_place_without_secrets(stores: Stores, kit: EngineKit) -> None:
    location = stores.location("described")
    text = location.describe()
    assert text and "\n" not in text
    engine = stores.open("described")
    info = engine.info()
    assert info.kind and info.server_version and info.location
    assert info.schema_version >= 1
    if kit.secret is not None:
        assert kit.secret not in text and kit.secret not in info.location
        with pytest.raises(DriftStoreError) as raised:
            stores.location("described-missing").open(create=False, on_migration=None)
        assert kit.secret not in str(raised.value)


def test_the_migration_hook_is_not_called_for_a_fresh_or_current_store(stores: Stores) -> None:
    calls: list[tuple[int, int]] = []

    def hook(old: int, new: int, snapshot: Callable[[Path], SnapshotInfo]) -> None:
        calls.append((old, new))

    engine: Engine = stores.open("hooked", on_migration=hook)
    put(engine, pattern("a"))
    engine.close()
    stores.open("hooked", create=False, on_migration=hook)
    assert calls == []


def test_a_closed_engine_refuses_work(stores: Stores) -> None:
    engine = stores.open("closing")
    engine.close()
    with pytest.raises(DriftStoreError), engine.read() as r:
        r.count()
    with pytest.raises(DriftStoreError), engine.write():
        pass
    engine.close()  # closing twice is harmless
