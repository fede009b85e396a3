"""SIGKILL at random moments of a write: afterwards the store opens, passes SQLite's
integrity check, and holds all or none of the interrupted operation.

Kill moments come from a seeded RNG spread over the operation's measured duration (plus
a margin, so some kills land while the store is being closed). DRIFTSTORE_KILLS_* set the
counts; the soak multiplies them by ten.
"""

from __future__ import annotations

import json
import random
import shutil
from collections.abc import Iterator
from pathlib import Path

import apsw
import pytest

import driftstore
from driftstore import to_builtins
from driftstore.engine.rows import (
    INSERT_LOCATION,
    PATTERN_COLUMNS,
    location_rows,
    pattern_row,
)
from driftstore.engine.sqlite.migrations import MIGRATIONS, SCHEMA_VERSION
from driftstore.engine.sqlite.schema import APPLICATION_ID
from driftstore.formats import shards
from driftstore.formats.scan import read_scan
from driftstore.model.digest import content_hash
from tests.conftest import REAL_DRIFT
from tests.faults import tally
from tests.faults.checks import State, db_path, open_and_check
from tests.faults.data import CATEGORIES, scan, write_scan
from tests.faults.harness import Outcome, run_worker, timed

#: a pattern row as schemas before 3 wrote it (no digests)
INSERT_PATTERN = (
    f"INSERT INTO patterns ({', '.join(PATTERN_COLUMNS)}) "
    f"VALUES ({', '.join('?' * len(PATTERN_COLUMNS))})"
)


class Quota:
    """Attempts until `kills` SIGKILLs have landed on a live worker: a kill drawn after the
    worker already exited does not count (at most four times as many attempts)."""

    def __init__(self, what: str, kills: int) -> None:
        self.what = what
        self.kills = kills
        self.landed = 0
        self.inside = 0

    def __iter__(self) -> Iterator[int]:
        attempt = 0
        while self.landed < self.kills:
            assert attempt < 4 * self.kills, f"{self.what}: {self.landed} kills in {attempt} tries"
            yield attempt
            attempt += 1

    def record(self, outcome: Outcome) -> None:
        assert "Traceback" not in outcome.stderr, outcome.stderr
        if not outcome.killed:
            assert outcome.returncode == 0, outcome.stderr
            return
        self.landed += 1
        tally.add("kills survived")
        tally.add(f"kills survived: {self.what}")
        if outcome.finished:
            tally.add("kills survived: after the operation, while closing")
        else:
            self.inside += 1


def _reference(tmp: Path, scans: dict[str, Path]) -> dict[str, tuple[State, int]]:
    """The states a whole ingest leaves: empty, after A, after A then B, after B then A."""
    root = tmp / "reference"
    root.mkdir()
    states = {}
    with driftstore.open(root):
        pass
    states["empty"] = open_and_check(root)
    with driftstore.open(root) as store:
        store.ingest(scans["A"], prune=True, force=True)
    states["A"] = open_and_check(root)
    with driftstore.open(root) as store:
        store.ingest(scans["B"], prune=True, force=True)
    states["B"] = open_and_check(root)
    with driftstore.open(root) as store:
        store.ingest(scans["A"], prune=True, force=True)
    states["BA"] = open_and_check(root)
    return states


def test_sigkill_during_ingest_leaves_all_or_nothing(tmp_path: Path) -> None:
    kills = tally.count("DRIFTSTORE_KILLS_INGEST", 24, 240)
    rng = random.Random(tally.seed())
    # B shares 50 ids with A, adds 10 and (with --prune) removes 10: updates, inserts and
    # deletes in one transaction
    scans = {
        "A": write_scan(tmp_path / "a.json", scan("p", 1, patterns=300)),
        "B": write_scan(
            tmp_path / "b.json", [e for e in scan("p", 2, patterns=330) if e["id"] >= "p0030"]
        ),
    }
    ref = _reference(tmp_path, scans)
    # a whole B -> A leaves the same data as empty -> A (first_seen is kept from A)
    assert ref["BA"][0] == ref["A"][0]
    delta = {
        ("empty", "A"): ref["A"][1],
        ("A", "B"): ref["B"][1] - ref["A"][1],
        ("B", "A"): ref["BA"][1] - ref["B"][1],
    }
    assert all(d > 0 for d in delta.values())
    landed: dict[str, int] = {}

    # durations: the bulk load into an empty store, and a merge that changes everything
    calib = tmp_path / "calibrate"
    calib.mkdir()
    duration = {"empty": timed("ingest", calib, str(scans["A"]), "--prune")}
    duration["merge"] = timed("ingest", calib, str(scans["B"]), "--prune")

    root = tmp_path / "fresh-0"
    history_before = 0
    current = "empty"
    quota = Quota("ingest", kills)
    for n in quota:
        if n % 4 == 0:  # a fresh store now and then: the bulk path of a first ingest
            root = tmp_path / f"fresh-{n}"
            root.mkdir()
            current, history_before = "empty", 0
        target = "A" if current != "A" else "B"
        # the states are only comparable when the store saw A first (first_seen comes from it)
        if current == "empty":
            target = "A"
        span = duration["empty" if current == "empty" else "merge"]
        outcome = run_worker(
            "ingest",
            root,
            str(scans[target]),
            "--prune",
            kill_after=rng.uniform(0, span * 1.2),
        )
        quota.record(outcome)
        state, history = open_and_check(root)
        before = ref[current][0]
        after = ref[target][0]
        if state == before:
            assert history == history_before, "history moved without the data"
            assert not outcome.finished, "a finished ingest was lost"
        else:
            assert state == after, f"kill {n}: {state} is neither {before} nor {after}"
            assert history == history_before + delta[current, target], "history disagrees"
            landed[f"{current}->{target}"] = landed.get(f"{current}->{target}", 0) + 1
            current, history_before = target, history
    # the kills must really have landed inside the operation, not only around it
    assert quota.inside >= kills // 2, f"only {quota.inside} of {kills} kills hit an ingest"


def _moment(rng: random.Random, span: float) -> float:
    """A kill moment over the operation's span, plus a fifth more (the store's close)."""
    return rng.uniform(0, span * 1.2)


def _generation_of(path: Path) -> int:
    """The one scan generation a complete shard holds (its checksum checked first)."""
    data = path.read_bytes()
    shard = shards.read_v2_shard(data, path=path.name, expected_category=path.stem)
    assert shard.checksum_ok and not shard.problems, f"{path.name}: torn or damaged"
    names = {entry["name"] for entry in json.loads(data)["patterns"]}
    assert len(names) == 1, f"{path.name}: patterns of several exports {names}"
    return int(names.pop().rsplit(" ", 1)[1])


def test_sigkill_during_export_leaves_old_or_new_files(tmp_path: Path) -> None:
    kills = tally.count("DRIFTSTORE_KILLS_EXPORT", 8, 80)
    rng = random.Random(tally.seed() + 1)
    root, out = tmp_path / "project", tmp_path / "out"
    root.mkdir()
    scan_path = tmp_path / "scan.json"
    with driftstore.open(root) as store:
        store.ingest(write_scan(scan_path, scan("p", 1, patterns=300)))
        store.export(out)
        write_scan(scan_path, scan("p", 2, patterns=300))
        store.ingest(scan_path)
    span = timed("export", root, str(out))
    quota = Quota("export", kills)
    for n in quota:
        generation = n + 3
        with driftstore.open(root) as store:
            store.ingest(write_scan(scan_path, scan("p", generation, patterns=300)))
        before = open_and_check(root)
        outcome = run_worker("export", root, str(out), kill_after=_moment(rng, span))
        quota.record(outcome)
        assert open_and_check(root) == before  # an export never changes the data
        shard_files = sorted((out / "patterns").glob("*.json"))
        assert len(shard_files) == len(CATEGORIES)
        for path in shard_files:
            assert _generation_of(path) in (generation - 1, generation)
        for path in (out / "indexes").glob("*.json"):
            json.loads(path.read_bytes())  # complete JSON, never a torn file
        # the next export finishes the job and leaves no temp file behind for long
        with driftstore.open(root) as store:
            store.export(out)
        assert {_generation_of(p) for p in shard_files} == {generation}


def test_sigkill_during_import_leaves_all_or_nothing(tmp_path: Path) -> None:
    kills = tally.count("DRIFTSTORE_KILLS_IMPORT", 8, 80)
    rng = random.Random(tally.seed() + 2)
    source = tmp_path / "source"
    source.mkdir()
    exported = {}
    for name, generation in (("A", 1), ("B", 2)):
        with driftstore.open(source) as store:
            store.ingest(write_scan(tmp_path / "s.json", scan("p", generation, patterns=300)))
            store.approve([f"p{generation:04d}"], by="fault")
            exported[name] = tmp_path / f"shards-{name}"
            store.export(exported[name])
    # the reference chain: A by import, then B, then A again
    ref_root = tmp_path / "reference"
    ref_root.mkdir()
    ref = {}
    for step, name in enumerate(("A", "B", "A", "B")):
        with driftstore.open(ref_root) as store:
            store.import_(exported[name])
        ref[step] = open_and_check(ref_root)
    assert ref[0][0] == ref[2][0] and ref[1][0] == ref[3][0]
    delta = {"B": ref[1][1] - ref[0][1], "A": ref[2][1] - ref[1][1]}

    root = tmp_path / "project"
    root.mkdir()
    with driftstore.open(root) as store:
        store.import_(exported["A"])
    current = "A"
    span = timed("import", tmp_path / "reference", str(exported["B"]))
    quota = Quota("import", kills)
    for _ in quota:
        target = "B" if current == "A" else "A"
        state, history = open_and_check(root)
        assert state == ref[0 if current == "A" else 1][0]
        outcome = run_worker("import", root, str(exported[target]), kill_after=_moment(rng, span))
        quota.record(outcome)
        after, after_history = open_and_check(root)
        if after == state:
            assert after_history == history and not outcome.finished
        else:
            assert after == ref[0 if target == "A" else 1][0], "a half-applied import"
            assert after_history == history + delta[target]
            current = target


def _archives_restore(root: Path, work: Path, checked: set[str], state: tuple[State, int]) -> int:
    """Every backup a user can list restores, into an empty project, to the state it
    captured. Returns how many are listed; `checked` remembers the ones already restored."""
    listed = driftstore.open(root).backups()
    for info in listed:
        if info.id in checked:
            continue
        fresh = work / f"restore-{len(checked)}"
        (fresh / ".drift" / "backups").mkdir(parents=True)
        name = f"{info.id}.tar.zst"
        shutil.copy(root / ".drift" / "backups" / name, fresh / ".drift" / "backups" / name)
        driftstore.restore(fresh, info.id)
        assert open_and_check(fresh) == state, f"backup {info.id} does not restore"
        shutil.rmtree(fresh)
        checked.add(info.id)
    return len(listed)


def test_sigkill_during_backup_never_lists_a_partial_archive(tmp_path: Path) -> None:
    kills = tally.count("DRIFTSTORE_KILLS_BACKUP", 8, 80)
    rng = random.Random(tally.seed() + 3)
    root = tmp_path / "project"
    root.mkdir()
    with driftstore.open(root) as store:
        store.ingest(write_scan(tmp_path / "s.json", scan("p", 1, patterns=600)))
    before = open_and_check(root)
    span = timed("backup", root)
    checked: set[str] = set()
    listed = _archives_restore(root, tmp_path, checked, before)
    quota = Quota("backup", kills)
    for _ in quota:
        outcome = run_worker("backup", root, kill_after=_moment(rng, span))
        quota.record(outcome)
        assert open_and_check(root) == before
        now_listed = _archives_restore(root, tmp_path, checked, before)
        assert now_listed in (listed, listed + 1)
        assert now_listed == listed + 1 or not outcome.finished
        listed = now_listed


def test_sigkill_during_restore_leaves_old_or_restored_store(tmp_path: Path) -> None:
    kills = tally.count("DRIFTSTORE_KILLS_RESTORE", 6, 60)
    rng = random.Random(tally.seed() + 4)
    root = tmp_path / "project"
    root.mkdir()
    scan_path = tmp_path / "s.json"
    with driftstore.open(root) as store:
        store.ingest(write_scan(scan_path, scan("p", 1, patterns=300)))
        backup_id = store.backup("fault-a")
    saved = open_and_check(root)
    span = 0.0
    quota = Quota("restore", kills)
    for n in quota:
        with driftstore.open(root) as store:
            store.ingest(write_scan(scan_path, scan("p", n + 2, patterns=300)))
        before = open_and_check(root)
        if n == 0:  # the first run measures how long a restore takes
            span = timed("restore", root, backup_id)
            assert open_and_check(root) == saved
            continue
        outcome = run_worker("restore", root, backup_id, kill_after=_moment(rng, span))
        quota.record(outcome)
        assert open_and_check(root) in (before, saved), "a half-restored store"


def test_sigkill_during_migrate_leaves_all_or_nothing(tmp_path: Path) -> None:
    kills = tally.count("DRIFTSTORE_KILLS_MIGRATE", 8, 80)
    rng = random.Random(tally.seed() + 5)
    legacy = REAL_DRIFT / "fvnks__finanzsaas-chile" / ".drift"

    def fresh(name: str) -> Path:
        project = tmp_path / name
        shutil.copytree(legacy / "patterns", project / ".drift" / "patterns")
        return project

    reference = fresh("reference")
    with driftstore.open(reference) as store:
        store.migrate()
    migrated = open_and_check(reference)
    assert migrated[0].pattern_count > 0
    span = timed("migrate", fresh("calibrate"))
    quota = Quota("migrate", kills)
    for n in quota:
        root = fresh(f"project-{n}")
        with driftstore.open(root):
            pass
        empty = open_and_check(root)
        outcome = run_worker("migrate", root, kill_after=_moment(rng, span))
        quota.record(outcome)
        assert open_and_check(root) in (empty, migrated), "a half-applied migration"
        shutil.rmtree(root)


def _schema_v1_store(root: Path, scan_path: Path) -> None:
    """A database as the first schema version left it, holding a scan's patterns."""
    (root / ".drift").mkdir(parents=True)
    conn = apsw.Connection(str(db_path(root)))
    conn.execute("PRAGMA journal_mode = WAL")
    first = MIGRATIONS[0]
    with conn:
        cur = conn.cursor()
        first.apply(cur)
        cur.execute(
            "INSERT INTO schema_migrations(version, description) VALUES (?, ?)",
            (first.version, first.description),
        )
        cur.execute(f"PRAGMA application_id = {APPLICATION_ID}")
        cur.execute(f"PRAGMA user_version = {first.version}")
        for p in read_scan(scan_path):  # the row shapes of schema 1 (no digests)
            cur.execute(
                INSERT_PATTERN,
                pattern_row(p, content_hash=content_hash(p), created_at="t", updated_at="t"),
            )
            cur.executemany(INSERT_LOCATION, location_rows(p))
    conn.close()


def _schema_objects(root: Path) -> tuple[int, set[str]]:
    conn = apsw.Connection(str(db_path(root)), flags=apsw.SQLITE_OPEN_READONLY)
    try:
        version = int(conn.execute("PRAGMA user_version").fetchall()[0][0])
        names = {row[0] for row in conn.execute("SELECT name FROM sqlite_schema")}
    finally:
        conn.close()
    return version, names


def test_sigkill_during_a_schema_upgrade_leaves_old_or_new_schema(tmp_path: Path) -> None:
    """Opening a database of an older schema upgrades it (after a backup): killed at any
    moment, the database is at the old schema, the new one, or a whole step between (each
    migration commits alone), with the same data."""
    if SCHEMA_VERSION < 2:
        pytest.fail("only one schema version exists: nothing to upgrade")
    kills = tally.count("DRIFTSTORE_KILLS_SCHEMA", 6, 60)
    rng = random.Random(tally.seed() + 6)
    scan_path = write_scan(tmp_path / "scan.json", scan("p", 1, patterns=600))
    template = tmp_path / "template"
    _schema_v1_store(template, scan_path)
    old_version, old_names = _schema_objects(template)

    def fresh(name: str) -> Path:
        project = tmp_path / name
        shutil.copytree(template, project)
        return project

    reference = fresh("reference")
    with driftstore.open(reference) as store:
        totals = (
            to_builtins(store.status())["totalPatterns"],
            to_builtins(store.status())["totalLocations"],
        )
    new_version, new_names = _schema_objects(reference)
    upgraded = open_and_check(reference)
    assert (old_version, new_version) == (1, SCHEMA_VERSION) and old_names < new_names
    span = timed("open", fresh("calibrate"))
    quota = Quota("schema upgrade", kills)
    for n in quota:
        root = fresh(f"project-{n}")
        outcome = run_worker("open", root, kill_after=_moment(rng, span))
        quota.record(outcome)
        version, names = _schema_objects(root)
        # each migration is one transaction with its bookkeeping row: a kill leaves the
        # schema of the last migration that committed, never part of one
        assert old_version <= version <= new_version and old_names <= names <= new_names
        if version in (old_version, new_version):
            assert names == (old_names if version == old_version else new_names)
        if outcome.killed:
            tally.add(f"kills survived: schema upgrade, left at schema {version}")
        assert open_and_check(root) == upgraded  # opening finishes the upgrade, data intact
        with driftstore.open(root) as store:
            summary = to_builtins(store.status())
            assert (summary["totalPatterns"], summary["totalLocations"]) == totals
        shutil.rmtree(root)
