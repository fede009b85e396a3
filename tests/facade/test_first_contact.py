"""What a newcomer trips on, through the Python API and real processes: read-only stores,
two processes creating one store, a prune that would empty the store, re-ingesting what is
stored, history in commit order, and the plain data a Python user hands the API."""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

import driftstore
from driftstore import DriftStoreError, InvalidInputError, PatternFilter
from tests.conftest import REPO
from tests.factories import entry

CLI = [sys.executable, "-m", "driftstore.cli.main"]
SAMPLE_SCAN = REPO / "samples" / "scan.json"


def _cli(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CLI, *args], capture_output=True, text=True, timeout=timeout, cwd=REPO, check=False
    )


# --- a read-only .drift/ --------------------------------------------------------------
def _freeze(paths: list[Path]) -> None:
    """Make files and folders unwritable even for root (CI runs as root, where a mode
    bit stops nothing): the immutable attribute, else plain modes for other users."""
    if os.geteuid() == 0:
        done = subprocess.run(["chattr", "+i", *map(str, paths)], capture_output=True, text=True)
        assert done.returncode == 0, f"cannot make the store read-only here: {done.stderr}"
    else:
        for path in paths:
            path.chmod(0o555 if path.is_dir() else 0o444)


def _thaw(paths: list[Path]) -> None:
    if os.geteuid() == 0:
        subprocess.run(["chattr", "-i", *map(str, paths)], capture_output=True, check=False)
    else:
        for path in paths:
            path.chmod(0o755 if path.is_dir() else 0o644)


@pytest.fixture
def frozen_store(root: Path) -> Iterator[Path]:
    with driftstore.open(root) as store:
        store.ingest(SAMPLE_SCAN)
    drift = root / ".drift"
    paths = [drift, *sorted(drift.rglob("*"), reverse=True)]
    _freeze(paths)
    try:
        yield root
    finally:
        _thaw(paths)


@pytest.mark.sqlite_only
def test_a_read_only_store_can_still_be_read(frozen_store: Path, tmp_path: Path) -> None:
    root = str(frozen_store)
    with pytest.raises(OSError):  # the freeze is real
        (frozen_store / ".drift" / "probe").write_text("x")
    listed = _cli("list", "--json", "--limit", "1", "--root", root)
    assert listed.returncode == 0, listed.stderr
    pid = json.loads(listed.stdout)["patterns"][0]["id"]
    for args in (
        ["status"],
        ["list"],
        ["show", pid],
        ["file", "src/api/users.ts"],
        ["history"],
        ["verify"],
        ["export", "--out", str(tmp_path / "shards")],
    ):
        done = _cli(*args, "--root", root)
        assert done.returncode == 0, f"{args}: {done.stderr}"
        assert "Traceback" not in done.stderr
    assert (tmp_path / "shards" / "patterns").is_dir()
    refused = _cli("approve", pid, "--root", root)
    assert refused.returncode != 0
    assert refused.stderr.count("\n") == 1 and "read-only" in refused.stderr


# --- creation races --------------------------------------------------------------------
def test_processes_creating_one_store_at_once_never_fail(tmp_path: Path) -> None:
    """Three `init`s, two `ingest`s and a `status` racing on a folder with no store."""
    for trial in range(4):
        root = tmp_path / f"race{trial}"
        root.mkdir()
        commands = [[*CLI, "init", "--root", str(root)] for _ in range(3)]
        commands += [[*CLI, "ingest", str(SAMPLE_SCAN), "--root", str(root)] for _ in range(2)]
        procs = [
            subprocess.Popen(c, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            for c in commands
        ]
        for proc in procs:
            _out, err = proc.communicate(timeout=120)
            assert proc.returncode == 0, f"trial {trial}: {err}"
        with driftstore.open(root, create=False) as store:
            assert store.count() == len(json.loads(SAMPLE_SCAN.read_text()))


# --- a prune that would empty the store ----------------------------------------------
def test_a_prune_that_would_delete_most_discovered_patterns_needs_force(root: Path) -> None:
    with driftstore.open(root) as store:
        store.ingest([entry(f"p{i}") for i in range(10)])
        history_before = len(store.history())
        with pytest.raises(InvalidInputError, match="delete 9 of the 10") as refused:
            store.ingest([entry("p0")], prune=True)
        assert refused.value.remedy == driftstore.Remedy.FORCE_PRUNE
        assert store.count() == 10 and len(store.history()) == history_before
        assert store.backups() == []
        # deleting fewer than half goes through without force
        assert store.ingest([entry(f"p{i}") for i in range(7)], prune=True).removed == 3
        forced = store.ingest([], prune=True, force=True)
        assert forced.removed == 7 and forced.backup is not None and store.count() == 0


def test_the_cli_prune_guard_says_how_many_and_how_to_force(root: Path, tmp_path: Path) -> None:
    scan = tmp_path / "scan.json"
    scan.write_text(json.dumps([entry(f"p{i}") for i in range(6)]))
    assert _cli("ingest", str(scan), "--root", str(root)).returncode == 0
    scan.write_text("[]")
    refused = _cli("ingest", str(scan), "--prune", "--root", str(root))
    assert refused.returncode == 2
    assert "delete 6 of the 6" in refused.stderr and "--force" in refused.stderr
    forced = _cli("ingest", str(scan), "--prune", "--force", "--root", str(root), "--json")
    assert forced.returncode == 0 and json.loads(forced.stdout)["removed"] == 6


# --- what is stored, fed back ----------------------------------------------------------
def test_an_exported_shard_fed_back_as_a_scan_is_unchanged(root: Path, tmp_path: Path) -> None:
    with driftstore.open(root) as store:
        store.ingest(SAMPLE_SCAN)
        store.export(tmp_path / "out")
        rows = len(store.history())
        shards = sorted((tmp_path / "out" / "patterns").rglob("*.json"))
        unchanged = 0
        for shard in shards:  # each shard is a PatternFile: a scan as it is
            report = store.ingest(shard)
            assert (report.added, report.updated, report.removed) == (0, 0, 0), shard.name
            unchanged += report.unchanged
        assert unchanged == store.count() > 20
        assert len(store.history()) == rows


# --- history in commit order -------------------------------------------------------------
_INGESTER = """
import sys, driftstore
from tests.factories import entry
root, tag, rounds = sys.argv[1], sys.argv[2], int(sys.argv[3])
with driftstore.open(root) as store:
    for n in range(rounds):
        store.ingest([entry(f"{tag}-{i}", name=f"{tag} round {n}", files=[f"{tag}{n}.ts"])
                      for i in range(30)])
"""


def test_history_is_in_commit_order_with_four_processes_ingesting(root: Path) -> None:
    driftstore.open(root).close()
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _INGESTER, str(root), f"w{k}", "8"],
            stderr=subprocess.PIPE,
            text=True,
            cwd=REPO,
        )
        for k in range(4)
    ]
    for proc in procs:
        _, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err
    with driftstore.open(root) as store:
        rows = sorted(store.history(), key=lambda h: h.id)
    assert len(rows) == 4 * 30 * 8
    times = [h.at for h in rows]
    late = [(a, b) for a, b in itertools.pairwise(times) if b < a]
    assert late == [], f"{len(late)} rows committed later carry an earlier time, e.g. {late[0]}"


# --- plain Python data --------------------------------------------------------------------
def test_plain_dicts_single_strings_and_sort_spellings(store: driftstore.PatternStore) -> None:
    store.add(entry("a", score=0.5, category="api", files=["x.ts"]))
    store.add_many([entry("b", score=0.9, category="auth"), entry("c", score=0.7)])
    store.ingest([entry("d", score=0.1, category="auth")])
    assert store.count(PatternFilter(categories="auth")) == 2  # not 'a','u','t','h'
    assert store.count({"categories": "api", "statuses": "discovered"}) == 2
    by_score = ["b", "c", "a", "d"]
    assert [p.id for p in store.query(sort="-confidence").patterns] == by_score
    assert [p.id for p in store.query(sort="confidence", descending=True).patterns] == by_score
    assert [p.id for p in store.query(sort="confidence").patterns] == by_score[::-1]
    assert store.approve("a").ids == ["a"]
    again = store.approve(["a", "b"])
    assert again.ids == ["b"] and again.unchanged == ["a"]
    assert type(store.status()).__name__ in driftstore.__all__


@pytest.mark.parametrize(
    ("call", "words"),
    [
        (lambda s: s.add(None), "expected a Pattern or a dict"),
        (lambda s: s.add({"id": 3}), "id"),
        (lambda s: s.get(3), "pattern_id must be a string"),
        (lambda s: s.query(filter=42), "filter"),
        (lambda s: s.query({"nosuch": 1}), "unknown field 'nosuch'"),
        (lambda s: s.query(PatternFilter(min_confidence="high")), "min_confidence"),
        (lambda s: s.query(sort="nope"), "cannot sort by 'nope'"),
        (lambda s: s.query(sort=3), "sort"),
        (lambda s: s.by_file(3), "path"),
        (lambda s: s.history(limit="3"), "limit"),
        (lambda s: s.ingest(5), "a scan is a path"),
        (lambda s: s.ingest({"id": "x"}), "a scan is a path"),
        (lambda s: s.approve(5), "a string or a list of strings"),
        (lambda s: s.set_status("a", "maybe"), "status 'maybe' is not valid"),
        (lambda s: s.get("a", bogus=1), "unexpected keyword"),
    ],
)
def test_what_the_api_cannot_take_is_an_invalid_input_error(
    store: driftstore.PatternStore, call: object, words: str
) -> None:
    store.add(entry("a"))
    with pytest.raises(InvalidInputError, match=words):
        call(store)  # type: ignore[operator]


_JUNK = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True),
    st.text(max_size=8),
    st.binary(max_size=4),
    st.lists(st.one_of(st.integers(), st.text(max_size=3)), max_size=3),
    st.dictionaries(st.text(max_size=6), st.integers() | st.text(max_size=4), max_size=3),
)
_METHODS = [
    ("get", 1),
    ("require", 1),
    ("exists", 1),
    ("count", 1),
    ("query", 2),
    ("by_file", 1),
    ("history", 2),
    ("describe", 1),
    ("file_report", 1),
    ("approve", 1),
    ("ignore", 1),
    ("set_status", 2),
    ("add", 1),
    ("add_many", 1),
    ("delete", 1),
    ("resolve_id", 1),
    ("variants", 1),
    ("examples", 1),
    ("effective_for", 2),
    ("as_of", 1),
    ("diff", 2),
]


@given(
    method=st.sampled_from(_METHODS),
    args=st.lists(_JUNK, min_size=2, max_size=2),
)
def test_junk_arguments_only_ever_raise_driftstore_errors(
    tmp_path_factory: pytest.TempPathFactory, method: tuple[str, int], args: list[object]
) -> None:
    root = tmp_path_factory.mktemp("junk")
    with driftstore.open(root) as store:
        store.add(entry("a", files=["x.ts"]))
        name, arity = method
        with contextlib.suppress(DriftStoreError):
            getattr(store, name)(*args[:arity])
    shutil.rmtree(root, ignore_errors=True)
