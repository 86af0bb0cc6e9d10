"""Ranges of tables typed as "T1–T20": pure, no database."""

from __future__ import annotations

import pytest

from ordering.table_ranges import MAX_TABLES, BadRange, table_range


@pytest.mark.parametrize(("typed", "labels"), [
    ("T1–T3", ["T1", "T2", "T3"]),
    ("T1-3", ["T1", "T2", "T3"]),
    ("T1 — T2", ["T1", "T2"]),
    ("1-3", ["1", "2", "3"]),
    ("Terrasse 1 - Terrasse 2", ["Terrasse 1", "Terrasse 2"]),
    ("  Salle   4-5 ", ["Salle 4", "Salle 5"]),
    ("T08-T10", ["T08", "T09", "T10"]),
    ("T5-T5", ["T5"]),
])
def test_a_range_gives_each_label_in_order(typed: str, labels: list[str]) -> None:
    assert table_range(typed) == labels


@pytest.mark.parametrize("typed", [
    "", "T1", "T", "T3-T1", "T1-X4", "A1-B3", "T-", "-3", f"T1-T{MAX_TABLES + 1}",
    "T1-T99999999999999999999", "1.5-3", "x" * 40 + "1-2",
])
def test_a_bad_range_is_the_range_fields_error(typed: str) -> None:
    with pytest.raises(BadRange) as refused:
        table_range(typed)
    assert refused.value.field == "range"
    assert refused.value.status == 422


def test_the_largest_range_allowed() -> None:
    assert len(table_range(f"T1-T{MAX_TABLES}")) == MAX_TABLES
