"""Hostile input: fuzzed scans, v2 shards and drift 0.9 files (hypothesis over structure,
random byte damage of the real sample files), SQL metacharacters, 100k-character strings,
unicode and Windows paths.

Each input is either taken whole or refused whole with a DriftStoreError (one clear line
at the CLI, exit 2 for bad input): never a traceback, never a partial change.
"""

from __future__ import annotations

import contextlib
import json
import random
import shutil
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import driftstore
from driftstore.formats import shards
from driftstore.model.entry import to_entry
from tests.conftest import REAL_DRIFT
from tests.faults import tally
from tests.faults.checks import open_and_check
from tests.faults.data import scan, write_scan
from tests.faults.harness import cli, one_line_error
from tests.faults.hostile import ESCAPING, NASTY, hostile_entry, mutate

LEGACY_FILES = sorted(REAL_DRIFT.glob("*/.drift/patterns/*/*.json"))
LAKE_FILES = sorted(REAL_DRIFT.glob("*/.drift/lake/patterns/*.json"))


def _refused_cleanly(exc: driftstore.DriftStoreError) -> None:
    message = str(exc)
    assert message and "Traceback" not in message
    assert len(message) < 2000, "an error line should name the problem, not dump the input"


def _encode(entries: list[Any], shape: str) -> bytes:
    if shape == "array":
        return json.dumps(entries).encode()
    if shape == "pattern file":
        return json.dumps({"version": "2.0.0", "category": "api", "patterns": entries}).encode()
    return "\n".join(json.dumps(e) for e in entries).encode() + b"\n"


@pytest.fixture(scope="module")
def fuzz_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("fuzz") / "project"
    root.mkdir()
    with driftstore.open(root) as store:
        store.ingest(write_scan(root.parent / "seed.json", scan("s", 1, patterns=5, locations=3)))
    return root


@given(
    entries=st.lists(hostile_entry(), min_size=1, max_size=4),
    shape=st.sampled_from(["array", "pattern file", "ndjson"]),
)
def test_a_fuzzed_scan_is_stored_whole_or_refused_whole(
    fuzz_root: Path, entries: list[Any], shape: str
) -> None:
    path = fuzz_root.parent / "fuzzed.json"
    path.write_bytes(_encode(entries, shape))
    before = open_and_check(fuzz_root)
    tally.add("fuzz inputs: scans (hypothesis)")
    try:
        with driftstore.open(fuzz_root) as store:
            store.ingest(path)
    except driftstore.InvalidInputError as exc:
        _refused_cleanly(exc)
        assert open_and_check(fuzz_root) == before, "a refused scan changed the store"
        return
    with driftstore.open(fuzz_root) as store:
        # (a lone `[]` line is a whole, empty JSON array scan: nothing to look up)
        for entry in (e for e in entries if isinstance(e, dict)):
            stored = store.get(entry["id"])
            assert stored is not None and stored.name == entry["name"]
            assert stored.description == entry.get("description", "")


def _as_project_tree(project: Path, source: Path, data: bytes) -> None:
    """`project/.drift/patterns/<status>/<file>` (or lake/patterns) holding only `data`."""
    drift = project / ".drift"
    for folder in ("patterns", "lake"):
        shutil.rmtree(drift / folder, ignore_errors=True)
    relative = source.relative_to(
        source.parents[2] if "lake" not in source.parts else source.parents[3]
    )
    target = drift / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(data)


def test_real_drift_files_with_random_damage_never_crash_or_half_apply(tmp_path: Path) -> None:
    """Each damaged copy of a real file is fed to `ingest` (as a scan) and to `migrate`
    (as a drift 0.9 tree): accepted whole, or refused with the store unchanged."""
    rng = random.Random(tally.seed() + 6)
    cases = tally.count("DRIFTSTORE_MUTATIONS", 40, 1500)
    project = tmp_path / "project"
    project.mkdir()
    damaged = tmp_path / "damaged.json"
    outcomes: dict[str, int] = {}
    for _ in range(cases):
        source = rng.choice(LEGACY_FILES + LAKE_FILES)
        data = mutate(source.read_bytes(), rng)
        damaged.write_bytes(data)
        for operation in ("ingest", "migrate"):
            before = open_and_check(project) if (project / ".drift" / "drift.db").exists() else None
            try:
                with driftstore.open(project) as store:
                    if operation == "ingest":
                        store.ingest(damaged)
                    else:
                        _as_project_tree(project, source, data)
                        store.migrate(backup=False)
                result = "accepted"
            except driftstore.DriftStoreError as exc:
                _refused_cleanly(exc)
                if before is not None:
                    assert open_and_check(project) == before, f"{operation} half-applied"
                result = "refused"
            outcomes[f"{operation} {result}"] = outcomes.get(f"{operation} {result}", 0) + 1
            tally.add(f"fuzz inputs: damaged real files, {operation}")
    assert outcomes.get("ingest refused", 0) and outcomes.get("migrate refused", 0), outcomes


@pytest.fixture(scope="module")
def real_shard(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, bytes]:
    """A v2 shard exported from the real aionui data (a store migrated from it)."""
    tmp = tmp_path_factory.mktemp("shard")
    project = tmp / "aionui"
    shutil.copytree(
        REAL_DRIFT / "jrmatherly__aionui" / ".drift" / "patterns", project / ".drift" / "patterns"
    )
    with driftstore.open(project) as store:
        store.migrate(backup=False)
        store.export(tmp / "out")
    path = tmp / "out" / "patterns" / "components.json"
    return tmp, path.read_bytes()


@given(
    changes=st.lists(hostile_entry(), min_size=1, max_size=3),
    positions=st.lists(st.integers(min_value=0, max_value=10_000), min_size=1, max_size=3),
    header=st.sampled_from(["keep", "category", "version", "counts", "algorithm"]),
    recompute=st.booleans(),
)
def test_a_fuzzed_v2_shard_is_imported_whole_or_refused_whole(
    real_shard: tuple[Path, bytes],
    changes: list[Any],
    positions: list[int],
    header: str,
    recompute: bool,
) -> None:
    """Entries replaced by hostile ones, header fields changed; with `recompute` the
    checksum is made to match (a forger can), so the entry decoder itself is attacked."""
    tmp, original = real_shard
    doc = json.loads(original)
    for change, at in zip(changes, positions, strict=False):
        doc["patterns"][at % len(doc["patterns"])] = change
    if header == "category":
        doc["category"] = "../../etc"
    elif header == "version":
        doc["version"] = "9.9.9"
    elif header == "counts":
        doc["patternCount"] = -1
    elif header == "algorithm":
        doc["checksumAlgorithm"] = "none"
    if recompute:
        # not canonicalisable (NaN...): then the old checksum stays and must be refused
        with contextlib.suppress(TypeError, ValueError, OverflowError):
            doc["checksum"] = shards.entries_checksum(doc["patterns"])
    folder = tmp / "fuzzed"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir()
    (folder / "components.json").write_text(json.dumps(doc))
    root = tmp / "target"
    root.mkdir(exist_ok=True)
    with driftstore.open(root):
        pass
    before = open_and_check(root)
    tally.add("fuzz inputs: v2 shards (hypothesis)")
    try:
        with driftstore.open(root) as store:
            store.import_(folder)
    except driftstore.DriftStoreError as exc:
        _refused_cleanly(exc)
        assert open_and_check(root) == before, "a refused import changed the store"


def test_v2_shards_with_random_byte_damage_are_refused(real_shard: tuple[Path, bytes]) -> None:
    tmp, original = real_shard
    rng = random.Random(tally.seed() + 7)
    root = tmp / "bytes-target"
    root.mkdir()
    with driftstore.open(root):
        pass
    before = open_and_check(root)
    folder = tmp / "damaged-shards"
    folder.mkdir()
    refused = 0
    cases = tally.count("DRIFTSTORE_SHARD_MUTATIONS", 30, 1000)
    for _ in range(cases):
        (folder / "components.json").write_bytes(mutate(original, rng))
        try:
            with driftstore.open(root) as store:
                store.import_(folder)
        except driftstore.DriftStoreError as exc:
            _refused_cleanly(exc)
            assert open_and_check(root) == before
            refused += 1
        else:  # only a change outside the checksummed patterns can pass
            before = open_and_check(root)
        tally.add("fuzz inputs: damaged v2 shards")
    assert refused >= cases * 0.9, f"only {refused} of {cases} damaged shards were refused"


# --- verbatim storage -------------------------------------------------------------------
LONG = "x" * 50_000 + "\u00e9\U0001f600" * 25_000  # 100k characters, multi-byte UTF-8


def _nasty_entries() -> list[dict[str, Any]]:
    entries = scan("q", 1, patterns=len(NASTY) + 1, locations=2)
    for entry, text in zip(entries, [*NASTY, LONG], strict=True):
        entry["name"] = text
        entry["description"] = text[::-1]
        entry["subcategory"] = text[:200]
        entry["metadata"]["tags"] = [text, "plain"]
        entry["locations"][0]["snippet"] = text
        entry["outliers"][0]["reason"] = text
        entry["detector"]["config"]["patternId"] = text
    return entries


def test_sql_metacharacters_and_100k_strings_come_back_verbatim(tmp_path: Path) -> None:
    root = tmp_path / "project"
    root.mkdir()
    entries = _nasty_entries()
    scan_path = write_scan(tmp_path / "nasty.json", entries)
    result = cli("ingest", str(scan_path), "--root", str(root), "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["added"] == len(entries)
    with driftstore.open(root) as store:
        for entry in entries:
            got = to_entry(store.require(entry["id"]))
            for key in ("name", "description", "subcategory"):
                assert got[key] == entry[key]
            assert got["metadata"]["tags"] == entry["metadata"]["tags"]
            assert got["locations"][0]["snippet"] == entry["locations"][0]["snippet"]
            assert got["outliers"][0]["reason"] == entry["outliers"][0]["reason"]
        # LIKE wildcards in a search are plain characters
        found = store.query(driftstore.PatternFilter(search="100%"), limit=None).patterns
        assert [p.name for p in found] == ["100% _done_ \\%"]
        for needle in ("_", "'", "%", "\\", '"', "--"):
            expected = sorted(e["id"] for e in entries if needle in e["name"] + e["description"])
            hits = store.query(driftstore.PatternFilter(search=needle), limit=None).patterns
            assert sorted(p.id for p in hits) == expected, needle
        assert store.count() == len(entries)  # no DROP or DELETE ran
        assert len(store.history()) == len(entries)
    # through the CLI as a whole process, and through export + import
    show = cli("show", entries[-1]["id"], "--root", str(root), "--json")
    assert show.returncode == 0, show.stderr
    assert json.loads(show.stdout)["name"] == LONG
    assert cli("export", "--root", str(root)).returncode == 0
    copy = tmp_path / "copy"
    copy.mkdir()
    imported = cli("import", str(root / ".drift"), "--root", str(copy))
    assert imported.returncode == 0, imported.stderr
    with driftstore.open(copy) as store:
        for entry in entries:
            assert store.require(entry["id"]).name == entry["name"]
    tally.add("verbatim round trips: SQL metacharacters and 100k strings", len(entries))


def test_unicode_and_windows_paths_are_one_file(tmp_path: Path) -> None:
    root = tmp_path / "project"
    root.mkdir()
    spellings = {
        "src\\ünï\\文件.ts": "src/ünï/文件.ts",
        ".\\docs\\日本語\\😀.md": "docs/日本語/😀.md",
        "src//Straße/./e\u0301.ts": "src/Straße/e\u0301.ts",
        "lib\\a b\\c'd.ts": "lib/a b/c'd.ts",
    }
    entries = scan("u", 1, patterns=len(spellings), locations=1)
    for entry, raw in zip(entries, spellings, strict=True):
        entry["locations"][0]["file"] = raw
    with driftstore.open(root) as store:
        store.ingest(write_scan(tmp_path / "u.json", entries))
        for entry, (raw, normal) in zip(entries, spellings.items(), strict=True):
            for asked in (raw, normal):
                assert [p.id for p in store.by_file(asked)] == [entry["id"]], asked
            loc = store.require(entry["id"]).locations[0]
            assert loc.file == normal
            assert loc.original_file in (raw, msgspec_unset())
    for raw, normal in spellings.items():
        result = cli("file", raw, "--root", str(root), "--json")
        assert result.returncode == 0, result.stderr
        assert json.loads(result.stdout)["file"] == normal
    tally.add("verbatim round trips: unicode and Windows paths", len(spellings))


def msgspec_unset() -> Any:
    from msgspec import UNSET

    return UNSET


def test_a_scan_with_an_escaping_path_is_refused_whole(tmp_path: Path) -> None:
    root = tmp_path / "project"
    root.mkdir()
    with driftstore.open(root) as store:
        store.ingest(write_scan(tmp_path / "ok.json", scan("k", 1, patterns=3)))
    before = open_and_check(root)
    for n, bad in enumerate(ESCAPING):
        entries = scan("k", 2, patterns=3)
        entries[n % 3]["locations"][1]["file"] = bad
        result = cli("ingest", str(write_scan(tmp_path / "bad.json", entries)), "--root", str(root))
        line = one_line_error(result, 2, "outside the project")
        assert f"k{n % 3:04d}" in line and "locations[1].file" in line  # says where
        assert open_and_check(root) == before
        tally.add("escaping paths refused: scan locations")
