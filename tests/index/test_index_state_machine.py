"""After any sequence of writes (this process, or another connection), the in-memory
index answers exactly what a fresh SQL query answers."""

from __future__ import annotations

import contextlib
import shutil
import tempfile
from pathlib import Path

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    consumes,
    invariant,
    rule,
)
from msgspec import UNSET

import driftstore
from driftstore import InvalidStatusTransitionError, Location, Pattern, Severity
from tests.factories import make_pattern

FILES = ["a.ts", "src/b.ts", "src\\c.ts", "src/api/d.ts", "src/apiv2/e.ts"]
QUERIES = ["a.ts", "src/b.ts", "src/c.ts", "src/api/d.ts", "src/apiv2/e.ts", "nope.ts"]
IDS = ["p1", "p2", "p3", "p4"]

locations = st.builds(
    Location,
    file=st.sampled_from(FILES),
    line=st.sampled_from([1, 2, 40, 2**25]),
    column=st.sampled_from([0, 3, 9000]),
    is_outlier=st.sampled_from([UNSET, True, False]),
    confidence=st.sampled_from([UNSET, 0.0, 0.41, 1.0]),
    outlier_reason=st.sampled_from([UNSET, "sync handler"]),
    end_line=st.sampled_from([UNSET, 7]),
    snippet=st.sampled_from([UNSET, "x()"]),
)


@st.composite
def patterns(draw: st.DrawFn, pid: str | None = None) -> Pattern:
    p = make_pattern(
        pid or draw(st.sampled_from(IDS)),
        name=draw(st.sampled_from(["one", "two"])),
        severity=draw(st.sampled_from(list(Severity))),
        last_seen=draw(st.sampled_from(["2026-05-01T12:00:00.000Z", "2026-06-01T12:00:00.000Z"])),
    )
    p.locations = draw(st.lists(locations, max_size=6))
    p.outliers = draw(st.lists(locations.map(_as_listed_outlier), max_size=2))
    return p


def _as_listed_outlier(loc: Location) -> Location:
    return Location(
        file=loc.file, line=loc.line, column=loc.column, reason="off", deviation_score=0.5
    )


class IndexMatchesSql(RuleBasedStateMachine):
    variants = Bundle("variants")

    def __init__(self) -> None:
        super().__init__()
        self.dir = Path(tempfile.mkdtemp(prefix="idx-sm-"))
        self.store = driftstore.open(self.dir)
        self.other = driftstore.open(self.dir)  # a second writer: another "process"
        self.asked = 0

    def teardown(self) -> None:
        self.store.close()
        self.other.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    def _ids(self) -> list[str]:
        return [s.id for s in self.store.query().patterns]

    @rule(p=patterns())
    def ingest(self, p: Pattern) -> None:
        self.store.ingest([p])

    @rule(p=patterns())
    def ingest_elsewhere(self, p: Pattern) -> None:
        self.other.ingest([p])

    @rule(data=st.data(), elsewhere=st.booleans())
    def rescan_unchanged(self, data: st.DataObject, elsewhere: bool) -> None:
        """The same evidence with a later last_seen: stored, but no history row."""
        ids = self._ids()
        if ids:
            p = self.store.get(data.draw(st.sampled_from(ids)))
            assert p is not None
            p.metadata.last_seen = data.draw(
                st.sampled_from(["2026-07-01T00:00:00.000Z", "2026-08-01T00:00:00.000Z"])
            )
            (self.other if elsewhere else self.store).ingest([p])

    @rule(data=st.data())
    def update_locations(self, data: st.DataObject) -> None:
        ids = self._ids()
        if ids:
            target = data.draw(st.sampled_from(ids))
            self.store.update(target, locations=data.draw(st.lists(locations, max_size=4)))

    @rule(data=st.data(), elsewhere=st.booleans())
    def delete(self, data: st.DataObject, elsewhere: bool) -> None:
        ids = self._ids()
        if ids:
            (self.other if elsewhere else self.store).delete(data.draw(st.sampled_from(ids)))

    @rule(data=st.data(), elsewhere=st.booleans())
    def decide(self, data: st.DataObject, elsewhere: bool) -> None:
        ids = self._ids()
        if ids:
            writer = self.other if elsewhere else self.store
            with contextlib.suppress(InvalidStatusTransitionError):  # already approved
                writer.approve(data.draw(st.sampled_from(ids)))

    @rule(
        target=variants,
        data=st.data(),
        scope=st.sampled_from(["global", "directory", "file"]),
        enabled=st.none() | st.booleans(),
        severity=st.sampled_from([None, "error", "hint"]),
    )
    def add_variant(
        self, data: st.DataObject, scope: str, enabled: bool | None, severity: str | None
    ) -> int | None:
        ids = self._ids()
        if not ids or (enabled is None and severity is None):
            return None
        path = {"global": None, "directory": "src/api", "file": "a.ts"}[scope]
        v = self.store.add_variant(
            data.draw(st.sampled_from(ids)),
            scope=scope,
            path=path,
            enabled=enabled,
            severity=severity,
        )
        return v.id

    @rule(variant_id=consumes(variants))
    def remove_variant(self, variant_id: int | None) -> None:
        if variant_id is not None and any(v.id == variant_id for v in self.store.variants()):
            self.other.remove_variant(variant_id)

    @invariant()
    def index_equals_sql(self) -> None:
        for f in QUERIES:
            for include in (False, True):
                assert self.store.by_file(f, include_disabled=include) == self.store.by_file(
                    f, include_disabled=include, fresh=True
                ), f
        self.asked += 1


IndexMatchesSql.TestCase.settings = settings(max_examples=25, stateful_step_count=12, deadline=None)
TestIndexMatchesSql = IndexMatchesSql.TestCase
