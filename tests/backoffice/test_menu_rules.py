"""The rules a product's fields follow, and an import's rows: pure, no database."""

from __future__ import annotations

from ordering.menu_import import check_rows
from ordering.menu_rules import (
    format_vat,
    looks_like_formula,
    parse_allergens,
    parse_price,
    parse_vat,
)
from ordering.menu_sheets import read_csv

HEADER = "reference,category,name,description,price,vat_rate,allergens,station,available"


def test_prices_are_read_the_french_and_the_english_way_and_nothing_else() -> None:
    assert [parse_price(t, 2) for t in ("3.50", "3,5", "12", " 1 250,00 ", "0")] == [
        350, 350, 1200, 125000, 0]
    assert [parse_price(t, 2) for t in ("-2", "3.505", "abc", "", "1e3", "100001")] == [
        None] * 6
    assert parse_price("350", 0) == 350  # a currency without minor units


def test_vat_rates_are_the_countrys_and_allergens_the_eus_fourteen() -> None:
    assert [parse_vat(t) for t in ("20", "10", "5,5", "2.1 %")] == [2000, 1000, 550, 210]
    assert parse_vat("7") is None and parse_vat("5.50001") is None
    assert [format_vat(r) for r in (2000, 550, 210)] == ["20", "5.5", "2.1"]
    assert parse_allergens("Milk; gluten  eggs") == ("gluten", "eggs", "milk")
    assert parse_allergens("milk, pollen") is None and parse_allergens("") == ()


def test_a_spreadsheet_would_run_these_cells() -> None:
    assert all(looks_like_formula(t) for t in ("=1+1", "+33", "-2", "@SUM(A1)", "\tx"))
    assert not looks_like_formula("Espresso")


def test_rows_are_checked_each_for_every_fault_and_references_once() -> None:
    rows = read_csv(("\n".join((
        HEADER,
        "A,Cafés,Espresso,,1.80,10,,,yes",
        "B,Vins,,,cher,7,pollen,,peut-être",
        "A,cafés,Espresso bis,,2,10,,,",
    )) + "\n").encode())
    valid, invalid = check_rows(rows, {"cafés": 1}, 2)
    assert [v.reference for v in valid] == ["A"]
    assert [(r.line, sorted(p.field for p in r.problems)) for r in invalid] == [
        (3, ["allergens", "available", "category", "name", "price", "vat_rate"]),
        (4, ["reference"]),
    ]
