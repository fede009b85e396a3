"""Export's fast path writes exactly the bytes the general Location path writes.

The reference is built here the straightforward way (every row through `row_to_location`
and `location_out`, one canonical encoding per entry) and compared with the files export
wrote, on generated stores and on stored values no scan would leave (hand edits, old
versions): numbers JavaScript spells differently, odd list kinds and outlier flags, extras.
Verify's row scan is checked to name a damaged location row, as the per-pattern read did.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import apsw
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import driftstore
from driftstore import Pattern
from driftstore.engine.sqlite import bookkeeping as exchange_sql
from driftstore.engine.sqlite import examples as example_sql
from driftstore.engine.sqlite import integrity
from driftstore.engine.sqlite import variants as variant_sql
from driftstore.facade.paths import grouped
from driftstore.formats.canonical import canonical_fast
from driftstore.formats.checksum import v2_checksum, v2_checksum_of_parts
from driftstore.formats.shards import encode_v2_shard, v2_entry
from driftstore.formats.shards import fast as shard_fast
from driftstore.model.pattern import Location
from tests.factories import make_pattern
from tests.formats.strategies import patterns
from tests.sqlite_access import database

#: these tests read and edit SQLite's own rows and indexes
pytestmark = pytest.mark.sqlite_only

_counter = itertools.count()


def _reference(store: driftstore.PatternStore) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """category -> (entries, checksum), and file -> ids, by the general path."""
    shards: dict[str, Any] = {}
    by_file: dict[str, set[str]] = {}
    with database(store).reader() as conn:
        variants = grouped(variant_sql.list_variants(conn))
        examples = grouped(example_sql.list_examples(conn))
        for category in exchange_sql.ids_by_category(conn):
            found = exchange_sql.load_category(conn, category)
            entries = [v2_entry(p, variants.get(p.id), examples.get(p.id)) for p in found]
            checksum = v2_checksum_of_parts(canonical_fast(e) for e in entries)
            shards[category] = (entries, checksum)
            for p in found:
                for loc in p.all_locations():
                    by_file.setdefault(loc.file, set()).add(p.id)
    return shards, {f: sorted(ids) for f, ids in sorted(by_file.items())}


def _assert_export_is_the_reference(store: driftstore.PatternStore, out: Path) -> None:
    shards, by_file = _reference(store)
    store.export(out)
    written = sorted((out / "patterns").glob("*.json"))
    assert [p.stem for p in written] == sorted(shards)
    for path in written:
        data = path.read_bytes()
        entries, checksum = shards[path.stem]
        stamp = json.loads(data)["lastUpdated"]
        expected = encode_v2_shard(path.stem, entries, last_updated=stamp, checksum=checksum)
        assert data == expected, path.name
    index = json.loads((out / "indexes" / "by-file.json").read_bytes())
    assert index["patterns"] == by_file


@settings(max_examples=15)
@given(
    st.lists(
        st.sampled_from(["api", "auth"]).flatmap(lambda c: patterns(category=c)),
        min_size=1,
        max_size=4,
        unique_by=lambda p: p.id,
    )
)
def test_generated_stores_export_as_the_general_path_writes(
    tmp_path: Path, items: list[Pattern]
) -> None:
    base = tmp_path / f"case{next(_counter)}"
    base.mkdir()
    with driftstore.open(base) as store:
        store.add_many(items)
        _assert_export_is_the_reference(store, base / "out")


def _a2(pid: str, category: str = "api") -> Pattern:
    """Drift's A2 shape: every location with isOutlier and confidence, outliers inline."""
    p = make_pattern(pid, category=category, outlier_files=["lib\\old.ts"])
    p.locations = [
        Location(file="src/a.ts", line=3, column=1, is_outlier=False, confidence=0.38),
        Location(
            file="src/b.ts", line=9, column=4, is_outlier=True, confidence=0.61, outlier_reason="x"
        ),
        Location(file="src/c.ts", line=2, column=0, end_line=4, snippet="let x", confidence=1.0),
    ]
    return p


@pytest.fixture
def hand_edited(root: Path) -> Iterator[driftstore.PatternStore]:
    with driftstore.open(root) as store:
        store.add_many(
            [_a2("a1"), _a2("a2"), _a2("u1", "auth"), make_pattern("t1", category="types")]
        )
        yield store


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE pattern_locations SET confidence = 1e-7 WHERE id = 1",
        "UPDATE pattern_locations SET confidence = 0.00005 WHERE id = 2",
        "UPDATE pattern_locations SET confidence = 0.0001 WHERE id = 2",
        "UPDATE pattern_locations SET confidence = 0.0 WHERE id = 1",
        "UPDATE pattern_locations SET confidence = -0.0 WHERE id = 1",
        "UPDATE pattern_locations SET confidence = 7 WHERE id = 1",
        "UPDATE pattern_locations SET confidence = 1e15 WHERE id = 1",
        "UPDATE pattern_locations SET confidence = 123456789012345678.0 WHERE id = 1",
        "UPDATE pattern_locations SET confidence = 1e300 WHERE id = 1",
        "UPDATE pattern_locations SET confidence = -0.5 WHERE id = 1",
        "UPDATE pattern_locations SET confidence = 'high' WHERE id = 1",
        "UPDATE pattern_locations SET confidence = x'00ff' WHERE id = 1",
        "UPDATE pattern_locations SET deviation_score = 2.5e-6 WHERE list_kind = 1",
        "UPDATE pattern_locations SET deviation_score = 1.0 WHERE list_kind = 1",
        "UPDATE pattern_locations SET outlier_key = 2 WHERE id = 1",
        "UPDATE pattern_locations SET outlier_key = 'yes' WHERE id = 2",
        "UPDATE pattern_locations SET list_kind = 2 WHERE id = 2",
        "UPDATE pattern_locations SET list_kind = 1 WHERE id = 5",
        "UPDATE pattern_locations SET extras = '{\"kept\": [1, 2.5e-7]}' WHERE id = 1",
        'UPDATE pattern_locations SET extras = \'{"reason": "r"}\' WHERE id = 1',
        "UPDATE pattern_locations SET outlier_reason = 'why' WHERE list_kind = 0",
        "UPDATE pattern_locations SET end_column = 12, snippet = 'é\U0001f600' WHERE id = 7",
        "UPDATE pattern_locations SET original_file = 'src\\\\a.ts' WHERE id = 1",
        "UPDATE pattern_locations SET file = 'x\"\\\\\n\t\u2028' WHERE id = 4",
    ],
)
def test_hand_edited_rows_export_as_the_general_path_writes(
    hand_edited: driftstore.PatternStore, root: Path, sql: str
) -> None:
    raw = apsw.Connection(str(root / ".drift" / "drift.db"))
    with raw:  # a deliberate edit: its digests are renewed, or export would refuse it
        raw.execute(sql)
        integrity.fill_digests(raw.cursor())
    raw.close()
    _assert_export_is_the_reference(hand_edited, root / "out")


def test_the_fast_path_takes_the_usual_rows(hand_edited: driftstore.PatternStore) -> None:
    """A2 rows, outliers lists and end positions need no Location objects."""
    with database(hand_edited).reader() as conn:
        answers = [
            shard_fast.export_lists(rows)
            for p, rows in exchange_sql.export_category(conn, "api", shard_fast.LeanLocation)
        ]
        full = exchange_sql.export_locations(conn, "a1", shard_fast.ExportLocation)
    assert answers == [shard_fast.NEEDS_FULL_ROWS] * 2
    locations, outliers = shard_fast.export_lists(full)  # type: ignore[misc]
    assert [loc.is_outlier for loc in locations] == [False, True, None]
    assert [(o.file, o.reason, o.flag) for o in outliers] == [("lib/old.ts", "breaks it", None)]


def test_the_row_columns_match_the_writer_structs() -> None:
    lean = shard_fast.LeanLocation.__struct_fields__
    full = shard_fast.ExportLocation.__struct_fields__
    assert (lean, full) == (exchange_sql.LEAN_COLUMNS, exchange_sql.FULL_COLUMNS)


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE pattern_locations SET file = CAST(x'70ff00fe' AS TEXT) WHERE id = 5",
        "UPDATE pattern_locations SET extras = '{\"k\":' WHERE id = 5",
    ],
)
def test_verify_names_the_patterns_of_an_unreadable_location_row(
    hand_edited: driftstore.PatternStore, root: Path, sql: str
) -> None:
    assert hand_edited.verify().ok
    raw = apsw.Connection(str(root / ".drift" / "drift.db"))
    raw.execute(sql)
    raw.close()
    report = hand_edited.verify()
    assert not report.ok
    # row 5 is a2's first: the digests name its pattern exactly (`engine.integrity`)
    problems = [p.problem for p in report.problems]
    assert any(p.startswith("the locations of pattern 'a2' ") for p in problems), problems
    with pytest.raises(driftstore.IntegrityError, match="verify"):
        hand_edited.export(root / "out")


def _indexes(store: driftstore.PatternStore) -> list[Any]:
    with database(store).reader() as conn:
        return sorted(
            conn.execute(
                "SELECT name, sql FROM sqlite_schema WHERE type = 'index' AND sql IS NOT NULL"
            )
        )


def test_a_bulk_import_builds_every_index_back(
    hand_edited: driftstore.PatternStore, tmp_path: Path
) -> None:
    """An import into an empty store drops the indexes and builds them after the rows; a
    refused one (a bad entry in the last shard) rolls the drop back too."""
    out = tmp_path / "out"
    hand_edited.export(out)
    (tmp_path / "fresh").mkdir()
    (tmp_path / "refused").mkdir()
    with driftstore.open(tmp_path / "fresh") as fresh, driftstore.open(tmp_path / "refused") as bad:
        before = _indexes(fresh)
        assert len(before) > 10
        fresh.import_(out)
        assert _indexes(fresh) == before
        assert (
            fresh.query(sort="confidence", limit=None).patterns
            == hand_edited.query(sort="confidence", limit=None).patterns
        )
        path = out / "patterns" / "types.json"
        doc = json.loads(path.read_bytes())
        doc["patterns"][0]["detector"] = "not an object"
        doc["checksum"] = v2_checksum(doc["patterns"])
        path.write_text(json.dumps(doc))
        with pytest.raises(driftstore.InvalidInputError, match=r"types\.json"):
            bad.import_(out)
        assert bad.count() == 0 and _indexes(bad) == before


def test_verify_names_an_unreadable_row_of_no_pattern(
    hand_edited: driftstore.PatternStore, root: Path
) -> None:
    raw = apsw.Connection(str(root / ".drift" / "drift.db"))
    raw.execute("PRAGMA foreign_keys = OFF")
    raw.execute(
        "INSERT INTO pattern_locations (pattern_id, file, line, column_num) "
        "VALUES ('ghost', CAST(x'70ff' AS TEXT), 1, 1)"
    )
    raw.close()
    problems = [p.problem for p in hand_edited.verify().problems]
    assert any("points at a missing patterns row" in p for p in problems)
    assert any(p.startswith("pattern_locations: stored data cannot be read") for p in problems)
