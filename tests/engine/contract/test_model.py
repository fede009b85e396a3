"""Random batches of writes against a plain in-memory model of the store (hypothesis)."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from driftstore.engine.base import ChangeSet, Engine, PatternWrite, StatusChange, Writer
from driftstore.model.enums import Scope, Status
from driftstore.model.records import Variant
from tests.engine.contract.conftest import Stores
from tests.engine.contract.data import pattern, same_stats

IDS = [f"p{i}" for i in range(6)]
FILES = ["a.ts", "b.ts", "c/d.ts"]
_stores = itertools.count()


@dataclass
class Model:
    #: id -> (name, files, status, last_seen)
    patterns: dict[str, tuple[str, list[str], str, str]] = field(default_factory=dict)
    #: variant id -> pattern id
    variants: dict[int, str] = field(default_factory=dict)


_ids = st.lists(st.sampled_from(IDS), max_size=4)
_step = st.one_of(
    st.tuples(
        st.just("put"),
        st.lists(
            st.tuples(st.sampled_from(IDS), st.lists(st.sampled_from(FILES), max_size=3)),
            min_size=1,
            max_size=4,
        ),
    ),
    st.tuples(st.just("delete"), _ids),
    st.tuples(
        st.just("status"),
        st.lists(st.tuples(st.sampled_from(IDS), st.sampled_from(list(Status))), max_size=3),
    ),
    st.tuples(st.just("touch"), _ids),
    st.tuples(st.just("add variant"), st.sampled_from(IDS)),
    st.tuples(st.just("remove variant"), st.integers(0, 5)),
)


def _apply(w: Writer, model: Model, steps: list[tuple[str, Any]], counter: list[int]) -> set[str]:
    """Run the steps on the writer and the model; returns the ids that changed."""
    changed: set[str] = set()
    for kind, arg in steps:
        if kind == "put":
            writes = []
            for pid, files in arg:
                counter[0] += 1
                name = f"n{counter[0]}"
                kept = model.patterns.get(pid)
                status = kept[2] if kept else "discovered"
                seen = kept[3] if kept else "2026-05-01T12:00:00.000Z"
                writes.append(
                    PatternWrite(
                        pattern(pid, name=name, files=files, status=Status(status), last_seen=seen),
                        None,
                        w.now,
                    )
                )
                model.patterns[pid] = (name, list(files), status, seen)
                changed.add(pid)
            w.put_patterns(writes)
        elif kind == "delete":
            w.delete_patterns(arg)
            for pid in arg:
                if model.patterns.pop(pid, None) is not None:
                    changed.add(pid)
                    model.variants = {v: p for v, p in model.variants.items() if p != pid}
        elif kind == "status":
            w.set_statuses([StatusChange(pid, status, w.now) for pid, status in arg])
            for pid, status in arg:
                if pid in model.patterns:
                    name, files, _, seen = model.patterns[pid]
                    model.patterns[pid] = (name, files, status.value, seen)
                    changed.add(pid)
        elif kind == "touch":
            counter[0] += 1
            stamp = f"2027-01-01T00:00:{counter[0] % 60:02}.000Z"
            w.touch_last_seen([(pid, stamp) for pid in arg])
            for pid in arg:
                if pid in model.patterns:
                    name, files, status, _ = model.patterns[pid]
                    model.patterns[pid] = (name, files, status, stamp)
                    changed.add(pid)
        elif kind == "add variant":
            if arg in model.patterns:
                added = w.add_variant(Variant(pattern_id=arg, scope=Scope.GLOBAL))
                assert added.id is not None and added.id not in model.variants
                model.variants[added.id] = arg
                changed.add(arg)
        elif kind == "remove variant":
            known = sorted(model.variants)
            target = known[arg % len(known)] if known and arg < 4 else 10_000 + arg
            removed = w.remove_variant(target)
            owner = model.variants.pop(target, None)
            assert (removed is None) == (owner is None)
            if owner is not None:
                changed.add(owner)
    return changed


def _check(engine: Engine, model: Model) -> None:
    with engine.read() as r:
        stored = r.patterns()
        assert [p.id for p in stored] == sorted(model.patterns)
        for p in stored:
            name, files, status, seen = model.patterns[p.id]
            assert (p.name, [loc.file for loc in p.locations], p.status.value) == (
                name,
                files,
                status,
            )
            assert p.metadata.last_seen == seen
        assert r.count() == len(model.patterns)
        assert r.existing_ids(IDS) == set(model.patterns)
        for file in FILES:
            expected = sorted(
                pid for pid, (_, files, _, _) in model.patterns.items() for f in files if f == file
            )
            assert sorted(pid for pid, _, _ in r.file_locations(file)) == expected
        assert {v.id: v.pattern_id for v in r.variants()} == model.variants
        assert same_stats(r.stats(), r.fresh_stats())


@settings(max_examples=80)
@given(
    writes=st.lists(st.tuples(st.lists(_step, max_size=4), st.booleans()), min_size=1, max_size=6)
)
def test_random_writes_match_a_model(stores: Stores, writes: list[tuple[list[Any], bool]]) -> None:
    engine = stores.open(f"model{next(_stores)}")
    model = Model()
    counter = [0]
    try:
        for steps, fail in writes:
            before = engine.generation()
            saved = Model(dict(model.patterns), dict(model.variants))
            try:
                with engine.write() as w:
                    changed = _apply(w, model, steps, counter)
                    if fail:
                        raise _Abort
            except _Abort:
                model = saved
                changed = set()
            moved = 1 if changed else 0
            assert engine.generation() == before + moved
            assert engine.changes_since(before) == ChangeSet(before + moved, frozenset(changed))
            _check(engine, model)
    finally:
        engine.close()


class _Abort(Exception):
    pass
