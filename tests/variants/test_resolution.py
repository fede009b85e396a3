"""Effective settings: which variant wins where, segment matching, expiry at the instant."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from driftstore.model.clock import format_iso
from driftstore.model.effective import covers_directory, matches, resolve
from driftstore.model.enums import Scope, Severity
from driftstore.model.records import Variant

NOW = datetime(2026, 5, 1, 12, 0, 0, tzinfo=UTC)


def variant(vid: int, scope: Scope, path: str | None = None, **overrides: object) -> Variant:
    return Variant(pattern_id="p1", scope=scope, scope_path=path, id=vid, **overrides)  # type: ignore[arg-type]


OVERLAPPING = [
    variant(1, Scope.GLOBAL, severity_override=Severity.WARNING, config_override={"a": 1, "b": 1}),
    variant(2, Scope.DIRECTORY, "src", severity_override=Severity.ERROR, threshold_override=0.5),
    variant(3, Scope.DIRECTORY, "src/api", enabled_override=False, config_override={"b": 2}),
    variant(4, Scope.FILE, "src/api/x.ts", severity_override=Severity.HINT, enabled_override=True),
]


def test_most_specific_wins_setting_by_setting() -> None:
    # the file variant: its severity and enabled; threshold from src; config merged
    eff = resolve(Severity.INFO, OVERLAPPING, "src/api/x.ts", NOW)
    assert eff.severity == Severity.HINT
    assert eff.enabled is True
    assert eff.threshold == 0.5
    assert eff.config == {"a": 1, "b": 2}
    assert eff.variant_ids == [4, 3, 2, 1]

    # the longest directory (src/api) disables; severity comes from the shorter src
    eff = resolve(Severity.INFO, OVERLAPPING, "src/api/y.ts", NOW)
    assert (eff.severity, eff.enabled, eff.threshold) == (Severity.ERROR, False, 0.5)
    assert eff.variant_ids == [3, 2, 1]

    # only src and global
    eff = resolve(Severity.INFO, OVERLAPPING, "src/core/z.ts", NOW)
    assert (eff.severity, eff.enabled, eff.config) == (Severity.ERROR, True, {"a": 1, "b": 1})

    # only global
    eff = resolve(Severity.INFO, OVERLAPPING, "lib/w.ts", NOW)
    assert (eff.severity, eff.enabled, eff.threshold) == (Severity.WARNING, True, None)


def test_without_variants_the_pattern_keeps_its_own_values() -> None:
    eff = resolve(Severity.ERROR, [], "a.ts", NOW)
    assert (eff.severity, eff.enabled, eff.threshold, eff.config) == (
        Severity.ERROR,
        True,
        None,
        None,
    )


def test_the_newest_of_two_equal_scopes_wins() -> None:
    older = variant(5, Scope.DIRECTORY, "src", severity_override=Severity.ERROR)
    newer = variant(9, Scope.DIRECTORY, "src", severity_override=Severity.HINT)
    assert resolve(Severity.INFO, [newer, older], "src/a.ts", NOW).severity == Severity.HINT
    assert resolve(Severity.INFO, [older, newer], "src/a.ts", NOW).severity == Severity.HINT


def test_directories_match_whole_segments_only() -> None:
    assert covers_directory("src/api", "src/api/x.ts")
    assert covers_directory("src/api", "src/api/deep/er/y.ts")
    assert not covers_directory("src/api", "src/apiv2/x.ts")
    assert not covers_directory("src/api", "src/api")
    assert not covers_directory("src/api", "src/ap")
    assert not covers_directory("src/api", "lib/src/api/x.ts")
    dir_variant = variant(1, Scope.DIRECTORY, "src/api", enabled_override=False)
    assert resolve(Severity.INFO, [dir_variant], "src/apiv2/x.ts", NOW).enabled is True
    assert resolve(Severity.INFO, [dir_variant], "src/api/x.ts", NOW).enabled is False
    file_variant = variant(2, Scope.FILE, "src/api/x.ts", enabled_override=False)
    assert not matches(file_variant, "src/api/x.tsx")
    assert matches(file_variant, "src/api/x.ts")


def test_expiry_applies_at_the_instant() -> None:
    ends = NOW + timedelta(hours=1)
    v = variant(1, Scope.GLOBAL, severity_override=Severity.ERROR, expires_at=format_iso(ends))
    just_before = ends - timedelta(milliseconds=1)
    assert resolve(Severity.INFO, [v], "a.ts", just_before).severity == Severity.ERROR
    assert resolve(Severity.INFO, [v], "a.ts", ends).severity == Severity.INFO
    assert resolve(Severity.INFO, [v], "a.ts", ends + timedelta(days=1)).variant_ids == []


def test_an_expired_specific_variant_falls_back_to_the_broader_one() -> None:
    ends = NOW - timedelta(seconds=1)
    broad = variant(1, Scope.GLOBAL, severity_override=Severity.WARNING)
    narrow = variant(
        2, Scope.FILE, "a.ts", severity_override=Severity.ERROR, expires_at=format_iso(ends)
    )
    assert resolve(Severity.INFO, [broad, narrow], "a.ts", NOW).severity == Severity.WARNING


segments = st.lists(st.sampled_from(["src", "api", "apiv2", "a", "x.ts"]), min_size=1, max_size=4)


@given(directory=segments, file=segments)
def test_directory_cover_is_a_prefix_of_whole_segments(
    directory: list[str], file: list[str]
) -> None:
    expected = len(file) > len(directory) and file[: len(directory)] == directory
    assert covers_directory("/".join(directory), "/".join(file)) == expected


severities = st.sampled_from(list(Severity))


@st.composite
def variant_sets(draw: st.DrawFn) -> list[Variant]:
    out = []
    for vid in range(1, draw(st.integers(0, 6)) + 1):
        scope = draw(st.sampled_from(list(Scope)))
        path = None if scope == Scope.GLOBAL else "/".join(draw(segments))
        out.append(
            variant(
                vid,
                scope,
                path,
                severity_override=draw(st.none() | severities),
                enabled_override=draw(st.none() | st.booleans()),
            )
        )
    return out


@given(variants=variant_sets(), file=segments)
def test_severity_comes_from_the_most_specific_matching_variant_that_sets_it(
    variants: list[Variant], file: list[str]
) -> None:
    path = "/".join(file)

    def rank(v: Variant) -> tuple[int, int, int]:
        depth = len((v.scope_path or "").split("/")) if v.scope_path else 0
        return ({Scope.GLOBAL: 0, Scope.DIRECTORY: 1, Scope.FILE: 2}[v.scope], depth, v.id or 0)

    covering = [
        v
        for v in variants
        if v.scope == Scope.GLOBAL
        or (v.scope == Scope.FILE and v.scope_path == path)
        or (v.scope == Scope.DIRECTORY and path.startswith(f"{v.scope_path}/"))
    ]
    setting = [v for v in covering if v.severity_override is not None]
    expected = max(setting, key=rank).severity_override if setting else Severity.INFO
    assert resolve(Severity.INFO, variants, path, NOW).severity == expected
