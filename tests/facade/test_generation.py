"""The store generation: one number that moves with every committed change, from any
process, and says which patterns changed since a given generation."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

import driftstore
from driftstore import InvalidInputError, to_builtins
from tests.conftest import REPO
from tests.factories import make_pattern


def _wait_for(store: driftstore.PatternStore, generation: int, seconds: float = 2.0) -> int:
    deadline = time.monotonic() + seconds
    while store.generation < generation and time.monotonic() < deadline:
        time.sleep(0.001)
    return store.generation


def test_every_kind_of_write_moves_the_generation_by_one(root: Path) -> None:
    (root / "src").mkdir()
    (root / "src" / "a.ts").write_text("const a = 1;\nconst b = 2;\n")
    with driftstore.open(root) as store:
        seen = [store.generation]

        def moved() -> None:
            seen.append(store.generation)
            assert seen[-1] == seen[-2] + 1, seen

        store.add(make_pattern("p1", files=["src/a.ts"]))
        moved()
        store.update("p1", name="renamed")
        moved()
        store.approve("p1")
        moved()
        variant = store.add_variant("p1", scope="file", path="src/a.ts", enabled=False)
        moved()
        assert variant.id is not None
        store.remove_variant(variant.id)
        moved()
        example = store.add_example("p1", "src/a.ts", "1-2")
        moved()
        assert example.id is not None
        store.remove_example(example.id)
        moved()
        store.ingest([make_pattern("p2", files=["src/b.ts"])])
        moved()
        store.delete("p2")
        moved()
        assert to_builtins(store.status())["generation"] == seen[-1]


def test_nothing_changed_means_the_same_generation(root: Path) -> None:
    with driftstore.open(root) as store:
        scan = [make_pattern("p1", files=["a.ts"])]
        store.ingest(scan)
        before = store.generation
        store.ingest([make_pattern("p1", files=["a.ts"])])  # the same evidence, same stamps
        with pytest.raises(InvalidInputError):
            store.ingest([make_pattern("p1"), make_pattern("p1")])  # refused whole
        assert store.generation == before
        store.query()
        store.by_file("a.ts")
        assert store.generation == before


def test_changes_since_names_the_patterns_that_changed(root: Path) -> None:
    with driftstore.open(root) as store:
        store.ingest([make_pattern(f"p{i}", files=[f"f{i}.ts"]) for i in range(5)])
        start = store.generation
        store.approve(["p1", "p3"])
        store.delete("p4")
        changes = store.changes_since(start)
        assert changes.generation == store.generation == start + 2
        assert changes.ids == {"p1", "p3", "p4"}
        assert store.changes_since(store.generation).ids == frozenset()
        backup = store.backup()
        store.approve("p0")
        store.restore(backup)
        after = store.changes_since(start)
        assert after.ids is None  # a restore changes everything
        assert after.generation > start + 3  # and the generation never goes back


def test_another_process_sees_the_generation_move(root: Path) -> None:
    with driftstore.open(root) as store:
        store.ingest([make_pattern("p1", files=["a.ts"])])
        before = store.generation
        assert [p.id for p in store.by_file("a.ts")] == ["p1"]
        script = (
            "import sys, driftstore\n"
            "with driftstore.open(sys.argv[1]) as s:\n"
            "    s.approve('p1', by='other')\n"
            "    print(s.generation)\n"
        )
        done = subprocess.run(
            [sys.executable, "-c", script, str(root)],
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        theirs = int(done.stdout.strip())
        assert theirs == before + 1
        assert _wait_for(store, theirs) == theirs
        assert store.changes_since(before).ids == {"p1"}
        assert store.by_file("a.ts")[0].status == driftstore.Status.APPROVED
