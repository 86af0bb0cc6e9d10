"""The customers pages: the list searched and paged, a customer added and edited (bad input
shown by its field, nothing written), points by hand counted once and never below zero,
the history within the member's sites, deletion after a page that says what is kept (the
till's tickets), the CSV export; every change audited; another company's customer is not
found and roles without the customers' section are kept out."""

from __future__ import annotations

import csv
import io
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import func, select

from accounts.models import Company, Site, Staff, StaffSite
from customers.models import Consumer
from demo.seed import DemoVenue, demo_hash
from loyalty import ledger
from loyalty.ledger import Kind
from loyalty.models import LoyaltyProfile, PointsEntry
from ordering.models import Product
from pos.models import Ticket
from realtime.bus import make_bus
from realtime.events import Tx, run
from tests.backoffice.conftest import ADMIN, CASHIER, audit_actions, post_form, sign_in
from tests.conftest import Database
from tests.pos.test_till_screens import AtTill, at_till  # noqa: F401  (its fixture)

KITCHEN = ("cuisine@cafe-de-la-gare.fr", "cuisine-demo")
LIMITED = ("limitee@cafe-de-la-gare.fr", "limitee-demo-1")
NEW = {"name": "Zoé Martin", "email": "zoe@exemple.fr", "phone": "06 12 34 56 78",
       "birthday": "1990-04-25", "postcode": "75011", "email_consent": "1"}


async def _company(db: Database, venue: DemoVenue) -> int:
    async with db.sessionmaker() as session:
        site = await session.get(Site, venue.site_id)
        assert site is not None
        return site.company_id


async def _consumer(db: Database, company_id: int, name: str, email: str) -> int:
    async with db.sessionmaker() as session, session.begin():
        consumer = Consumer(company_id=company_id, email=email, name=name, password_hash="x",
                            verified=True)
        session.add(consumer)
        await session.flush()
        return consumer.id


async def _added(client: httpx.AsyncClient, **values: str) -> int:
    response = await post_form(client, "/backoffice/customers/new", {**NEW, **values})
    assert response.status_code == 200, response.text
    where = response.headers["hx-redirect"]
    assert where.endswith("?said=added")
    return int(where.split("/")[-1].split("?")[0])


async def _count(db: Database, model: Any, *where: Any) -> int:
    async with db.sessionmaker() as session:
        return int(await session.scalar(select(func.count()).select_from(model).where(*where))
                   or 0)


async def _balance(db: Database, consumer_id: int) -> int:
    async with db.sessionmaker() as session:
        return await ledger.balance_of(session, consumer_id)


async def test_the_list_is_searched_paged_and_in_the_navigation(
    client: httpx.AsyncClient, db: Database, venue: DemoVenue
) -> None:
    company_id = await _company(db, venue)
    for n in range(1, 23):
        await _consumer(db, company_id, f"Habitué {n:02d}", f"habitue{n:02d}@exemple.fr")
    await sign_in(client, ADMIN)
    listing = await client.get("/backoffice/customers?q=habitu")
    assert listing.status_code == 200
    assert 'href="/backoffice/customers" aria-current="page"' in listing.text
    assert "Habitué 01" in listing.text and "Habitué 21" not in listing.text
    assert "22 clients" in listing.text and "page=2" in listing.text
    second = await client.get("/backoffice/customers?q=habitu&page=2")
    assert "Habitué 21" in second.text and "Habitué 22" in second.text
    assert "Habitué 01" not in second.text
    zoe = await _added(client)
    for q in ("zoe@exemple.fr", "06 12 34 56 78", "Martin"):
        found = await client.get("/backoffice/customers", params={"q": q})
        assert f"/backoffice/customers/{zoe}" in found.text and "Habitué" not in found.text, q
    nobody = await client.get("/backoffice/customers?q=personne-ici")
    assert nobody.status_code == 200 and "Personne ne correspond" in nobody.text
    assert 'href="/backoffice/customers/new"' in nobody.text


async def test_adding_and_editing_show_each_bad_field_and_write_nothing(
    client: httpx.AsyncClient, db: Database, venue: DemoVenue
) -> None:
    await sign_in(client, ADMIN)
    assert (await client.get("/backoffice/customers/new")).status_code == 200
    bad = await post_form(client, "/backoffice/customers/new", {
        **NEW, "email": "pas-une-adresse", "phone": "12", "birthday": "2999-01-01"})
    assert bad.status_code == 422
    assert bad.text.count('aria-invalid="true"') == 3
    assert 'value="Zoé Martin"' in bad.text  # what was typed stays
    assert await _count(db, Consumer, Consumer.email == "zoe@exemple.fr") == 0
    zoe = await _added(client)
    taken = await post_form(client, "/backoffice/customers/new", {**NEW, "name": "Autre",
                                                                  "email": "ZOE@exemple.fr"})
    assert taken.status_code == 422 and "Un autre client utilise déjà cet e-mail" in taken.text
    phone = await post_form(client, "/backoffice/customers/new", {
        **NEW, "name": "Autre", "email": "autre@exemple.fr", "phone": "0612345678"})
    assert phone.status_code == 422 and "numéro de téléphone" in phone.text
    assert await _count(db, Consumer, Consumer.name == "Autre") == 0

    form = await client.get(f"/backoffice/customers/{zoe}/edit")
    assert form.status_code == 200 and 'value="75011"' in form.text
    refused = await post_form(client, f"/backoffice/customers/{zoe}/edit",
                              {**NEW, "name": "Zoé M.", "postcode": "<b>"})
    assert refused.status_code == 422 and 'aria-invalid="true"' in refused.text
    async with db.sessionmaker() as session:
        assert (c := await session.get(Consumer, zoe)) is not None and c.name == "Zoé Martin"
    saved = await post_form(client, f"/backoffice/customers/{zoe}/edit",
                            {**NEW, "name": "Zoé M.", "sms_consent": "1"})
    assert saved.headers["hx-redirect"] == f"/backoffice/customers/{zoe}?said=saved"
    async with db.sessionmaker() as session:
        profile = await session.get(LoyaltyProfile, zoe)
        assert profile is not None and profile.sms_consent_at is not None
    page = await client.get(f"/backoffice/customers/{zoe}?said=saved")
    assert "Zoé M." in page.text and 'role="status"' in page.text
    assert await audit_actions(db) == [("customer.add", f"consumer:{zoe}"),
                                       ("customer.edit", f"consumer:{zoe}")]


async def test_a_visit_by_hand_counts_once_and_a_redemption_never_goes_below_zero(
    client: httpx.AsyncClient, db: Database, venue: DemoVenue
) -> None:
    await sign_in(client, ADMIN)
    zoe = await _added(client)
    page = await client.get(f"/backoffice/customers/{zoe}")
    assert 'name="idempotency_key"' in page.text
    visit = {"kind": "visit", "points": "15", "spent": "12,50", "reason": "Ticket oublié",
             "site": str(venue.site_id), "idempotency_key": uuid.uuid4().hex}
    for _ in range(2):  # a double click
        sent = await post_form(client, f"/backoffice/customers/{zoe}/points", visit)
        assert sent.headers["hx-redirect"] == f"/backoffice/customers/{zoe}?said=visit"
    assert await _balance(db, zoe) == 15
    no_reason = await post_form(client, f"/backoffice/customers/{zoe}/points", {
        **visit, "reason": "", "idempotency_key": uuid.uuid4().hex})
    assert no_reason.status_code == 422 and 'id="error-hand.reason"' in no_reason.text
    too_much = await post_form(client, f"/backoffice/customers/{zoe}/points", {
        "kind": "redeem", "points": "16", "reason": "Cadeau", "idempotency_key":
        uuid.uuid4().hex})
    assert too_much.status_code == 422 and "Pas assez de points" in too_much.text
    assert await _balance(db, zoe) == 15
    shown = await client.get(f"/backoffice/customers/{zoe}")
    assert '<dd id="orders">1</dd>' in shown.text and "12,50" in shown.text
    assert [a for a, _ in await audit_actions(db)] == ["customer.add", "customer.visit"]


async def test_a_member_of_one_site_sees_only_that_sites_visits(
    client: httpx.AsyncClient, db: Database, venue: DemoVenue
) -> None:
    company_id = await _company(db, venue)
    async with db.sessionmaker() as session, session.begin():
        other = Site(company_id=company_id, name="Le Kiosque")
        session.add(other)
        await session.flush()
        member = Staff(company_id=company_id, email=LIMITED[0], name="Lou", role="manager",
                       password_hash=demo_hash(LIMITED[1]), all_sites=False)
        session.add(member)
        await session.flush()
        session.add(StaffSite(staff_id=member.id, site_id=other.id))
        other_id = other.id
    zoe = await _consumer(db, company_id, "Zoé", "zoe@exemple.fr")
    bus = make_bus(None)

    async def visit(tx: Tx, spent: int, site: int) -> None:
        await ledger.post(tx, company_id, zoe, spent // 100, Kind.EARN, f"test:{uuid.uuid4()}",
                          spent=spent, visit_at=datetime.now(UTC) - timedelta(days=1),
                          site_id=site)

    try:
        await run(db.sessionmaker, bus, lambda tx: visit(tx, 1000, venue.site_id))
        await run(db.sessionmaker, bus, lambda tx: visit(tx, 3000, other_id))
    finally:
        await bus.close()
    await sign_in(client, ADMIN)
    whole = await client.get(f"/backoffice/customers/{zoe}")
    assert whole.text.count('class="visit"') == 2 and '<dd id="orders">2</dd>' in whole.text
    client.cookies.clear()
    await sign_in(client, LIMITED)
    mine = await client.get(f"/backoffice/customers/{zoe}")
    assert mine.status_code == 200
    assert mine.text.count('class="visit"') == 1 and "Le Kiosque" in mine.text
    assert '<dd id="orders">1</dd>' in mine.text and "Café de la Gare</td>" not in mine.text
    no_site = await post_form(client, f"/backoffice/customers/{zoe}/points", {
        "kind": "visit", "points": "3", "reason": "Oubli", "site": str(venue.site_id),
        "idempotency_key": uuid.uuid4().hex})
    assert no_site.status_code == 422 and await _balance(db, zoe) == 40
    exported = await client.get("/backoffice/customers.csv?q=zoe@exemple.fr")
    rows = list(csv.reader(io.StringIO(exported.text.lstrip("\ufeff"))))
    assert rows[1][8:10] == ["1", "30.00"]


async def test_deleting_says_what_is_kept_removes_the_history_and_keeps_the_tickets(
    client: httpx.AsyncClient, db: Database, venue: DemoVenue, at_till: AtTill  # noqa: F811
) -> None:
    company_id = await _company(db, venue)
    zoe = await _consumer(db, company_id, "Zoé", "zoe@exemple.fr")
    async with db.sessionmaker() as session:
        product = await session.scalar(select(Product).where(
            Product.site_id == venue.site_id).order_by(Product.id).limit(1))
        assert product is not None
    sold = await at_till.device.post("/api/v1/till/sales", json={
        "uuid": str(uuid.uuid4()), "customer_id": zoe,
        "lines": [{"product_id": product.id, "quantity": 2}],
        "payments": [{"method": "card", "amount": 2 * product.price}]})
    assert sold.status_code == 201, sold.text
    bus = make_bus(None)
    try:
        await run(db.sessionmaker, bus, lambda tx: ledger.post(
            tx, company_id, zoe, 25, Kind.BY_HAND, f"test:{uuid.uuid4()}"))
    finally:
        await bus.close()
    await sign_in(client, ADMIN)
    page = await client.get(f"/backoffice/customers/{zoe}/delete")
    assert page.status_code == 200
    assert "zoe@exemple.fr" in page.text and "(1), avec son numéro de client" in page.text
    unconfirmed = await post_form(client, f"/backoffice/customers/{zoe}/delete", {})
    assert unconfirmed.status_code == 422
    assert await _count(db, Consumer, Consumer.id == zoe) == 1
    gone = await post_form(client, f"/backoffice/customers/{zoe}/delete", {"confirm": "yes"})
    assert gone.headers["hx-redirect"] == "/backoffice/customers?deleted=1"
    assert await _count(db, Consumer, Consumer.id == zoe) == 0
    assert await _count(db, PointsEntry, PointsEntry.consumer_id == zoe) == 0
    assert await _count(db, LoyaltyProfile, LoyaltyProfile.consumer_id == zoe) == 0
    assert await _count(db, Ticket, Ticket.customer_id == zoe) == 1
    assert ("customer.delete", f"consumer:{zoe}") in await audit_actions(db)


async def test_the_export_is_the_searched_list_with_safe_cells(
    client: httpx.AsyncClient, db: Database, venue: DemoVenue
) -> None:
    await sign_in(client, ADMIN)
    zoe = await _added(client, name="=HYPERLINK(1)")
    await post_form(client, f"/backoffice/customers/{zoe}/points", {
        "kind": "visit", "points": "7", "spent": "7", "reason": "Oubli",
        "site": str(venue.site_id), "idempotency_key": uuid.uuid4().hex})
    exported = await client.get("/backoffice/customers.csv?q=zoe@exemple.fr")
    assert exported.status_code == 200
    assert exported.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(exported.text.lstrip("\ufeff"))))
    assert rows[0][0] == "Nom" and rows[0][9] == "Dépenses (EUR)"
    assert len(rows) == 2
    name, email, phone, birthday, postcode, by_mail, by_sms, points, visits, spend, last = (
        rows[1])
    assert (name, email, phone, birthday, postcode) == (
        "'=HYPERLINK(1)", "zoe@exemple.fr", "0612345678", "1990-04-25", "75011")
    assert by_mail.startswith(str(datetime.now(UTC).year)) and by_sms == ""
    assert (points, visits, spend) == ("7", "1", "7.00") and last
    everyone = await client.get("/backoffice/customers.csv")
    assert len(list(csv.reader(io.StringIO(everyone.text)))) > 2  # the demo's customers too


async def test_another_companys_customer_is_not_found_and_other_roles_are_kept_out(
    client: httpx.AsyncClient, db: Database, venue: DemoVenue
) -> None:
    async with db.sessionmaker() as session, session.begin():
        elsewhere = Company(name="Ailleurs", currency="EUR", timezone="Europe/Paris",
                            locale="fr")
        session.add(elsewhere)
        await session.flush()
        foreign_company = elsewhere.id
    foreign = await _consumer(db, foreign_company, "Étranger", "etranger@exemple.fr")
    await sign_in(client, ADMIN)
    for url in ("", "/edit", "/delete"):
        assert (await client.get(f"/backoffice/customers/{foreign}{url}")).status_code == 404
    for url, form in (("/edit", NEW), ("/delete", {"confirm": "yes"}),
                      ("/points", {"kind": "visit", "points": "5", "reason": "Oubli",
                                   "idempotency_key": uuid.uuid4().hex})):
        assert (await post_form(client, f"/backoffice/customers/{foreign}{url}",
                                form)).status_code == 404
    assert await _count(db, Consumer, Consumer.id == foreign) == 1
    assert await _count(db, PointsEntry, PointsEntry.consumer_id == foreign) == 0
    mine = await _consumer(db, await _company(db, venue), "Zoé", "zoe@exemple.fr")
    for who in (CASHIER, KITCHEN):
        client.cookies.clear()
        await sign_in(client, who)
        listing = await client.get("/backoffice")
        assert 'href="/backoffice/customers"' not in listing.text
        for url in ("/backoffice/customers", "/backoffice/customers/new",
                    f"/backoffice/customers/{mine}", "/backoffice/customers.csv"):
            assert (await client.get(url)).status_code == 403, (who, url)
        assert (await post_form(client, "/backoffice/customers/new", NEW)).status_code == 403
    assert await _count(db, Consumer, Consumer.email == NEW["email"]) == 1
