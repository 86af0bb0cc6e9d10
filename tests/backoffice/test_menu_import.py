"""Importing a menu from a spreadsheet: every invalid row listed before anything is written,
all or nothing, and the same file twice changes nothing the second time."""

from __future__ import annotations

import io
import os

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from demo.seed import DemoVenue
from domain.models import AuditEntry
from ordering.models import Product
from realtime.models import TopicVersion
from tests.api.test_tenant import nothing_changes
from tests.backoffice.conftest import Admin, csv_file, xlsx_file
from tests.conftest import Database

VALID = (
    "LAT,Cafés,Latte,Lait entier,4.20,10,milk,,yes",
    "TAR,Desserts,Tarte au citron,\"Citron, meringue\",\"5,50\",10,\"gluten, eggs,milk\",,no",
    "P101,Cafés,Espresso,Arabica,1.90,10,,bar,yes",  # the demo's espresso: a new price
)


async def _product(db: Database, reference: str) -> Product | None:
    async with db.sessionmaker() as session:
        return await session.scalar(select(Product).where(Product.reference == reference))


async def _menu_version(db: Database, venue: DemoVenue) -> int:
    async with db.sessionmaker() as session:
        version = await session.scalar(
            select(TopicVersion.version).where(TopicVersion.topic == f"menu:{venue.site_id}"))
        return version or 0


async def test_a_valid_csv_is_previewed_then_imported(
    admin: Admin, db: Database, venue: DemoVenue
) -> None:
    content = csv_file(*VALID)
    async with nothing_changes(db):
        preview = await admin.send("preview", "menu.csv", content)
        assert preview.status_code == 200, preview.text
        assert 'data-created="2" data-changed="1" data-unchanged="0"' in preview.text
    applied = await admin.send("apply", "menu.csv", content)
    assert applied.status_code == 200, applied.text
    latte = await _product(db, "LAT")
    tarte = await _product(db, "TAR")
    espresso = await _product(db, "P101")
    assert latte and tarte and espresso
    assert (latte.name, latte.price, latte.vat_rate, latte.allergens, latte.available) == (
        "Latte", 420, 1000, "milk", True)
    assert (tarte.price, tarte.allergens, tarte.available, tarte.description) == (
        550, "gluten,eggs,milk", False, "Citron, meringue")
    assert (espresso.price, espresso.station) == (190, "bar")
    async with db.sessionmaker() as session:
        prices = (await session.scalars(
            select(AuditEntry).where(AuditEntry.action == "product.price"))).all()
    assert [p.target for p in prices] == [f"product:{espresso.id}"]
    assert prices[0].changes["price"] == [180, 190]


async def test_a_valid_workbook_is_imported_with_numbers_as_cells(
    admin: Admin, db: Database
) -> None:
    content = xlsx_file([
        ["LAT", "Cafés", "Latte", "", 4.2, 10, "milk", "", "yes"],
        ["SOU", "Plats", "Soupe de potiron", "Crème", 7, 5.5, "celery", "kitchen", True],
    ])
    applied = await admin.send("apply", "menu.xlsx", content)
    assert applied.status_code == 200, applied.text
    soupe = await _product(db, "SOU")
    assert soupe and (soupe.price, soupe.vat_rate, soupe.allergens, soupe.station) == (
        700, 550, "celery", "kitchen")


INVALID = [
    ("missing name", "NON,Cafés,,,2.00,10,,,yes", "name"),
    ("bad price", "PRX,Cafés,Cher,,deux euros,10,,,yes", "price"),
    ("negative price", "NEG,Cafés,Rendu,,-2,10,,,yes", "price"),
    ("unknown category", "CAT,Vins,Bordeaux,,6.00,20,sulphites,,yes", "category"),
    ("unknown VAT rate", "TVA,Cafés,Thé,,3.00,7,,,yes", "vat_rate"),
    ("unknown allergen", "ALG,Cafés,Thé,,3.00,10,pollen,,yes", "allergens"),
    ("formula", "FOR,Cafés,=HYPERLINK(\"http://x\"),,3.00,10,,,yes", "name"),
]


@pytest.mark.parametrize(("kind", "row", "column"), INVALID, ids=[i[0] for i in INVALID])
async def test_each_invalid_row_is_listed_and_nothing_is_written(
    admin: Admin, db: Database, kind: str, row: str, column: str
) -> None:
    content = csv_file(VALID[0], row)
    async with nothing_changes(db):
        for step in ("preview", "apply"):
            response = await admin.send(step, "menu.csv", content)
            assert response.status_code == 422, (kind, response.text)
            assert 'data-line="3"' in response.text  # the header is line 1
            assert 'data-line="2"' not in response.text
            assert f"<strong>{column}</strong>" in response.text, response.text


async def test_a_reference_twice_in_the_file_is_refused(admin: Admin, db: Database) -> None:
    content = csv_file(VALID[0], "LAT,Cafés,Latte glacé,,4.50,10,milk,,yes")
    async with nothing_changes(db):
        response = await admin.send("apply", "menu.csv", content)
    assert response.status_code == 422
    assert 'data-line="3"' in response.text and "LAT" in response.text


async def test_formula_cells_of_a_workbook_are_refused(admin: Admin, db: Database) -> None:
    content = xlsx_file([["LAT", "Cafés", "Latte", "", "=1+3", 10, "", "", "yes"]])
    async with nothing_changes(db):
        response = await admin.send("apply", "menu.xlsx", content)
    assert response.status_code == 422
    assert "<strong>price</strong>" in response.text


@pytest.mark.parametrize("header", [
    "reference,category,name,price,vat_rate,allergens,station,available",  # no description
    "reference,category,name,description,price,vat_rate,allergens,station,available,colour",
])
async def test_a_wrong_column_set_is_refused(admin: Admin, db: Database, header: str) -> None:
    async with nothing_changes(db):
        response = await admin.send("apply", "menu.csv", csv_file(header=header))
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "wrong_columns"


async def test_five_megabytes_of_junk_are_refused_clearly(admin: Admin, db: Database) -> None:
    junk = os.urandom(5 * 1024 * 1024)
    async with nothing_changes(db):
        response = await admin.send("apply", "menu.xlsx", b"PK\x03\x04" + junk[4:])
        assert response.status_code == 422
        assert response.json()["error"]["code"] == "unreadable_file"
        response = await admin.send("apply", "menu.csv", junk)
        assert response.status_code == 422
        assert response.json()["error"]["code"] == "unreadable_file"
        response = await admin.send("apply", "menu.csv", junk + b"x")
        assert response.status_code == 413
        assert response.json()["error"]["code"] == "file_too_large"


async def test_a_failure_in_the_last_row_writes_nothing(admin: Admin, db: Database) -> None:
    rows = [f"N{i},Plats,Plat {i},,{10 + i}.00,10,,,yes" for i in range(40)]
    async with nothing_changes(db):
        response = await admin.send("apply", "menu.csv",
                                    csv_file(*VALID, *rows, "LAST,Plats,Dernier,,abc,10,,,yes"))
    assert response.status_code == 422
    assert 'data-line="45"' in response.text


async def test_the_same_file_twice_changes_nothing_the_second_time(
    admin: Admin, db: Database, venue: DemoVenue
) -> None:
    for name, content in (("menu.csv", csv_file(*VALID)),
                          ("menu.xlsx", xlsx_file([["LAT", "Cafés", "Latte", "Lait entier",
                                                    4.2, 10, "milk", "", "yes"]]))):
        first = await admin.send("apply", name, content)
        assert first.status_code == 200, first.text
        version = await _menu_version(db, venue)
        async with nothing_changes(db):
            again = await admin.send("apply", name, content)
            assert again.status_code == 200, again.text
        assert await _menu_version(db, venue) == version  # no event either


async def test_the_export_imports_back_unchanged(admin: Admin, db: Database) -> None:
    await admin.send("apply", "menu.csv", csv_file(*VALID))
    for kind in ("csv", "xlsx"):
        exported = await admin.http.get(f"/backoffice/menu/{admin.site}/export.{kind}")
        assert exported.status_code == 200
        async with nothing_changes(db):
            again = await admin.send("apply", f"menu.{kind}", exported.content)
            assert again.status_code == 200, again.text
    async with db.sessionmaker() as session:
        count = await session.scalar(select(func.count()).select_from(Product))
    assert count == 25 + 2


async def test_the_template_workbook_imports_as_it_is(admin: Admin, db: Database) -> None:
    template = await admin.http.get("/backoffice/menu/template.xlsx")
    assert template.status_code == 200
    sheet = load_workbook(io.BytesIO(template.content)).worksheets[0]
    assert [c.value for c in sheet[1]][:3] == ["reference", "category", "name"]
    applied = await admin.send("apply", "template.xlsx", template.content)
    assert applied.status_code == 200, applied.text
    assert await _product(db, "CRO") is not None
    csv_template = await admin.http.get("/backoffice/menu/template.csv")
    assert csv_template.content.startswith(b"\xef\xbb\xbfreference,category")
