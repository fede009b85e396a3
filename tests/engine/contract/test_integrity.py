"""Checks: a healthy store passes every one; a value changed behind the engine's back is
reported, never served, and never blessed with a new digest."""

from __future__ import annotations

import pytest

from driftstore.engine.base import Engine, StatusChange
from driftstore.errors import IntegrityError
from driftstore.model.enums import Scope, Status
from driftstore.model.records import Example, Variant
from tests.engine.contract.data import as_stored, pattern, put, rich_pattern
from tests.engine.contract.kits import EngineKit


def _fill(engine: Engine) -> None:
    put(engine, rich_pattern("good"), rich_pattern("bad", category="auth"), pattern("p"))
    with engine.write() as w:
        w.add_variant(Variant(pattern_id="bad", scope=Scope.GLOBAL))
        w.add_example(Example(pattern_id="good", file="a.ts", code="x"))


def test_a_healthy_store_passes_every_check(engine: Engine) -> None:
    _fill(engine)
    assert engine.check_integrity() == []
    with engine.read() as r:
        r.require_intact()
        assert r.row_problems() == []
    with engine.write() as w:  # inside a write too
        w.require_intact()
        assert w.row_problems() == []


def test_a_damaged_value_is_reported_and_never_served(engine: Engine, kit: EngineKit) -> None:
    _fill(engine)
    kit.damage_value(engine, "bad")
    with engine.read() as r:
        problems = r.row_problems()
    assert problems and any("'bad'" in line for line in problems)
    assert not any("'good'" in line for line in problems)
    assert all("\n" not in line for line in problems)
    with pytest.raises(IntegrityError), engine.read() as r:
        r.require_intact()
    with pytest.raises(IntegrityError), engine.read() as r:
        r.pattern("bad")
    with pytest.raises(IntegrityError), engine.read() as r:
        r.patterns()
    with engine.read() as r:  # the rest of the store still reads
        assert r.pattern("good") == as_stored(rich_pattern("good"))
        assert [p.id for p in r.patterns(["p", "good"])] == ["p", "good"]
        assert r.count() == 3
    # the database's own checks see nothing wrong: the damage is in a value
    assert engine.check_integrity() == []


@pytest.mark.parametrize("how", ["status", "touch"])
def test_a_write_never_gives_a_damaged_row_a_new_digest(
    engine: Engine, kit: EngineKit, how: str
) -> None:
    _fill(engine)
    kit.damage_value(engine, "bad")
    generation = engine.generation()
    with pytest.raises(IntegrityError), engine.write() as w:
        if how == "status":
            w.set_statuses([StatusChange("bad", Status.APPROVED, w.now, "ana")])
        else:
            w.touch_last_seen([("bad", w.now)])
    assert engine.generation() == generation
    with engine.read() as r:
        assert any("'bad'" in line for line in r.row_problems())


def test_rewriting_a_damaged_pattern_whole_repairs_it(engine: Engine, kit: EngineKit) -> None:
    _fill(engine)
    kit.damage_value(engine, "bad")
    put(engine, rich_pattern("bad", category="auth"))
    with engine.read() as r:
        assert r.row_problems() == []
        assert r.pattern("bad") == as_stored(rich_pattern("bad", category="auth"))
