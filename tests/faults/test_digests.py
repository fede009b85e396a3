"""The digests stored beside every row (`engine.integrity`): every write path keeps them
right, any single changed value is named, and the reads of one pattern check them."""

from __future__ import annotations

import contextlib
import shutil
import tempfile
from pathlib import Path
from typing import Any

import apsw
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule
from msgspec import UNSET

import driftstore
from driftstore import InvalidStatusTransitionError, Location, Pattern, Status, to_builtins
from driftstore.engine import digests
from driftstore.engine.rows import (
    INSERT_LOCATION,
    PATTERN_COLUMNS,
    location_rows,
    pattern_row,
)
from driftstore.engine.sqlite import integrity
from driftstore.engine.sqlite.migrations import MIGRATIONS
from driftstore.model.digest import content_hash
from tests.conftest import REAL_DRIFT
from tests.factories import make_pattern
from tests.formats import strategies as fs
from tests.sqlite_access import database

#: a pattern row as schemas before 3 wrote it (no digests)
INSERT_PATTERN = (
    f"INSERT INTO patterns ({', '.join(PATTERN_COLUMNS)}) "
    f"VALUES ({', '.join('?' * len(PATTERN_COLUMNS))})"
)

LINES = "".join(f"line {n}\n" for n in range(1, 30))
IDS = [f"{n:016x}" for n in range(6)]


def _problems(store: driftstore.PatternStore) -> list[str]:
    with database(store).reader() as conn:
        return integrity.digest_problems(conn)


def _odd_numbers(p: Pattern, draw: Any) -> Pattern:
    """Values whose stored form differs from what Python holds: -0.0 (SQLite keeps 0.0),
    an int where a REAL column is (kept as a float)."""
    for loc in p.locations[:2]:
        loc.confidence = draw(st.sampled_from([-0.0, 0.0, 1, 1.0, 0.5]))
    if p.outliers:
        p.outliers[0].deviation_score = draw(st.sampled_from([-0.0, 1, 0.25]))
    p.confidence.frequency = draw(st.sampled_from([-0.0, 1, 0.3]))
    return p


@st.composite
def stored_patterns(draw: st.DrawFn) -> Pattern:
    p = draw(fs.patterns())
    p.id = draw(st.sampled_from(IDS))
    return _odd_numbers(p, draw)


class Writes(RuleBasedStateMachine):
    """Random sequences of every kind of write; the digests always match what is stored."""

    def __init__(self) -> None:
        super().__init__()
        self.tmp = Path(tempfile.mkdtemp(prefix="driftstore-digests-"))
        self.root = self.tmp / "project"
        (self.root / "src").mkdir(parents=True)
        (self.root / "src" / "ex.ts").write_text(LINES)
        self.store = driftstore.open(self.root)
        self.backup_id: str | None = None

    def teardown(self) -> None:
        self.store.close()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def _stored(self) -> list[str]:
        return [s.id for s in self.store.query(limit=None).patterns]

    @rule(p=stored_patterns())
    def add(self, p: Pattern) -> None:
        with contextlib.suppress(driftstore.PatternAlreadyExistsError):
            self.store.add(p)

    @rule(data=st.data(), fresh=st.lists(stored_patterns(), max_size=3), prune=st.booleans())
    def ingest(self, data: st.DataObject, fresh: list[Pattern], prune: bool) -> None:
        """New, changed and unchanged patterns, one of them seen again later (last_seen)."""
        scan = {p.id: p for p in fresh}
        for pid in self._stored()[:2]:
            again = self.store.require(pid)
            again.metadata.last_seen = data.draw(
                st.sampled_from(["2027-01-01T00:00:00.000Z", "2027-02-01T00:00:00.000Z"])
            )
            scan[pid] = again
        with contextlib.suppress(driftstore.InvalidInputError):
            self.store.ingest(list(scan.values()), prune=prune)

    @rule(data=st.data())
    def update(self, data: st.DataObject) -> None:
        ids = self._stored()
        if not ids:
            return
        pid = data.draw(st.sampled_from(ids))
        field = data.draw(st.sampled_from(["name", "locations", "confidence", "status"]))
        value: Any
        if field == "name":
            value = data.draw(fs.texts.filter(str.strip))
        elif field == "locations":
            value = data.draw(st.lists(fs.locations(), max_size=3))
            for loc in value[:1]:
                loc.confidence = -0.0
        elif field == "confidence":
            value = self.store.require(pid).confidence
            value.score = data.draw(st.sampled_from([1, 0.0, -0.0, 0.75]))
        else:
            value = data.draw(st.sampled_from(list(Status)))
        with contextlib.suppress(InvalidStatusTransitionError, driftstore.InvalidInputError):
            self.store.update(pid, **{field: value})

    @rule(data=st.data())
    def decide_or_delete(self, data: st.DataObject) -> None:
        ids = self._stored()
        if not ids:
            return
        pid = data.draw(st.sampled_from(ids))
        action = data.draw(st.sampled_from(["approve", "ignore", "delete"]))
        with contextlib.suppress(InvalidStatusTransitionError):
            if action == "delete":
                self.store.delete(pid, by="tester")
            else:
                getattr(self.store, action)(pid, by=data.draw(st.sampled_from([None, "ana"])))

    @rule(data=st.data())
    def variants_and_examples(self, data: st.DataObject) -> None:
        ids = self._stored()
        if not ids:
            return
        pid = data.draw(st.sampled_from(ids))
        kind = data.draw(st.sampled_from(["variant", "example", "remove"]))
        if kind == "variant":
            self.store.add_variant(
                pid,
                scope="directory",
                path="src",
                severity=data.draw(st.sampled_from(["error", "warning"])),
                threshold=data.draw(st.sampled_from([None, 1, 0.5, -0.0])),
                config=data.draw(st.sampled_from([None, {"max": 3, "ratio": 1.0}])),
            )
        elif kind == "example":
            self.store.add_example(pid, "src/ex.ts", "2-4", bad=data.draw(st.booleans()))
        else:
            for v in self.store.variants(pid)[:1]:
                assert v.id is not None
                self.store.remove_variant(v.id)
            for e in self.store.examples(pid)[:1]:
                assert e.id is not None
                self.store.remove_example(e.id)

    @rule(data=st.data())
    def export_change_import(self, data: st.DataObject) -> None:
        """A shard import that updates patterns, variants and examples back."""
        out = self.tmp / "out"
        shutil.rmtree(out, ignore_errors=True)
        self.store.export(out)
        ids = self._stored()
        if not ids:
            return  # an empty store exports no shard
        pid = data.draw(st.sampled_from(ids))
        self.store.update(pid, name="changed before the import")
        self.store.add_variant(pid, scope="global", enabled=False)
        self.store.import_(out)

    @rule()
    def backup_then_restore(self) -> None:
        if self.backup_id is None:
            self.backup_id = self.store.backup("state machine")
        else:
            self.store.restore(self.backup_id)
            self.backup_id = None

    @invariant()
    def every_digest_matches(self) -> None:
        assert _problems(self.store) == []


Writes.TestCase.settings = settings(
    max_examples=15,
    stateful_step_count=10,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
TestWrites = Writes.TestCase


def test_a_legacy_migration_of_real_drift_data_is_digested(tmp_path: Path) -> None:
    for project in sorted(p for p in REAL_DRIFT.iterdir() if p.is_dir()):
        root = tmp_path / project.name
        shutil.copytree(project, root)
        with driftstore.open(root) as store:
            report = store.migrate()
            assert report.imported > 0
            assert _problems(store) == [] and store.verify().ok


# --- any single changed value is named -------------------------------------------------
@pytest.fixture(scope="module")
def varied(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store holding every kind of row, each with awkward values."""
    root = tmp_path_factory.mktemp("varied") / "project"
    (root / "src").mkdir(parents=True)
    (root / "src" / "ex.ts").write_text(LINES)
    with driftstore.open(root) as store:
        for n, pid in enumerate(IDS[:4]):
            p = make_pattern(pid, files=[f"src/f{n}.ts", "src/日付/ü.ts"], tags=["api", "ü"])
            p.extras = {"xKept": {"nested": [1, 2.5e-7, None]}}
            p.locations[0].is_outlier = bool(n % 2)
            p.locations[0].confidence = 0.1 + 0.2
            p.locations[1].extras = {"xCol": n}
            p.locations[1].end_line, p.locations[1].snippet = 9, "let x = 1 // é"
            p.outliers = [
                Location(file="lib\\old.ts", line=3, column=2, reason="off", deviation_score=1.0)
            ]
            store.add(p)
        store.approve(IDS[0], by="ana")
        store.add_variant(IDS[1], scope="directory", path="src", threshold=0.5, config={"a": 1})
        store.add_example(IDS[2], "src/ex.ts", "1-3")
    return root / ".drift" / "drift.db"


_SKIP = {"id", "pattern_id"}  # keys: changing one moves a row to another pattern
_COLUMNS = {
    "patterns": [c for c in digests.DIGESTED["patterns"] if c not in _SKIP]
    + ["row_digest", "rows_digest"],
    "pattern_locations": [c for c in digests.DIGESTED["pattern_locations"] if c not in _SKIP],
    "pattern_variants": [c for c in digests.VARIANT_COLUMNS if c not in _SKIP] + ["row_digest"],
    "pattern_examples": [c for c in digests.EXAMPLE_COLUMNS if c not in _SKIP] + ["row_digest"],
    "pattern_history": [c for c in digests.HISTORY_COLUMNS if c not in _SKIP] + ["row_digest"],
}
new_values = (
    st.none()
    | st.integers(-(2**63), 2**63 - 1)
    | st.floats(allow_nan=False)
    | fs.texts
    | st.binary(max_size=6)
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), value=new_values)
def test_any_single_changed_value_is_named_by_verify(
    varied: Path, tmp_path_factory: pytest.TempPathFactory, data: st.DataObject, value: Any
) -> None:
    copy = tmp_path_factory.mktemp("changed") / "drift.db"
    shutil.copyfile(varied, copy)
    conn = apsw.Connection(str(copy))
    try:
        table = data.draw(st.sampled_from(sorted(_COLUMNS)))
        column = data.draw(st.sampled_from(_COLUMNS[table]))
        rows = (
            conn.execute(f"SELECT rowid, pattern_id FROM {table}").fetchall()
            if (table != "patterns")
            else conn.execute("SELECT rowid, id FROM patterns").fetchall()
        )
        rowid, pid = data.draw(st.sampled_from(rows))
        look = f"SELECT typeof({column}), quote({column}) FROM {table} WHERE rowid = ?"
        before = conn.execute(look, (rowid,)).fetchall()
        try:
            conn.execute(f"UPDATE {table} SET {column} = ? WHERE rowid = ?", (value, rowid))
        except apsw.ConstraintError:
            assume(False)
        assume(conn.execute(look, (rowid,)).fetchall() != before)
        problems = integrity.digest_problems(conn)
    finally:
        conn.close()
    assert len(problems) == 1, problems
    [found] = problems
    if table == "patterns":
        named = f"pattern {pid!r}"
        if column == "rows_digest":
            named = f"the locations of pattern {pid!r}"
    elif table == "pattern_locations":
        named = f"the locations of pattern {pid!r}"
    else:
        named = f"{table} row {rowid} (pattern {pid!r})"
    assert found.startswith(named + " "), (found, named)
    assert "restore" in found


# --- reads that check ------------------------------------------------------------------
def _edited(varied: Path, tmp_path: Path, sql: str) -> Path:
    root = tmp_path / "project"
    shutil.copytree(varied.parent.parent, root)
    conn = apsw.Connection(str(root / ".drift" / "drift.db"))
    conn.execute(sql)
    conn.close()
    return root


def test_reads_of_a_changed_pattern_fail_in_one_line_listings_do_not(
    varied: Path, tmp_path: Path
) -> None:
    pid = IDS[1]
    root = _edited(
        varied,
        tmp_path,
        f"UPDATE pattern_locations SET line = line + 1 WHERE id = "
        f"(SELECT min(id) FROM pattern_locations WHERE pattern_id = '{pid}')",
    )
    with driftstore.open(root) as store:
        for read in (
            lambda: store.get(pid),
            lambda: to_builtins(store.describe(pid)),
            lambda: store.examples_for(pid),
        ):
            with pytest.raises(driftstore.IntegrityError) as caught:
                read()
            message = str(caught.value)
            assert "damaged" in message and "restore a backup" in message
            assert f"the locations of pattern '{pid}'" in message and "\n" not in message
        assert store.get(IDS[0]) is not None  # other patterns read as before
        assert len(store.query(limit=None).patterns) == 4  # listings do not check
        assert not store.verify().ok


@pytest.mark.parametrize(
    ("sql", "read"),
    [
        ("UPDATE pattern_history SET changed_by = 'mallory' WHERE id = 1", "history"),
        ("UPDATE pattern_variants SET threshold_override = 0.9", "variants"),
        ("UPDATE pattern_examples SET code = 'evil()'", "examples"),
    ],
)
def test_history_variants_and_examples_are_checked_when_read(
    varied: Path, tmp_path: Path, sql: str, read: str
) -> None:
    root = _edited(varied, tmp_path, sql)
    with (
        driftstore.open(root) as store,
        pytest.raises(driftstore.IntegrityError, match="does not match the digest"),
    ):
        if read == "examples":
            store.examples(IDS[2])
        else:
            getattr(store, read)()


def test_export_refuses_damaged_rows_and_writes_no_file(varied: Path, tmp_path: Path) -> None:
    root = _edited(varied, tmp_path, f"UPDATE patterns SET name = 'x' WHERE id = '{IDS[3]}'")
    out = tmp_path / "out"
    with (
        driftstore.open(root) as store,
        pytest.raises(driftstore.IntegrityError, match=r"nothing was exported"),
    ):
        store.export(out)
    assert not list(out.rglob("*.json"))


# --- how digests are computed ----------------------------------------------------------
def test_the_affinities_hashed_are_the_schemas(tmp_path: Path) -> None:
    with driftstore.open(tmp_path) as store, database(store).reader() as conn:
        for table, columns in digests.DIGESTED.items():
            declared = {row[1]: row[2] for row in conn.execute(f"PRAGMA table_info({table})")}
            for name in columns:
                kind = declared[name]
                assert (name in digests.REAL_COLUMNS) == (kind == "REAL"), (table, name)
                assert (name in digests.INTEGER_COLUMNS) == (kind == "INTEGER"), (table, name)


def test_a_row_digest_is_what_sqlite_gives_back(tmp_path: Path) -> None:
    """A write hashes the values it binds as the column will hold them."""
    conn = apsw.Connection(str(tmp_path / "t.db"))
    conn.execute("CREATE TABLE t (r REAL, i INTEGER, s TEXT)")
    for bound in [(1, 2.0, "x"), (-0.0, True, None), (0.5, 2**62 + 1.0, "y"), (None, 3.5, "")]:
        conn.execute("DELETE FROM t")
        conn.execute("INSERT INTO t VALUES (?, ?, ?)", bound)
        back = conn.execute("SELECT r, i, s FROM t").fetchall()[0]
        values = [None] * len(digests.DIGESTED["patterns"])
        real = digests.DIGESTED["patterns"].index("confidence_score")
        whole = digests.DIGESTED["patterns"].index("confidence_age")
        values[real], values[whole] = bound[0], bound[1]
        got = digests.as_stored("patterns", values)
        assert (got[real], got[whole]) == (back[0], back[1])
        assert type(got[real]) is type(back[0]) and type(got[whole]) is type(back[1])


def test_rows_with_negative_zero_hash_as_stored() -> None:
    p = make_pattern("z", files=["a.ts", "b.ts"])
    p.locations[0].confidence = -0.0
    stored = make_pattern("z", files=["a.ts", "b.ts"])
    stored.locations[0].confidence = 0.0
    assert digests.rows_digest(location_rows(p)) == digests.rows_digest(location_rows(stored))
    assert p.locations[1].confidence is UNSET


def test_opening_a_store_of_schema_2_fills_the_digests_after_a_backup(tmp_path: Path) -> None:
    root = tmp_path / "project"
    (root / ".drift").mkdir(parents=True)
    conn = apsw.Connection(str(root / ".drift" / "drift.db"))
    conn.execute("PRAGMA journal_mode = WAL")
    with conn:
        cur = conn.cursor()
        for migration in MIGRATIONS[:2]:
            migration.apply(cur)
            cur.execute(
                "INSERT INTO schema_migrations(version, description) VALUES (?, ?)",
                (migration.version, migration.description),
            )
        cur.execute(f"PRAGMA user_version = {MIGRATIONS[1].version}")
        for n in range(5):
            p = make_pattern(f"old{n}", files=[f"src/{n}.ts", "src/shared.ts"])
            cur.execute(
                INSERT_PATTERN,
                pattern_row(p, content_hash=content_hash(p), created_at="t", updated_at="t"),
            )
            cur.executemany(INSERT_LOCATION, location_rows(p))
        cur.execute(
            "INSERT INTO pattern_history (pattern_id, action, created_at) "
            "VALUES ('old1', 'created', 't')"
        )
    conn.close()
    with driftstore.open(root) as store:
        assert [b.reason for b in store.backups()] == ["schema-v2"]
        assert _problems(store) == [] and store.verify().ok
        assert store.require("old3").location_count == 2
        assert [h.action.value for h in store.history("old1")] == ["created"]
