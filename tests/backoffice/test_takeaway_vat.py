"""A product's takeaway VAT rate: set in the product's form (empty: as eaten in), audited
as a price change, exported and imported back; a file without its column keeps it."""

from __future__ import annotations

from sqlalchemy import select

from demo.seed import DemoVenue
from domain.models import AuditEntry
from ordering.models import Product
from tests.backoffice.conftest import HEADER, Admin, csv_file
from tests.backoffice.test_menu_pages import _form, _ids
from tests.conftest import Database


async def _latte(db: Database) -> Product:
    async with db.sessionmaker() as session:
        found = await session.scalar(select(Product).where(Product.reference == "LAT"))
    assert found is not None
    return found


async def test_the_takeaway_rate_is_set_exported_and_kept_by_an_older_file(
    admin: Admin, db: Database, venue: DemoVenue
) -> None:
    categories, _ = await _ids(db, venue)
    form = await admin.http.get(f"/backoffice/menu/{admin.site}/products/new")
    assert 'name="vat_rate_takeaway"' in form.text and '<option value="5.5"' in form.text
    created = await admin.post(f"/backoffice/menu/{admin.site}/products/new",
                               _form(categories[0], vat_rate_takeaway="5.5"))
    assert created.status_code == 200, created.text
    latte = await _latte(db)
    assert (latte.vat_rate, latte.vat_rate_takeaway) == (1000, 550)
    refused = await admin.post(f"/backoffice/menu/products/{latte.id}",
                               _form(categories[0], vat_rate_takeaway="7"))
    assert refused.status_code == 422 and "vat_rate_takeaway" in refused.text
    same = await admin.post(f"/backoffice/menu/products/{latte.id}",
                            _form(categories[0], vat_rate_takeaway=""))
    assert same.status_code == 200 and (await _latte(db)).vat_rate_takeaway is None
    async with db.sessionmaker() as session:
        audited = (await session.scalars(select(AuditEntry.changes).where(
            AuditEntry.action == "product.price"))).all()
    assert any("vat_rate_takeaway" in changes for changes in audited)
    # Set again by a file with the column, exported with it, kept by a file without it.
    header = HEADER + ",vat_rate_takeaway"
    applied = await admin.send("apply", "menu.csv", csv_file(
        "LAT,Cafés,Latte,,4.20,10,milk,,yes,5.5", header=header))
    assert applied.status_code == 200, applied.text
    assert (await _latte(db)).vat_rate_takeaway == 550
    exported = await admin.http.get(f"/backoffice/menu/{admin.site}/export.csv")
    assert exported.text.splitlines()[0].endswith(",vat_rate_takeaway")
    assert any(line.startswith("LAT,") and line.endswith(",5.5")
               for line in exported.text.splitlines())
    older = await admin.send("apply", "menu.csv", csv_file(
        "LAT,Cafés,Latte,,4.50,10,milk,,yes"))
    assert older.status_code == 200, older.text
    latte = await _latte(db)
    assert (latte.price, latte.vat_rate_takeaway) == (450, 550)
