"""Re-scans recognised by their echo (formats.echo): what a user sees must be exactly what a
full decode of every entry gives, only sooner."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import driftstore
from driftstore import InvalidInputError
from driftstore.engine.base import PatternWrite
from driftstore.formats import scan
from driftstore.model.digest import content_hash, snapshot
from tests.factories import entry

STAMP_1 = "2026-05-01T12:00:00.000Z"
STAMP_2 = "2026-05-02T12:00:00.000Z"


def _entries(stamp: str) -> list[dict[str, Any]]:
    found = []
    for pid in ("a", "b", "c"):
        e = entry(pid, files=[f"{pid}.ts", "shared.ts"], first_seen="2026-01-01T00:00:00.000Z")
        e["metadata"]["lastSeen"] = stamp
        found.append(e)
    return found


def _ndjson(tmp_path: Path, entries: list[dict[str, Any]], name: str = "scan.ndjson") -> Path:
    path = tmp_path / name
    path.write_text("".join(json.dumps(e) + "\n" for e in entries), encoding="utf-8")
    return path


@pytest.fixture
def decoded(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """The `where` of every scan entry decoded, in order."""
    seen: list[str] = []
    original = scan.ScanEntry.decode

    def counting(self: scan.ScanEntry) -> driftstore.Pattern:
        seen.append(self.where)
        return original(self)

    monkeypatch.setattr(scan.ScanEntry, "decode", counting)
    yield seen


def _stored_then_stamped_again(
    store: driftstore.PatternStore, tmp_path: Path, decoded: list[str]
) -> list[dict[str, Any]]:
    """Ingest the scan at STAMP_1, forget what that decoded, and return it at STAMP_2."""
    store.ingest(_ndjson(tmp_path, _entries(STAMP_1)))
    decoded.clear()
    return _entries(STAMP_2)


def _last_seen(store: driftstore.PatternStore, pid: str) -> object:
    got = store.get(pid)
    assert got is not None
    return got.metadata.last_seen


def test_a_rescan_with_moved_stamps_is_unchanged_and_decodes_nothing(
    store: driftstore.PatternStore, tmp_path: Path, decoded: list[str]
) -> None:
    store.ingest(_ndjson(tmp_path, _entries(STAMP_1)))
    assert len(decoded) == 3
    decoded.clear()
    before = {pid: store.get(pid) for pid in "abc"}
    report = store.ingest(_ndjson(tmp_path, _entries(STAMP_2)))
    assert (report.added, report.updated, report.unchanged) == (0, 0, 3)
    assert decoded == []
    for pid in "abc":
        assert _last_seen(store, pid) == STAMP_2
        after = store.get(pid)
        assert after is not None and before[pid] is not None
        after.metadata.last_seen = before[pid].metadata.last_seen  # type: ignore[union-attr]
        assert after == before[pid]
    assert [h.action for h in store.history("a")] == ["created"]


def test_only_the_changed_entry_is_decoded_and_it_is_stored(
    store: driftstore.PatternStore, tmp_path: Path, decoded: list[str]
) -> None:
    changed = _stored_then_stamped_again(store, tmp_path, decoded)
    changed[1]["locations"][0]["line"] = 99
    report = store.ingest(_ndjson(tmp_path, changed))
    assert (report.updated, report.unchanged) == (1, 2)
    assert decoded == [f"{tmp_path / 'scan.ndjson'}: line 2"]
    got = store.get("b")
    assert got is not None and got.locations[0].line == 99


def test_a_user_edit_in_between_makes_the_same_scan_count_again(
    store: driftstore.PatternStore, tmp_path: Path, decoded: list[str]
) -> None:
    first = _ndjson(tmp_path, _entries(STAMP_1))
    store.ingest(first)
    store.update("a", name="Renamed by hand")
    decoded.clear()
    report = store.ingest(_ndjson(tmp_path, _entries(STAMP_2)))
    assert (report.updated, report.unchanged) == (1, 2)
    assert len(decoded) == 1
    got = store.get("a")
    assert got is not None and got.name == _entries(STAMP_1)[0]["name"]
    decoded.clear()  # and from then on it is recognised again
    assert store.ingest(first).unchanged == 3 and decoded == []


def test_an_id_twice_is_refused_even_when_both_lines_are_known(
    store: driftstore.PatternStore, tmp_path: Path
) -> None:
    store.ingest(_ndjson(tmp_path, _entries(STAMP_1)))
    entries = _entries(STAMP_2)
    with pytest.raises(InvalidInputError, match="appears twice"):
        store.ingest(_ndjson(tmp_path, [*entries, entries[0]]))
    assert _last_seen(store, "a") == STAMP_1  # nothing was written


def test_a_pattern_file_category_is_part_of_what_is_recognised(
    store: driftstore.PatternStore, tmp_path: Path
) -> None:
    entries = _entries(STAMP_1)
    for e in entries:
        del e["category"]
    path = tmp_path / "file.json"
    path.write_text(json.dumps({"category": "api", "patterns": entries}), encoding="utf-8")
    store.ingest(path)
    path.write_text(json.dumps({"category": "auth", "patterns": entries}), encoding="utf-8")
    report = store.ingest(path)
    assert report.updated == 3
    got = store.get("a")
    assert got is not None and got.category == "auth"


def test_a_stamp_outside_metadata_is_never_taken_for_last_seen(
    store: driftstore.PatternStore, tmp_path: Path, decoded: list[str]
) -> None:
    entries = _entries(STAMP_1)
    for e in entries:
        del e["metadata"]["lastSeen"]
        e["lastSeen"] = STAMP_1  # an unknown key, kept as an extra
    store.ingest(_ndjson(tmp_path, entries))
    stamped = _last_seen(store, "a")
    decoded.clear()
    for e in entries:
        e["lastSeen"] = STAMP_2
    report = store.ingest(_ndjson(tmp_path, entries))
    assert report.updated == 3  # the extra changed, so the entries did
    assert len(decoded) == 3
    assert _last_seen(store, "a") not in (STAMP_1, STAMP_2)
    assert stamped not in (STAMP_1, STAMP_2)


def test_a_dry_run_and_a_list_of_entries_agree_with_the_file_path(
    store: driftstore.PatternStore, tmp_path: Path, decoded: list[str]
) -> None:
    changed = _stored_then_stamped_again(store, tmp_path, decoded)
    changed[0]["name"] = "Renamed"
    preview = store.ingest(_ndjson(tmp_path, changed), dry_run=True)
    assert (preview.updated, preview.unchanged) == (1, 2)  # type: ignore[union-attr]
    assert [c.id for c in preview.changes.changed] == ["a"]  # type: ignore[union-attr]
    assert len(decoded) == 1
    with pytest.raises(InvalidInputError, match="appears twice"):
        store.ingest(_ndjson(tmp_path, [*changed, changed[1]]), dry_run=True)
    report = store.ingest(_entries(STAMP_2))
    assert (report.updated, report.unchanged) == (0, 3)  # type: ignore[union-attr]
    assert _last_seen(store, "c") == STAMP_2


def test_an_echo_left_beside_changed_content_is_not_trusted(
    store: driftstore.PatternStore, tmp_path: Path
) -> None:
    store.ingest(_ndjson(tmp_path, _entries(STAMP_1)))
    with store.engine.read() as r:
        kept = r.scan_states()["a"].echo
    edited = store.get("a")
    assert edited is not None and kept is not None
    edited.name = "Changed behind the scan's back"
    with store.engine.write() as w:  # a writer that (wrongly) keeps the old echo
        w.put_patterns([PatternWrite(edited, content_hash(edited), w.now, echo=kept)])
    report = store.ingest(_ndjson(tmp_path, _entries(STAMP_2)))
    assert (report.updated, report.unchanged) == (1, 2)
    got = store.get("a")
    assert got is not None and got.name == _entries(STAMP_1)[0]["name"]


@pytest.mark.parametrize("summarised", [True, False], ids=["summary", "rows read"])
def test_history_records_the_old_version_alike_with_or_without_its_summary(
    store: driftstore.PatternStore, tmp_path: Path, summarised: bool
) -> None:
    store.ingest(_ndjson(tmp_path, _entries(STAMP_1)))
    if not summarised:  # as a store written before summaries were kept
        with store.engine.write() as w:
            for pid in "abc":
                held = w.pattern(pid)
                assert held is not None
                w.put_patterns([PatternWrite(held, content_hash(held), w.now)])
    with store.engine.read() as r:
        assert bool(r.location_summaries(["b"])) is summarised
    before = store.get("b")
    assert before is not None
    expected = snapshot(before)
    changed = _entries(STAMP_2)
    changed[1]["locations"][0]["line"] = 99  # moved
    changed[2]["name"] = "Renamed"  # rows kept
    store.ingest(_ndjson(tmp_path, changed))
    old = store.history("b")[0].old
    assert old is not None
    assert old == expected
    got_b, got_c = store.get("b"), store.get("c")
    assert got_b is not None and got_b.locations[0].line == 99
    assert got_c is not None and got_c.name == "Renamed"
    assert [loc.file for loc in got_c.locations] == ["c.ts", "shared.ts"]
    with store.engine.read() as r:  # rows written again carry their summary
        assert set(r.location_summaries(["b", "c"])) == ({"b", "c"} if summarised else {"b"})


def test_a_stream_and_a_file_of_the_same_scan_are_recognised_alike(
    store: driftstore.PatternStore, tmp_path: Path, decoded: list[str]
) -> None:
    path = _ndjson(tmp_path, _entries(STAMP_1))
    store.ingest(path)
    decoded.clear()
    crlf = _ndjson(tmp_path, _entries(STAMP_2)).read_bytes().replace(b"\n", b"\r\n")
    report = store.ingest(io.BytesIO(crlf))
    assert (report.unchanged, decoded) == (3, [])
    assert _last_seen(store, "b") == STAMP_2
