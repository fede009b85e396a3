from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from driftstore import ConfidenceLevel, Severity, Status
from driftstore.model.enums import ALLOWED_MOVES, can_move, level_for


@pytest.mark.parametrize(
    ("score", "level"),
    [
        (1.0, "high"),
        (0.85, "high"),
        (0.8499, "medium"),
        (0.70, "medium"),
        (0.6999, "low"),
        (0.50, "low"),
        (0.4999, "uncertain"),
        (0.0, "uncertain"),
    ],
)
def test_level_thresholds_are_085_070_050(score: float, level: str) -> None:
    assert level_for(score) == ConfidenceLevel(level)


@given(st.floats(0, 1), st.floats(0, 1))
def test_level_never_drops_as_score_rises(a: float, b: float) -> None:
    order = ["uncertain", "low", "medium", "high"]
    lo, hi = sorted((a, b))
    assert order.index(level_for(lo).value) <= order.index(level_for(hi).value)


def test_exactly_four_status_moves_are_allowed() -> None:
    allowed = {(a.value, b.value) for a, b in ALLOWED_MOVES}
    assert allowed == {
        ("discovered", "approved"),
        ("discovered", "ignored"),
        ("approved", "ignored"),
        ("ignored", "approved"),
    }
    for a in Status:
        for b in Status:
            assert can_move(a, b) == ((a.value, b.value) in allowed)


def test_severity_rank_orders_error_warning_info_hint() -> None:
    ranked = sorted(Severity, key=lambda s: s.rank, reverse=True)
    assert [s.value for s in ranked] == ["error", "warning", "info", "hint"]
