"""Damaged files: a database with flipped bytes, truncated, or replaced with garbage; a WAL
truncated or scribbled on; a shard with a flipped byte.

The promise checked: driftstore either serves exactly what was stored, or says what is
wrong and how to recover (`driftstore verify`, `driftstore backup restore ID`) in one line
with a non-zero exit, and that recovery works. Flips are classified and counted. SQLite
alone cannot notice a flip inside a value no index covers (it keeps no page checksums);
the digests stored beside every row (`engine.integrity`) do, so `undetected` (different
data served while verify passes) fails the test.
"""

from __future__ import annotations

import json
import random
import shutil
import struct
import time
from pathlib import Path
from typing import Any

import apsw
import msgspec
import pytest

import driftstore
from driftstore import to_builtins
from driftstore.engine import digests
from driftstore.model.entry import to_entry
from tests.faults import tally
from tests.faults.checks import State, db_path, open_and_check
from tests.faults.data import scan, write_scan
from tests.faults.harness import cli, one_line_error, worker
from tests.faults.workers import wal_scan

#: words a message about a damaged store must use to send the user somewhere useful
RECOVERY = ("verify", "restore")
DAMAGE = ("corrupt", "damaged", "not a sqlite database", "malformed", "cannot be read")


def _entry(store: driftstore.PatternStore, pattern_id: str) -> Any:
    """A listed pattern as `show` gives it; a listed id that cannot be found is what a
    damaged index serves, recorded as such (a difference `verify` must explain)."""
    found = store.get(pattern_id)
    return "listed but not found" if found is None else to_entry(found)


def served(root: Path) -> dict[str, Any]:
    """Everything a user can read back through the library."""
    with driftstore.open(root, create=False) as store:
        ids = [s.id for s in store.query(limit=None).patterns]
        return {
            "patterns": {i: _entry(store, i) for i in ids},
            "status": to_builtins(store.status()),
            "history": msgspec.to_builtins(store.history()),
            "variants": msgspec.to_builtins(store.variants()),
            "examples": msgspec.to_builtins(store.examples("p0003")),
            "file": to_builtins(store.by_file("src/api/m1.ts")),
        }


class Base:
    """A healthy project: patterns, decisions, a variant, an example, v2 shards and one
    backup; `truth` is what it serves."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.root = tmp / "healthy"
        (self.root / "src" / "api").mkdir(parents=True)
        (self.root / "src" / "api" / "m1.ts").write_text(
            "".join(f"line {n}\n" for n in range(1, 40))
        )
        with driftstore.open(self.root) as store:
            store.ingest(write_scan(tmp / "scan.json", scan("p", 1, patterns=120, locations=20)))
            store.approve(["p0001", "p0002"], by="reviewer")
            store.ignore("p0005", by="reviewer")
            store.add_variant("p0003", scope="directory", path="src/api", severity="error")
            store.add_example("p0003", "src/api/m1.ts", "2-4")
            store.export()
            self.backup_id = store.backup("healthy")
        self.truth = served(self.root)
        self.data = db_path(self.root).read_bytes()
        self.copies = 0

    def damaged(self, data: bytes) -> Path:
        """A copy of the project whose database holds `data`."""
        self.copies += 1
        root = self.tmp / f"copy-{self.copies}"
        shutil.copytree(self.root, root)
        db_path(root).write_bytes(data)
        return root


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Base:
    return Base(tmp_path_factory.mktemp("corruption"))


def _names_damage_and_way_out(message: str) -> None:
    lowered = message.lower()
    assert any(w in lowered for w in DAMAGE), message
    assert any(w in lowered for w in RECOVERY), message
    assert "\n" not in message.strip()


def classify(root: Path, truth: dict[str, Any]) -> str:
    """read: reading failed with a clear error; verify: data served differs or the file is
    damaged, and verify says so; intact: the data served is exactly the truth and verify
    passes (the flip hit unused space); undetected: different data and verify passes."""
    try:
        got: dict[str, Any] | None = served(root)
    except driftstore.DriftStoreError as exc:
        _names_damage_and_way_out(str(exc))
        got = None
    try:
        with driftstore.open(root, create=False) as store:
            report = store.verify()
    except driftstore.DriftStoreError as exc:
        _names_damage_and_way_out(str(exc))
        return "read" if got is None else "verify"
    # a read that fails sends the user to verify: verify must then see the problem too
    assert got is not None or not report.ok, "reading fails, but verify says all is well"
    if got is None:
        return "read"
    if not report.ok:
        return "verify"
    return "intact" if got == truth else "undetected"


def _restores(base: Base, root: Path) -> None:
    """The way out the message names works: restore the backup, get the truth back."""
    result = cli("backup", "restore", base.backup_id, "--root", str(root))
    assert result.returncode == 0, result.stderr
    assert served(root) == base.truth


@pytest.mark.parametrize(
    "kind", ["random bytes", "text", "zeros", "sqlite header then garbage", "half a header"]
)
def test_garbage_in_place_of_the_database_is_named_and_recoverable(base: Base, kind: str) -> None:
    rng = random.Random(tally.seed())
    garbage = {
        "random bytes": rng.randbytes(64 * 1024),
        "text": b"this is not a database\n" * 100,
        "zeros": bytes(8192),
        "sqlite header then garbage": base.data[:100] + rng.randbytes(len(base.data) - 100),
        "half a header": base.data[:50],
    }[kind]
    root = base.damaged(garbage)
    for command in (["status"], ["list", "--json"], ["verify"]):
        result = cli(*command, "--root", str(root))
        _names_damage_and_way_out(one_line_error(result, 1, *DAMAGE))
    assert db_path(root).read_bytes() == garbage  # left as it was, for a human to look at
    tally.add("corruptions detected")
    tally.add("corruptions detected: garbage database")
    _restores(base, root)


def test_truncated_database_is_named_and_recoverable(base: Base) -> None:
    rng = random.Random(tally.seed() + 1)
    size = len(base.data)
    cases = tally.count("DRIFTSTORE_TRUNCATIONS", 6, 40)
    lengths = [4096, size // 2, size - 4096, size - 1]
    lengths += [rng.randrange(100, size - 1) for _ in range(max(0, cases - len(lengths)))]
    for n, length in enumerate(lengths):
        root = base.damaged(base.data[:length])
        assert classify(root, base.truth) in ("read", "verify"), f"truncated to {length}"
        tally.add("corruptions detected")
        tally.add("corruptions detected: truncated database")
        if n < 2:
            result = cli("status", "--root", str(root))
            _names_damage_and_way_out(one_line_error(result, 1, *DAMAGE))
            _restores(base, root)


def _structure(data: bytes) -> list[int]:
    """Offsets of every b-tree page's header and cell pointer array: the bytes whose damage
    SQLite must always notice."""
    page_size = struct.unpack(">H", data[16:18])[0]
    offsets: list[int] = []
    for page in range(len(data) // page_size):
        start = page * page_size + (100 if page == 0 else 0)
        kind = data[start]
        if kind not in (2, 5, 10, 13):
            continue
        header = 12 if kind in (2, 5) else 8
        cells = struct.unpack(">H", data[start + 3 : start + 5])[0]
        offsets.extend(range(start, start + header + 2 * cells))
    return offsets


def _flip(data: bytes, at: int, rng: random.Random) -> bytes:
    damaged = bytearray(data)
    damaged[at] ^= 1 << rng.randrange(8)
    return bytes(damaged)


def test_flipped_bit_in_the_btree_structure_is_always_reported(base: Base) -> None:
    rng = random.Random(tally.seed() + 2)
    offsets = _structure(base.data)
    for _ in range(tally.count("DRIFTSTORE_STRUCTURE_FLIPS", 20, 300)):
        at = rng.choice(offsets)
        root = base.damaged(_flip(base.data, at, rng))
        outcome = classify(root, base.truth)
        assert outcome in ("read", "verify", "intact"), f"flip at {at}: {outcome}"
        tally.add(f"flipped bits, b-tree structure: {outcome}")
        shutil.rmtree(root)


def _cli_says_so(root: Path) -> None:
    """The commands that read what `served` reads each work or fail in one clear line
    (one-shot commands answer from SQL and may not touch the damaged page at all), and
    `driftstore verify` reports the damage with exit code 1."""
    for command in (
        ["list", "--json", "--limit", "1000000"],
        ["export", "--out", str(root / "out")],
        ["history", "--json"],
        ["status", "--json"],
        ["file", "src/api/m1.ts", "--json"],
        ["variant", "list", "--json"],
        ["example", "list", "p0003", "--json"],
    ):
        result = cli(*command, "--root", str(root))
        if result.returncode:
            _names_damage_and_way_out(one_line_error(result, 1, *DAMAGE))
    verify = cli("verify", "--json", "--root", str(root))
    if verify.returncode == 1 and verify.stdout:
        assert json.loads(verify.stdout)["problems"], verify.stdout
    else:
        _names_damage_and_way_out(one_line_error(verify, 1, *DAMAGE))


def test_flipped_bit_anywhere_is_served_right_or_reported(base: Base) -> None:
    """Anywhere in the file: never a traceback, always one clear line when reading fails,
    and never different data while verify passes. Flips inside a text or number that no
    index covers are invisible to SQLite (it keeps no page checksums); the stored digests
    make verify (and a read of the pattern) see them."""
    rng = random.Random(tally.seed() + 3)
    flips = tally.count("DRIFTSTORE_FLIPS", 40, 1000)
    seen: dict[str, int] = {}
    undetected: list[int] = []
    for n in range(flips):
        at = rng.randrange(len(base.data))
        root = base.damaged(_flip(base.data, at, rng))
        outcome = classify(root, base.truth)
        seen[outcome] = seen.get(outcome, 0) + 1
        tally.add(f"flipped bits, anywhere: {outcome}")
        if outcome == "undetected":
            undetected.append(at)
        if outcome == "read" and n % 4 == 0:
            _cli_says_so(root)
        shutil.rmtree(root)
    tally.add("corruptions detected", seen.get("read", 0) + seen.get("verify", 0))
    assert not undetected, f"wrong data served while verify passed, flips at {undetected}"
    assert seen.get("read", 0) + seen.get("verify", 0) > 0


GENERATIONS = 5


@pytest.fixture(scope="module")
def wal_project(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[tuple[State, int]]]:
    """A project whose WAL holds five commits the database file has not seen (the writer
    was killed before any checkpoint), and the state after each of those commits."""
    tmp = tmp_path_factory.mktemp("wal")
    reference = tmp / "reference"
    reference.mkdir()
    states = [open_and_check_new(reference)]
    for generation in range(1, GENERATIONS + 1):
        with driftstore.open(reference) as store:
            store.ingest(write_scan(tmp / "scan.json", wal_scan(generation)))
        states.append(open_and_check(reference))
    root = tmp / "killed"
    root.mkdir()
    proc = worker("wal", root, str(GENERATIONS))
    assert proc.stdout is not None
    for generation in range(1, GENERATIONS + 1):
        assert proc.stdout.readline().strip() == f"committed {generation}"
    proc.kill()
    proc.communicate(timeout=30)
    wal = root / ".drift" / "drift.db-wal"
    assert wal.stat().st_size > 0
    (root / ".drift" / "drift.db-shm").unlink(missing_ok=True)  # force a WAL recovery
    return root, states


def open_and_check_new(root: Path) -> tuple[State, int]:
    with driftstore.open(root):
        pass
    return open_and_check(root)


def _wal_copy(source: Path, tmp: Path, name: str) -> Path:
    target = tmp / name
    shutil.copytree(source, target)
    return target


def test_a_damaged_wal_falls_back_to_a_whole_earlier_commit(
    wal_project: tuple[Path, list[tuple[State, int]]], tmp_path: Path
) -> None:
    """Truncated, bit-flipped or garbage-extended WALs: SQLite stops replaying at the first
    frame whose checksum fails, so the store is exactly one earlier committed state (what a
    power cut leaves), never a mix — and the commit order is kept (no later commit without
    the earlier ones)."""
    source, states = wal_project
    assert open_and_check(_wal_copy(source, tmp_path, "intact")) == states[-1]
    rng = random.Random(tally.seed() + 4)
    wal_size = (source / ".drift" / "drift.db-wal").stat().st_size
    cases = tally.count("DRIFTSTORE_WAL_CASES", 12, 120)
    for n in range(cases):
        root = _wal_copy(source, tmp_path, f"case-{n}")
        wal = root / ".drift" / "drift.db-wal"
        data = bytearray(wal.read_bytes())
        how = ("truncate", "flip", "append")[n % 3]
        if how == "truncate":
            del data[rng.randrange(0, wal_size) :]
        elif how == "flip":
            data[rng.randrange(32, wal_size)] ^= 1 << rng.randrange(8)
        else:
            data += rng.randbytes(rng.randrange(1, 20_000))
        wal.write_bytes(bytes(data))
        got = open_and_check(root)
        assert got in states, f"{how}: the store is not any committed state"
        tally.add("damaged WALs: store is one whole earlier commit")
        tally.add(f"damaged WAL ({how}): store = commit {states.index(got)} of {GENERATIONS}")
        shutil.rmtree(root)


def test_a_shard_with_a_flipped_byte_is_reported_and_refused(base: Base, tmp_path: Path) -> None:
    """`verify` names the file, `import` refuses it and changes nothing. The checksum
    covers the `patterns` array; a flip elsewhere must still be caught (bad JSON, a header
    that does not match) unless it only touches `lastUpdated`, which the checksum leaves
    out by design (formats.md) and which import records as it is."""
    rng = random.Random(tally.seed() + 5)
    shards_dir = base.root / ".drift" / "patterns"
    files = sorted(shards_dir.glob("*.json"))
    stored = open_and_check(base.root)
    for n in range(tally.count("DRIFTSTORE_SHARD_FLIPS", 10, 200)):
        root = tmp_path / f"case-{n}"
        shutil.copytree(base.root, root)
        victim = root / ".drift" / "patterns" / rng.choice(files).name
        original = victim.read_bytes()
        victim.write_bytes(_flip(original, rng.randrange(len(original)), rng))
        verify = cli("verify", "--json", "--root", str(root))
        assert "Traceback" not in verify.stderr
        if verify.returncode == 0:
            assert _only_last_updated_differs(original, victim.read_bytes()), victim.name
            tally.add("shard flips outside the checksummed patterns (lastUpdated)")
            shutil.rmtree(root)
            continue
        assert verify.returncode == 1, verify.stderr
        problems = json.loads(verify.stdout)["problems"]
        assert any(victim.name in p["path"] for p in problems), problems
        refused = cli("import", "--root", str(root))
        one_line_error(refused, refused.returncode, "checksum", "json", "shard", "not")
        assert refused.returncode in (1, 2)
        assert victim.name in refused.stderr
        assert open_and_check(root) == stored  # nothing imported
        tally.add("corruptions detected")
        tally.add("corruptions detected: shard with a flipped bit")
        shutil.rmtree(root)


def _only_last_updated_differs(before: bytes, after: bytes) -> bool:
    try:
        old, new = json.loads(before), json.loads(after)
    except ValueError:
        return False
    old.pop("lastUpdated", None)
    new.pop("lastUpdated", None)
    return bool(old == new)


@pytest.mark.parametrize(
    ("what", "sql"),
    [
        ("unknown status", "UPDATE patterns SET status = 'apprpved' WHERE id = 'p0007'"),
        (
            "text that is not UTF-8",
            "UPDATE patterns SET name = CAST(x'70ff00fe' AS TEXT) WHERE id = 'p0007'",
        ),
        ("malformed JSON", "UPDATE patterns SET tags = '[\"api\",' WHERE id = 'p0007'"),
        ("unknown history action", "UPDATE pattern_history SET action = 'exploded' WHERE id = 1"),
        (
            "malformed variant config",
            "UPDATE pattern_variants SET config_override = '{' WHERE id = 1",
        ),
    ],
)
def test_rows_damaged_past_sqlites_checks_are_named_not_served(
    base: Base, what: str, sql: str
) -> None:
    """Damage SQLite's integrity check cannot see (a hand edit, or a bit flip that keeps the
    record valid): every command that reads the row fails in one line, verify names it."""
    root = base.damaged(base.data)
    conn = apsw.Connection(str(db_path(root)))
    conn.execute(sql)
    conn.close()
    assert classify(root, base.truth) == "read", what
    verify = cli("verify", "--json", "--root", str(root))
    assert verify.returncode == 1, verify.stderr
    named = ("cannot be read", digests.MISMATCH)  # a value SQLite reads, or its digest
    assert any(w in p["problem"] for p in json.loads(verify.stdout)["problems"] for w in named)
    _cli_says_so(root)
    tally.add("corruptions detected")
    tally.add("corruptions detected: rows valid to SQLite, unreadable to driftstore")


def test_damaged_running_totals_are_named_by_verify(base: Base) -> None:
    """`status` reads running totals that triggers keep; a damaged total is derived data no
    SQLite check compares, so verify recounts them."""
    root = base.damaged(base.data)
    conn = apsw.Connection(str(db_path(root)))
    conn.execute("UPDATE pattern_stats SET locations = locations + 7 WHERE patterns > 0")
    conn.close()
    assert classify(root, base.truth) == "verify"
    verify = cli("verify", "--json", "--root", str(root))
    assert verify.returncode == 1
    assert any("pattern_stats" in p["problem"] for p in json.loads(verify.stdout)["problems"])
    tally.add("corruptions detected")
    tally.add("corruptions detected: running totals")


def test_a_huge_rowid_does_not_stall_the_by_file_index(base: Base) -> None:
    """A flipped high bit in a b-tree key can make one rowid enormous; the in-memory
    index once walked every possible rowid up to it (a hang). It must answer promptly."""
    root = base.damaged(base.data)
    conn = apsw.Connection(str(db_path(root)))
    conn.execute(
        "UPDATE pattern_locations SET id = 9223372036854775000 "
        "WHERE id = (SELECT min(id) FROM pattern_locations WHERE file = 'src/api/m1.ts')"
    )
    conn.close()
    started = time.monotonic()
    with driftstore.open(root) as store:
        found = {p.id for p in store.by_file("src/api/m1.ts")}
    assert time.monotonic() - started < 10
    assert found == {item["id"] for item in base.truth["file"]}
    tally.add("corruptions survived: rowid near 2**63")
