"""Counter sales at a paired till: priced from the database, two VAT rates to the cent,
split payments with change, a retry or a concurrent double that records once, refusals,
discounts above the limit approved by a supervisor's PIN and audited, and table bills
settled through the same payment."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx
from sqlalchemy import func, select, update
from starlette.applications import Starlette

from accounts.models import Company, Site, Staff, StaffSite
from backoffice.models import StatRollup
from demo.seed import PINS, DemoVenue
from domain.models import AuditEntry
from ordering.models import Category, DiningTable, Product, TableSession
from pos.models import Ticket, TicketLine, TicketPayment, TicketTax
from tests.backoffice.conftest import ADMIN, CASHIER, sign_in
from tests.conftest import Database, client_for
from tests.pos.test_till_device import _add_till, _code, _staff_id

SUPERVISOR = "superviseur@cafe-de-la-gare.fr"
SALES = "/api/v1/till/sales"


async def _paired(app: Starlette, venue: DemoVenue, db: Database, tablet: httpx.AsyncClient,
                  who: str = CASHIER[0]) -> None:
    async with client_for(app) as admin:
        await sign_in(admin, ADMIN)
        till = await _add_till(admin, venue)
        code = await _code(admin, till)
    assert (await tablet.post("/api/v1/till/pair", json={"code": code})).status_code == 200
    switched = await tablet.post("/api/v1/till/switch", json={
        "staff_id": await _staff_id(db, who), "pin": PINS[who]})
    assert switched.status_code == 200, switched.text


async def _products(db: Database, venue: DemoVenue) -> list[Product]:
    """Two products set to hand-checkable prices and rates: 2.50 at 5.5 % (10 % eaten in
    the second way round) and 6.00 at 20 %."""
    async with db.sessionmaker() as session, session.begin():
        found = list((await session.scalars(select(Product).where(
            Product.site_id == venue.site_id).order_by(Product.id).limit(4))).all())
        await session.execute(update(Product).where(Product.id == found[0].id).values(
            price=250, vat_rate=550, vat_rate_takeaway=None))
        await session.execute(update(Product).where(Product.id == found[1].id).values(
            price=600, vat_rate=2000, vat_rate_takeaway=None))
        await session.execute(update(Product).where(Product.id == found[2].id).values(
            price=400, vat_rate=1000, vat_rate_takeaway=550))
    async with db.sessionmaker() as session:
        return list((await session.scalars(select(Product).where(
            Product.id.in_([p.id for p in found])).order_by(Product.id))).all())


def _sale(*lines: dict[str, Any], **more: Any) -> dict[str, Any]:
    return {"uuid": str(uuid.uuid4()), "lines": list(lines), **more}


async def _count(db: Database, model: Any = Ticket) -> int:
    async with db.sessionmaker() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def test_a_sale_with_two_rates_split_with_change_records_hand_computed_totals(
    app: Starlette, db: Database, venue: DemoVenue
) -> None:
    coffee, wine, sandwich, _ = await _products(db, venue)
    async with client_for(app) as tablet:
        await _paired(app, venue, db, tablet)
        # 2 × 2.50 at 5.5 % and 1 × 6.00 at 20 %: 11.00 in all.
        # 5.5 %: 500 × 10000 / 10550 = 473.93 → 474 excl., 26 VAT.
        # 20 %: 600 × 10000 / 12000 = 500 excl., 100 VAT.
        body = _sale({"product_id": coffee.id, "quantity": 2, "note": "sans sucre",
                      "name": "Free", "unit_price": 1},
                     {"product_id": wine.id, "quantity": 1},
                     payments=[{"method": "card", "amount": 550},
                               {"method": "cash", "amount": 550, "tendered": 1000}])
        sold = await tablet.post(SALES, json=body)
        assert sold.status_code == 201, sold.text
        answer = sold.json()
        assert answer["ticket"]["total"] == 1100 and answer["ticket"]["change"] == 450
        assert answer["ticket"]["number"].endswith("000001") and not answer["duplicate"]
        assert answer["receipt"] == f"/till/tickets/{answer['ticket']['id']}"
        # The same sale sent again records nothing more.
        again = await tablet.post(SALES, json=body)
        assert again.status_code == 200 and again.json()["duplicate"]
        assert again.json()["ticket"]["id"] == answer["ticket"]["id"]
        # Taken away: the sandwich's takeaway rate (5.5 %) instead of 10 %.
        away = await tablet.post(SALES, json=_sale(
            {"product_id": sandwich.id, "quantity": 1}, takeaway=True,
            payments=[{"method": "cash", "amount": 400}]))
        assert away.status_code == 201, away.text
    async with db.sessionmaker() as session:
        ticket = await session.get(Ticket, answer["ticket"]["id"])
        assert ticket is not None
        assert (ticket.total_incl, ticket.total_excl, ticket.total_vat) == (1100, 974, 126)
        taxes = (await session.execute(select(
            TicketTax.vat_rate, TicketTax.total_excl, TicketTax.total_vat, TicketTax.total_incl)
            .where(TicketTax.ticket_id == ticket.id).order_by(TicketTax.vat_rate))).all()
        assert [tuple(t) for t in taxes] == [(550, 474, 26, 500), (2000, 500, 100, 600)]
        lines = (await session.scalars(select(TicketLine).where(
            TicketLine.ticket_id == ticket.id).order_by(TicketLine.position))).all()
        # Names and prices are the menu's, whatever the till sent.
        assert [(ln.label, ln.unit_price, ln.quantity) for ln in lines] == [
            (f"{coffee.name} (sans sucre)", 250, 2), (wine.name, 600, 1)]
        paid = (await session.execute(select(
            TicketPayment.method, TicketPayment.amount, TicketPayment.tendered,
            TicketPayment.change).where(TicketPayment.ticket_id == ticket.id)
            .order_by(TicketPayment.position))).all()
        assert [tuple(p) for p in paid] == [("card", 550, 550, 0), ("cash", 550, 1000, 450)]
        takeaway = await session.scalar(select(TicketLine.vat_rate).where(
            TicketLine.ticket_id == away.json()["ticket"]["id"]))
        assert takeaway == 550
    assert await _count(db) == 2


async def test_the_same_sale_posted_twice_at_once_records_once(
    app: Starlette, db: Database, venue: DemoVenue
) -> None:
    coffee, *_ = await _products(db, venue)
    async with client_for(app) as tablet:
        await _paired(app, venue, db, tablet)
        body = _sale({"product_id": coffee.id, "quantity": 1},
                     payments=[{"method": "cash", "amount": 250}])
        answers = await asyncio.gather(*(tablet.post(SALES, json=body) for _ in range(4)))
    assert sorted(a.status_code for a in answers) == [200, 200, 200, 201], \
        [a.text for a in answers]
    assert len({a.json()["ticket"]["id"] for a in answers}) == 1
    assert await _count(db) == 1


async def test_what_is_not_for_sale_here_is_refused(
    app: Starlette, db: Database, venue: DemoVenue
) -> None:
    coffee, wine, sandwich, archived = await _products(db, venue)
    async with db.sessionmaker() as session, session.begin():
        await session.execute(update(Product).where(Product.id == wine.id).values(
            available=False))
        await session.execute(update(Product).where(Product.id == archived.id).values(
            archived_at=func.now()))
        company = Company(name="Ailleurs", currency="EUR", timezone="Europe/Paris")
        session.add(company)
        await session.flush()
        site = Site(company_id=company.id, name="Ailleurs")
        session.add(site)
        await session.flush()
        category = Category(site_id=site.id, name="Cafés", station="bar")
        session.add(category)
        await session.flush()
        elsewhere = Product(site_id=site.id, category_id=category.id, name="Autre café",
                            price=100)
        session.add(elsewhere)
        await session.flush()
        elsewhere_id = elsewhere.id
    async with client_for(app) as tablet:
        await _paired(app, venue, db, tablet)
        pay = [{"method": "cash", "amount": 600}]
        sold_out = await tablet.post(SALES, json=_sale({"product_id": wine.id, "quantity": 1},
                                                       payments=pay))
        assert sold_out.status_code == 409
        assert wine.name in sold_out.json()["error"]["message"]
        for product_id in (archived.id, elsewhere_id, 999_999):
            refused = await tablet.post(SALES, json=_sale(
                {"product_id": product_id, "quantity": 1}, payments=pay))
            assert refused.status_code == 404, refused.text
            assert refused.json()["error"]["code"] == "unknown_product"
        # Payments that do not add up to the server's total: nothing recorded.
        short = await tablet.post(SALES, json=_sale({"product_id": coffee.id, "quantity": 1},
                                                    payments=[{"method": "cash",
                                                               "amount": 200}]))
        assert short.status_code == 422 and short.json()["error"]["code"] == "bad_ticket"
        english = await tablet.post(SALES, json=_sale(
            {"product_id": archived.id, "quantity": 1}, payments=pay),
            headers={"accept-language": "en"})
        assert english.json()["error"]["message"] == "This product is not on the menu."
    assert await _count(db) == 0


async def test_a_discount_above_the_limit_needs_a_reason_and_a_supervisors_pin(
    app: Starlette, db: Database, venue: DemoVenue
) -> None:
    coffee, wine, *_ = await _products(db, venue)
    supervisor = await _staff_id(db, SUPERVISOR)
    cashier = await _staff_id(db, CASHIER[0])
    async with client_for(app) as tablet:
        await _paired(app, venue, db, tablet)
        # 10 % of a line is within the site's limit (10 %): nobody approves it.
        within = await tablet.post(SALES, json=_sale(
            {"product_id": wine.id, "quantity": 1, "discount": {"kind": "percent", "value": 10}},
            payments=[{"method": "card", "amount": 540}]))
        assert within.status_code == 201, within.text
        # 2 × 2.50 with 1.00 off the ticket: 20 %, above the limit.
        body = _sale({"product_id": coffee.id, "quantity": 2},
                     discount={"kind": "amount", "value": 100},
                     payments=[{"method": "cash", "amount": 400}])
        no_reason = await tablet.post(SALES, json=body)
        assert no_reason.status_code == 422
        assert no_reason.json()["error"]["code"] == "discount_reason_required"
        body["reason"] = "Client fidèle"
        needed = await tablet.post(SALES, json=body)
        assert needed.status_code == 409 and needed.json()["error"]["code"] == "approval_needed"
        wrong = await tablet.post(SALES, json={**body, "approval": {
            "staff_id": supervisor, "pin": "0000"}})
        assert wrong.status_code == 403 and wrong.json()["error"]["code"] == "pin_refused"
        own = await tablet.post(SALES, json={**body, "approval": {
            "staff_id": cashier, "pin": PINS[CASHIER[0]]}})
        assert own.status_code == 403
        approved = await tablet.post(SALES, json={**body, "approval": {
            "staff_id": supervisor, "pin": PINS[SUPERVISOR]}})
        assert approved.status_code == 201, approved.text
        assert approved.json()["ticket"]["total"] == 400
    async with db.sessionmaker() as session:
        ticket = await session.get(Ticket, approved.json()["ticket"]["id"])
        assert ticket is not None and ticket.discount == 100
        assert ticket.supervisor_id == supervisor and ticket.staff_id == cashier
        entries = (await session.scalars(select(AuditEntry).where(
            AuditEntry.action == "till.discount"))).all()
    assert len(entries) == 1
    entry = entries[0]
    assert entry.actor_staff_id == cashier and entry.target == f"ticket:{ticket.id}"
    assert entry.changes["approved_by"] == supervisor
    assert entry.changes["reason"] == "Client fidèle" and entry.changes["discount"] == 100
    assert entry.at is not None


async def test_a_supervisor_gives_a_discount_without_typing_a_pin(
    app: Starlette, db: Database, venue: DemoVenue
) -> None:
    coffee, *_ = await _products(db, venue)
    async with client_for(app) as tablet:
        await _paired(app, venue, db, tablet, who=SUPERVISOR)
        sold = await tablet.post(SALES, json=_sale(
            {"product_id": coffee.id, "quantity": 1, "discount": {"kind": "percent",
                                                                  "value": 50}},
            reason="Geste commercial", payments=[{"method": "cash", "amount": 125}]))
        assert sold.status_code == 201, sold.text


async def test_only_a_cashier_switched_in_on_the_till_sells(
    app: Starlette, db: Database, venue: DemoVenue
) -> None:
    coffee, *_ = await _products(db, venue)
    body = _sale({"product_id": coffee.id, "quantity": 1},
                 payments=[{"method": "cash", "amount": 250}])
    async with client_for(app) as stranger:
        # Not a till.
        await sign_in(stranger, CASHIER)
        refused = await stranger.post(SALES, json=body)
        assert refused.status_code == 403
        assert refused.json()["error"]["code"] == "till_not_paired"
    async with client_for(app) as tablet:
        await _paired(app, venue, db, tablet)
        # The cashier now works at another site only: the till refuses them.
        cashier = await _staff_id(db, CASHIER[0])
        async with db.sessionmaker() as session, session.begin():
            other = Site(company_id=(await session.get(Site, venue.site_id)).company_id,  # type: ignore[union-attr]
                         name="Annexe")
            session.add(other)
            await session.flush()
            session.add(StaffSite(staff_id=cashier, site_id=other.id))
            await session.execute(update(Staff).where(Staff.id == cashier).values(
                all_sites=False))
        moved = await tablet.post(SALES, json=body)
        assert moved.status_code == 403 and moved.json()["error"]["code"] == "not_at_till"
        # Someone of another company signed in on the till's browser: not at this till.
        async with db.sessionmaker() as session, session.begin():
            company = Company(name="Ailleurs", currency="EUR", timezone="Europe/Paris")
            session.add(company)
            await session.flush()
            from demo.seed import demo_hash

            session.add(Staff(company_id=company.id, email="c@ailleurs.test", name="Autre",
                              role="cashier", password_hash=demo_hash("autre-demo")))
        await sign_in(tablet, ("c@ailleurs.test", "autre-demo"))
        foreign = await tablet.post(SALES, json=body)
        assert foreign.status_code == 403 and foreign.json()["error"]["code"] == "not_at_till"
        # A kitchen member switched in does not sell.
        kitchen = "cuisine@cafe-de-la-gare.fr"
        switched = await tablet.post("/api/v1/till/switch", json={
            "staff_id": await _staff_id(db, kitchen), "pin": PINS[kitchen]})
        assert switched.status_code == 200
        assert (await tablet.post(SALES, json=body)).status_code == 403
        assert (await tablet.get("/till/sell")).status_code == 403
    assert await _count(db) == 0


async def test_the_sale_screen_opens_on_a_paired_till_with_someone_switched_in(
    app: Starlette, db: Database, venue: DemoVenue
) -> None:
    async with client_for(app) as tablet:
        first = await tablet.get("/till/sell")
        assert first.status_code == 303 and first.headers["location"] == "/till/pair"
        await _paired(app, venue, db, tablet)
        await tablet.post("/api/v1/till/lock", json={})
        locked = await tablet.get("/till/sell")
        assert locked.status_code == 303 and locked.headers["location"] == "/till"
        await tablet.post("/api/v1/till/switch", json={
            "staff_id": await _staff_id(db, CASHIER[0]), "pin": PINS[CASHIER[0]]})
        home = await tablet.get("/till")
        assert 'href="/till/sell"' in home.text
        tablet.cookies.set("lang", "fr")
        french = await tablet.get("/till/sell")
        assert french.status_code == 200
        assert "Sur place" in french.text and "Enregistrer la vente" in french.text
        assert "Croissant" in french.text and "€" in french.text
        tablet.cookies.set("lang", "en")
        english = await tablet.get("/till/sell")
        assert "Eat in" in english.text and "Record the sale" in english.text


async def _table_with_a_round(app: Starlette, db: Database, venue: DemoVenue,
                              product_id: int) -> int:
    async with db.sessionmaker() as session:
        table_id = await session.scalar(select(DiningTable.id).where(
            DiningTable.site_id == venue.site_id).order_by(DiningTable.position).limit(1))
    assert table_id is not None
    async with client_for(app) as pos:
        await sign_in(pos, CASHIER)
        taken = await pos.post(f"/api/v1/staff/tables/{table_id}/rounds", json={
            "idempotency_key": "till-test-round-1",
            "lines": [{"product_id": product_id, "quantity": 3, "note": "bien chaud"}]})
        assert taken.status_code == 201, taken.text
    return table_id


async def test_a_table_bill_is_paid_at_the_till_and_the_table_settled(
    app: Starlette, db: Database, venue: DemoVenue
) -> None:
    coffee, *_ = await _products(db, venue)
    table_id = await _table_with_a_round(app, db, venue, coffee.id)
    async with client_for(app) as tablet:
        await _paired(app, venue, db, tablet)
        listing = await tablet.get("/till/sell")  # the tables to settle lead to their bill
        assert f'href="/till/sell?table={table_id}"' in listing.text
        screen = await tablet.get(f"/till/sell?table={table_id}")
        assert screen.status_code == 200 and "data-table-lines" in screen.text
        body = {"uuid": str(uuid.uuid4()), "table_id": table_id,
                "payments": [{"method": "card", "amount": 500},
                             {"method": "cash", "amount": 250, "tendered": 500}]}
        paid = await tablet.post(SALES, json=body)
        assert paid.status_code == 201, paid.text
        assert paid.json()["ticket"]["total"] == 750 and paid.json()["ticket"]["change"] == 250
        again = await tablet.post(SALES, json=body)
        assert again.status_code == 200 and again.json()["duplicate"]
        # Nothing is due any more: a second bill is refused.
        twice = await tablet.post(SALES, json={**body, "uuid": str(uuid.uuid4())})
        assert twice.status_code == 409
        assert twice.json()["error"]["code"] == "table_not_payable"
    async with db.sessionmaker() as session:
        status = await session.scalar(select(TableSession.status).where(
            TableSession.table_id == table_id, TableSession.closed_at.is_(None)))
        assert status == "settled"
        lines = (await session.scalars(select(TicketLine).where(
            TicketLine.ticket_id == paid.json()["ticket"]["id"]))).all()
        assert [(ln.label, ln.quantity, ln.unit_price, ln.vat_rate) for ln in lines] == [
            (f"{coffee.name} (bien chaud)", 3, 250, 550)]
        assert [(ln.product_id, ln.category_id) for ln in lines] == [
            (coffee.id, coffee.category_id)]
        # The statistics count the bill once: as the till's ticket, not again as a table's.
        counted = (await session.execute(select(
            StatRollup.measure, StatRollup.count, StatRollup.amount).where(
            StatRollup.grain == "day", StatRollup.dim_kind == ""))).all()
        assert sorted(counted) == [("rounds", 1, 750), ("sales", 1, 750)]
    assert await _count(db) == 1
