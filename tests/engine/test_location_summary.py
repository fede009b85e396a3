"""A stored location summary is believed only while it matches the rows it was made from."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from driftstore.engine.digests import location_summary, read_location_summary
from driftstore.engine.rows import pattern_row
from tests.factories import make_pattern


def test_a_summary_reads_back_only_beside_its_own_rows() -> None:
    p = make_pattern("p", files=["a.ts", "b.ts"])
    p.locations[1].is_outlier = True
    row = pattern_row(p, content_hash=None, created_at="t", updated_at="t")
    text = location_summary("abc", row, "rows-1")
    assert read_location_summary(text, "rows-1") == ("abc", 2, 1)
    assert read_location_summary(text, "rows-2") is None
    assert read_location_summary(text, None) is None
    assert location_summary(None, row, "rows-1") is None


@given(st.text(max_size=40))
def test_damaged_text_is_ignored_never_raised(text: str) -> None:
    found = read_location_summary(text, "rows-1")
    assert found is None or text.endswith(" rows-1")


def test_counts_in_other_digits_are_not_counts() -> None:
    assert read_location_summary("abc \u00b2 1 rows-1", "rows-1") is None
    assert read_location_summary("abc \u0663 1 rows-1", "rows-1") is None
