"""Variants through the Python API: checks, history, effective settings, by_file."""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st

import driftstore
from driftstore import (
    InvalidInputError,
    PatternNotFoundError,
    Scope,
    Severity,
    Variant,
    VariantNotFoundError,
    to_builtins,
)
from driftstore.facade.variants import parse_config
from driftstore.model.clock import format_iso
from tests.factories import make_pattern


@pytest.fixture
def seeded(store: driftstore.PatternStore) -> driftstore.PatternStore:
    store.add(make_pattern("p1", files=["src/api/x.ts", "src/apiv2/x.ts", "lib/y.ts"]))
    store.add(make_pattern("p2", files=["src/api/x.ts"], severity=Severity.WARNING))
    return store


def _history_count(store: driftstore.PatternStore) -> int:
    return len(store.history())


def test_a_variant_is_stored_with_its_history_row(seeded: driftstore.PatternStore) -> None:
    v = seeded.add_variant(
        "p1",
        scope="directory",
        path="./src\\api/",
        severity="error",
        config='{"maxDepth": 3}',
        by="ana",
    )
    assert v.id is not None
    assert (v.scope, v.scope_path, v.severity_override) == (
        Scope.DIRECTORY,
        "src/api",
        Severity.ERROR,
    )
    assert v.config_override == {"maxDepth": 3}
    assert seeded.variants("p1") == [v]
    entry = seeded.history("p1", limit=1)[0]
    assert (entry.action, entry.reason, entry.by, entry.old) == (
        "updated",
        "variant added",
        "ana",
        None,
    )
    assert entry.new == {"variant": msgspec.to_builtins(v)}

    removed = seeded.remove_variant(v.id, by="bo")
    assert removed == v
    assert seeded.variants("p1") == []
    entry = seeded.history("p1", limit=1)[0]
    assert (entry.reason, entry.old, entry.new) == (
        "variant removed",
        {"variant": msgspec.to_builtins(v)},
        None,
    )


def test_adding_the_same_variant_again_changes_nothing(seeded: driftstore.PatternStore) -> None:
    first = seeded.add_variant("p1", scope="file", path="src/a.ts", severity="hint", by="ana")
    rows, generation = len(seeded.history("p1")), seeded.generation
    again = seeded.add_variant("p1", scope="file", path="./src/a.ts", severity="hint", by="bo")
    assert again == first and seeded.variants("p1") == [first]
    assert len(seeded.history("p1")) == rows and seeded.generation == generation
    # a different override is a variant of its own
    other = seeded.add_variant("p1", scope="file", path="src/a.ts", severity="error")
    assert other.id != first.id and len(seeded.variants("p1")) == 2


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"scope": "galaxy", "severity": "error"}, "scope 'galaxy' is not valid"),
        ({"scope": "directory", "severity": "error"}, "needs --path"),
        ({"scope": "global", "path": "src", "severity": "error"}, "drop --path"),
        (
            {"scope": "directory", "path": "../../etc/passwd", "severity": "error"},
            "outside the project",
        ),
        ({"scope": "file", "path": "/etc/passwd", "severity": "error"}, "outside the project"),
        ({"scope": "directory", "path": "./", "severity": "error"}, "project root"),
        ({"scope": "global", "config": "{not json"}, "not valid JSON"),
        ({"scope": "global", "config": "[1, 2]"}, "must be a JSON object"),
        ({"scope": "global", "severity": "fatal"}, "severity 'fatal'"),
        ({"scope": "global", "threshold": float("nan")}, "finite"),
        ({"scope": "global", "severity": "error", "expires": "tomorrow"}, "ISO-8601"),
        (
            {"scope": "global", "severity": "error", "expires": "2001-01-01T00:00:00Z"},
            "not in the future",
        ),
        ({"scope": "global"}, "must override something"),
    ],
)
def test_bad_variants_are_refused_and_nothing_is_stored(
    seeded: driftstore.PatternStore, kwargs: dict[str, object], message: str
) -> None:
    before = _history_count(seeded)
    with pytest.raises(InvalidInputError, match=message):
        seeded.add_variant("p1", **kwargs)  # type: ignore[arg-type]
    assert seeded.variants() == []
    assert _history_count(seeded) == before


def test_a_variant_on_an_unknown_pattern_is_refused(seeded: driftstore.PatternStore) -> None:
    with pytest.raises(PatternNotFoundError):
        seeded.add_variant("nope", scope="global", severity="error")
    with pytest.raises(VariantNotFoundError, match="variant 42 not found"):
        seeded.remove_variant(42)


def test_a_path_through_a_link_out_of_the_project_is_refused(
    seeded: driftstore.PatternStore, tmp_path: Path
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    os.symlink(outside, seeded.root / "escape")
    with pytest.raises(InvalidInputError, match="through a link"):
        seeded.add_variant("p1", scope="directory", path="escape", enabled=False)
    with pytest.raises(InvalidInputError, match="through a link"):
        seeded.add_variant("p1", scope="file", path="escape/x.ts", enabled=False)
    assert seeded.variants() == []


def test_effective_settings_and_by_file_follow_the_variants(
    seeded: driftstore.PatternStore,
) -> None:
    seeded.add_variant("p1", scope="global", severity="warning")
    seeded.add_variant("p1", scope="directory", path="src/api", enabled=False)
    seeded.add_variant("p1", scope="file", path="src/api/x.ts", threshold=0.7)
    eff = seeded.effective_for("p1", "src/api/x.ts")
    assert (eff.severity, eff.enabled, eff.threshold) == (Severity.WARNING, False, 0.7)
    assert seeded.effective_for("p1", "src/apiv2/x.ts").enabled is True

    for fresh in (False, True):
        hidden = seeded.by_file("src/api/x.ts", include_disabled=False, fresh=fresh)
        assert [p.id for p in hidden] == ["p2"]
        shown = seeded.by_file("src/api/x.ts", include_disabled=True, fresh=fresh)
        assert [(p.id, p.effective.enabled) for p in shown] == [("p1", False), ("p2", True)]
        assert shown[0].effective.severity == Severity.WARNING
        assert [p.effective.severity for p in seeded.by_file("src/apiv2/x.ts", fresh=fresh)] == [
            Severity.WARNING
        ]


def test_show_lists_variants_and_marks_expired_ones(seeded: driftstore.PatternStore) -> None:
    soon = datetime.now(UTC) + timedelta(seconds=1.2)
    seeded.add_variant("p1", scope="global", severity="error", expires=soon)
    seeded.add_variant("p1", scope="file", path="lib/y.ts", enabled=False)
    assert [v["expired"] for v in to_builtins(seeded.describe("p1"))["variants"]] == [False, False]
    assert seeded.by_file("lib/y.ts", include_disabled=True)[0].effective.severity == Severity.ERROR
    time.sleep(max(0.0, (soon - datetime.now(UTC)).total_seconds()) + 0.05)
    assert [v["expired"] for v in to_builtins(seeded.variant_views("p1"))] == [True, False]
    # the index's cached answer for lib/y.ts ends with the expiry, without any write
    assert seeded.by_file("lib/y.ts", include_disabled=True)[0].effective.severity == Severity.INFO


def test_variants_of_a_deleted_pattern_go_with_it(seeded: driftstore.PatternStore) -> None:
    seeded.add_variant("p1", scope="global", severity="error")
    seeded.delete("p1")
    assert seeded.variants() == []
    with pytest.raises(PatternNotFoundError):
        seeded.variants("p1")


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53), 2**53) | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=10,
)


@given(text=st.text(max_size=40) | json_values.map(lambda v: msgspec.json.encode(v).decode()))
def test_config_text_is_an_object_or_one_clear_error(text: str) -> None:
    try:
        value = parse_config(text)
    except InvalidInputError as exc:
        assert "\n" not in str(exc)
        assert "config" in str(exc)
    else:
        assert isinstance(value, dict)
        assert value == msgspec.json.decode(text.encode())


@given(
    scope=st.sampled_from(list(Scope)),
    path=st.text(alphabet="abc/", min_size=1, max_size=12),
    severity=st.none() | st.sampled_from(list(Severity)),
    enabled=st.none() | st.booleans(),
    threshold=st.none() | st.floats(allow_nan=False, allow_infinity=False),
    config=st.none() | st.dictionaries(st.text(max_size=4), json_values, max_size=3),
    expires=st.none()
    | st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2200, 1, 1)),
)
def test_variants_round_trip_through_the_database(
    tmp_path_factory: pytest.TempPathFactory,
    scope: Scope,
    path: str,
    severity: Severity | None,
    enabled: bool | None,
    threshold: float | None,
    config: dict[str, object] | None,
    expires: datetime | None,
) -> None:
    root = tmp_path_factory.mktemp("rt")
    with driftstore.open(root) as store:
        store.add(make_pattern("p1"))
        v = Variant(
            pattern_id="p1",
            scope=scope,
            scope_path=None if scope == Scope.GLOBAL else path,
            severity_override=severity,
            enabled_override=enabled,
            threshold_override=threshold,
            config_override=config,
            expires_at=None if expires is None else format_iso(expires.replace(tzinfo=UTC)),
            created_at="2026-05-01T12:00:00.000Z",
        )
        with store.engine.write() as w:  # the engine's own door, below the facade's checks
            vid = w.add_variant(v).id
        stored = store.variants("p1")
    assert stored == [msgspec.structs.replace(v, id=vid, created_at="2026-05-01T12:00:00.000Z")]
