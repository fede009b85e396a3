"""The B6 speed-ups of export, import and verify change no answer.

- export reads a pattern's consecutive location rows by row-id range, and any other
  pattern through its index: both give the same bytes;
- export makes each folder's renames durable once, after its files;
- a shard's checksum pass is remembered by the hash of the file's bytes: a second read of
  the same bytes gives the same answer without decoding again, and any changed byte is
  checked afresh (verify after an import still finds a shard edited in between).
"""

from __future__ import annotations

import json
from pathlib import Path

import apsw
import msgspec
import pytest
import xxhash

import driftstore
from driftstore.engine.sqlite import bookkeeping as exchange_sql
from driftstore.facade import export as exchange
from driftstore.formats import atomic, shards
from driftstore.formats.shards import encode_v2_shard, entries_checksum, read_v2_shard, v2_entry
from driftstore.formats.shards import fast as shard_fast
from driftstore.formats.shards import read as shard_read
from tests.factories import make_pattern
from tests.sqlite_access import database

STAMP = "2026-05-01T12:00:00.000Z"


def _files(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*.json"))
    }


@pytest.fixture
def three(store: driftstore.PatternStore) -> driftstore.PatternStore:
    store.add_many(
        [
            make_pattern("a1", files=["src/a.ts", "src/b.ts", "lib/c.ts"], outlier_files=["x.ts"]),
            make_pattern("a2", files=["src/a.ts", "src/d.ts"]),
            make_pattern("u1", category="auth", files=["lib/ü.ts"]),
        ]
    )
    return store


def _move_last_row_to_the_end(root: Path, pattern_id: str) -> None:
    """Write a pattern's last location row again under a new id and delete the old one:
    the same rows in the same order, but no longer one run of row ids."""
    conn = apsw.Connection(str(root / ".drift" / "drift.db"))
    with conn:
        (last,) = conn.execute(
            "SELECT max(id) FROM pattern_locations WHERE pattern_id = ?", (pattern_id,)
        ).fetchone()
        columns = [
            r[1] for r in conn.execute("PRAGMA table_info(pattern_locations)") if r[1] != "id"
        ]
        names = ", ".join(columns)
        conn.execute(
            f"INSERT INTO pattern_locations ({names}) SELECT {names} FROM pattern_locations "
            "WHERE id = ?",
            (last,),
        )
        conn.execute("DELETE FROM pattern_locations WHERE id = ?", (last,))
    conn.close()


@pytest.mark.sqlite_only
def test_rows_read_by_range_or_by_index_export_the_same_bytes(
    three: driftstore.PatternStore, root: Path
) -> None:
    three.export(root / "before")
    with database(three).reader() as conn:
        assert set(exchange_sql.location_spans(conn)) == {"a1", "a2", "u1"}
    _move_last_row_to_the_end(root, "a1")
    with database(three).reader() as conn:
        spans = exchange_sql.location_spans(conn)
    assert set(spans) == {"a2", "u1"}  # a1 is now read through the pattern_id index
    three.export(root / "after")
    assert _files(root / "after") == _files(root / "before")
    assert three.verify().ok


def test_each_folder_is_synced_once_after_its_files(
    three: driftstore.PatternStore, root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    synced: list[Path] = []
    monkeypatch.setattr(exchange, "fsync_dir", synced.append)
    monkeypatch.setattr(atomic, "fsync_dir", synced.append)
    out = root / "out"
    report = three.export(out)
    assert len(report.written) == 4  # two shards, two index files
    assert sorted(synced) == [out / "indexes", out / "patterns"]


def _shard() -> bytes:
    items = [make_pattern("p1", files=["a.ts", "b.ts"]), make_pattern("p2", files=["c.ts"])]
    entries = [v2_entry(p) for p in items]
    return encode_v2_shard("api", entries, last_updated=STAMP, checksum=entries_checksum(entries))


@pytest.mark.engine_free  # the decoded-shard cache is per process
def test_a_second_read_of_the_same_bytes_is_not_decoded_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    data = _shard()
    first = read_v2_shard(data, path="api.json", expected_category="api")
    assert first.checksum_ok and not first.problems
    calls: list[object] = []
    real = shard_read.canonical_entry

    def counted(raw: object) -> object:
        calls.append(raw)
        return real(raw)  # type: ignore[arg-type]

    monkeypatch.setattr(shard_read, "canonical_entry", counted)
    again = read_v2_shard(bytes(data), path="other/api.json", expected_category="api")
    assert calls == []
    assert (again.path, again.computed, again.claimed, again.last_updated) == (
        "other/api.json",
        first.computed,
        first.claimed,
        first.last_updated,
    )
    assert [bytes(e) for e in again.entries] == [bytes(e) for e in first.entries]
    assert shards.is_v2_shard(data)
    with pytest.raises(driftstore.InvalidInputError, match=r"named auth\.json"):
        read_v2_shard(data, path="auth.json", expected_category="auth")
    # one changed byte is a new file: read and checked afresh
    edited = data.replace(b'"Pattern p2"', b'"Pattern q2"')
    changed = read_v2_shard(edited, path="api.json", expected_category="api")
    assert len(calls) == 2 and not changed.checksum_ok


def test_verify_after_an_import_finds_a_shard_edited_in_between(
    three: driftstore.PatternStore, root: Path, tmp_path: Path
) -> None:
    three.export()
    other = tmp_path / "other"
    (other / ".drift").mkdir(parents=True)
    for name, data in _files(root / ".drift").items():
        target = other / ".drift" / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    with driftstore.open(other) as fresh:
        assert fresh.import_().imported == 3
        assert fresh.verify().ok
        shard = other / ".drift" / "patterns" / "api.json"
        doc = json.loads(shard.read_bytes())
        doc["patterns"][0]["name"] = "edited"
        shard.write_text(json.dumps(doc, indent=2))
        report = fresh.verify()
    assert not report.ok
    [problem] = report.problems
    assert problem.path.endswith("patterns/api.json") and "checksum mismatch" in problem.problem


def test_the_checksum_pass_structs_are_declared_in_canonical_order() -> None:
    """Their sorted encoding then needs no per-object sort (the output is the same)."""
    for cls in (shard_fast._CheckLocation, shard_fast._CheckEntry):
        names = [f.encode_name for f in msgspec.structs.fields(cls)]
        assert names == sorted(names), cls.__name__


def test_the_remembered_reads_are_bounded_oldest_first(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shard_read, "_CHECKED", {})
    monkeypatch.setattr(shard_read, "_CHECKED_MAX", 2)
    files = [_shard().replace(b'"Pattern p1"', f'"Pattern {n}"'.encode()) for n in "abc"]
    for data in files:
        read_v2_shard(data, path="api.json", expected_category="api")
    assert list(shard_read._CHECKED) == [xxhash.xxh3_128_digest(data) for data in files[1:]]
    assert not shards.is_v2_shard(files[0][:-3])  # neither remembered nor a whole file
    assert [shards.is_v2_shard(data) for data in files] == [True, True, True]
