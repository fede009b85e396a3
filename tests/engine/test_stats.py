"""The running totals behind `status` always equal a fresh count over the patterns table."""

from __future__ import annotations

import contextlib
import math
from pathlib import Path

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

import driftstore
from driftstore import Confidence, Severity
from driftstore.engine.sqlite.queries import fresh_stats_rows, stats_rows
from tests.factories import make_pattern
from tests.sqlite_access import database


def _same(a: list[tuple], b: list[tuple]) -> bool:  # type: ignore[type-arg]
    a, b = sorted(a), sorted(b)
    return len(a) == len(b) and all(
        x[:6] == y[:6] and math.isclose(x[6], y[6], abs_tol=1e-9) for x, y in zip(a, b, strict=True)
    )


class StatsMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        import tempfile

        self.root = Path(tempfile.mkdtemp())
        self.store = driftstore.open(self.root)
        self.ids: list[str] = []
        self.made = 0

    @rule(
        n=st.integers(1, 3),
        category=st.sampled_from(["api", "auth"]),
        score=st.sampled_from([0.2, 0.6, 0.75, 0.9]),
        files=st.integers(0, 3),
    )
    def add(self, n: int, category: str, score: float, files: int) -> None:
        new = [
            make_pattern(
                f"p{self.made + i}",
                category=category,
                score=score,
                files=[f"f{j}.ts" for j in range(files)],
                outlier_files=["o.ts"] * (files % 2),
            )
            for i in range(n)
        ]
        self.store.add_many(new)
        self.made += n
        self.ids += [p.id for p in new]

    @rule(data=st.data(), move=st.sampled_from(["approve", "ignore"]))
    def decide(self, data: st.DataObject, move: str) -> None:
        if not self.ids:
            return
        pid = data.draw(st.sampled_from(self.ids))
        with contextlib.suppress(driftstore.InvalidStatusTransitionError):
            getattr(self.store, move)(pid)

    @rule(data=st.data(), score=st.sampled_from([0.1, 0.8, 0.95]))
    def update(self, data: st.DataObject, score: float) -> None:
        if not self.ids:
            return
        pid = data.draw(st.sampled_from(self.ids))
        self.store.update(pid, confidence=Confidence(score=score), severity=Severity.ERROR)

    @rule(data=st.data())
    def delete(self, data: st.DataObject) -> None:
        if not self.ids:
            return
        pid = data.draw(st.sampled_from(self.ids))
        self.store.delete(pid)
        self.ids.remove(pid)

    @invariant()
    def totals_match(self) -> None:
        with database(self.store).reader() as conn:
            assert _same(stats_rows(conn), fresh_stats_rows(conn))

    def teardown(self) -> None:
        self.store.close()


TestStats = StatsMachine.TestCase
TestStats.settings = settings(max_examples=15, stateful_step_count=12, deadline=None)
