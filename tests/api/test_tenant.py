"""Staff reach only their own company's things: every staff route, given an object of
another company, answers exactly as if it did not exist, and changes nothing at all.

One table lists each route with the kind of object it loads; the same table runs on
SQLite and PostgreSQL, and the whole database is compared before and after.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.applications import Starlette

import db.models  # noqa: F401  (every table, to compare the whole database)
from accounts.models import Site, Staff, StaffSite
from backoffice.models import DashboardWidget
from customers.models import Consumer, UserGroup
from db.base import Base
from demo.seed import DemoVenue
from loyalty.models import Coupon, Reward
from machines.models import Machine, MachineGroup, Selection, SelectionProduct
from ordering.models import DiningTable, Product, Ticket
from pos.models import Shift
from tests.api.test_bad_input import CASHIER, expect, key, login
from tests.conftest import Database, client_for
from tests.pos.test_receipt_pages import sold
from tests.pos.test_till_screens import AtTill, at_till  # noqa: F401  (its fixture)
from tests.realtime.phones import another_company_admin

ADMIN = ("admin@cafe-de-la-gare.fr", "admin-demo")
KEY = "someone-elses-key"  # well formed: the route gets as far as loading the object


@dataclass(frozen=True)
class Theirs:
    """One of each kind of object the first company owns, by id."""

    site: int
    table: int
    round: int
    ticket: int
    product: int
    machine: int
    selection: int
    drink: int
    group: int
    consumer: int
    staff: int  # a cashier
    category: int
    shift: int  # the cashier's, still open
    pos_ticket: int  # a sale recorded at a till of the site
    widget: int  # a dashboard widget of the administrator's


# (method, path, body, error code): {names} are the first company's objects.
ROUTES: list[tuple[str, str, dict[str, Any] | None, str]] = [
    ("GET", "/api/v1/staff/sites/{site}/pos", None, "not_found"),
    ("GET", "/api/v1/staff/sites/{site}/stations/kitchen", None, "not_found"),
    ("GET", "/api/v1/staff/sites/{site}/table-codes", None, "not_found"),
    ("POST", "/api/v1/staff/sites/{site}/mode", {"mode": "menu"}, "not_found"),
    ("POST", "/api/v1/staff/sites/{site}/qr-printed", None, "not_found"),
    ("POST", "/api/v1/staff/rounds/{round}/validate", {}, "unknown_round"),
    ("POST", "/api/v1/staff/rounds/{round}/refuse", {"reason": "non"}, "unknown_round"),
    ("POST", "/api/v1/staff/rounds/{round}/edit", {"expected_revision": 1, "reason": "non"},
     "unknown_round"),
    ("POST", "/api/v1/staff/tickets/{ticket}/status", {"status": "ready"}, "unknown_round"),
    ("POST", "/api/v1/staff/tables/{table}/settle",
     {"method": "cash", "tendered": 10_000, "idempotency_key": KEY}, "not_found"),
    ("POST", "/api/v1/staff/tables/{table}/free", {}, "not_found"),
    ("POST", "/api/v1/staff/tables/{table}/mode", {"mode": "menu"}, "not_found"),
    ("POST", "/api/v1/staff/tables/{table}/pin-limit/lift", {}, "not_found"),
    ("POST", "/api/v1/staff/tables/{table}/rounds",
     {"lines": [{"product_id": "{product}", "quantity": 1}], "idempotency_key": KEY},
     "not_found"),
    ("POST", "/api/v1/staff/products/{product}/availability", {"available": False},
     "not_found"),
    ("POST", "/api/v1/staff/machines/{machine}/secret", {}, "not_found"),
    ("POST", "/api/v1/staff/machines/{machine}/mode", {"mode": "prepaid"}, "not_found"),
    ("DELETE", "/api/v1/staff/machines/{machine}", {"confirm": "yes"}, "not_found"),
    ("POST", "/api/v1/staff/machines/{machine}/groups", {"group_id": "{group}"}, "not_found"),
    ("POST", "/api/v1/staff/machines/{machine}/selection", {"selection_id": "{selection}"},
     "not_found"),
    ("DELETE", "/api/v1/staff/machines/{machine}/groups/{group}", None, "not_found"),
    ("PATCH", "/api/v1/staff/selections/{selection}", {"name": "À moi"}, "not_found"),
    ("DELETE", "/api/v1/staff/selections/{selection}", None, "not_found"),
    ("POST", "/api/v1/staff/selections/{selection}/drinks",
     {"name": "Thé", "type": "hot_water", "price": 1}, "not_found"),
    ("POST", "/api/v1/staff/selections/{selection}/order", {"order": ["{drink}"]},
     "not_found"),
    ("PATCH", "/api/v1/staff/drinks/{drink}", {"name": "À moi"}, "not_found"),
    ("DELETE", "/api/v1/staff/drinks/{drink}", None, "not_found"),
    ("POST", "/api/v1/staff/drinks/{drink}/move", {"direction": "up"}, "not_found"),
    ("PATCH", "/api/v1/staff/groups/{group}", {"name": "À moi"}, "not_found"),
    ("POST", "/api/v1/staff/groups/{group}/members", {"consumer_id": "{consumer}"},
     "not_found"),
    ("DELETE", "/api/v1/staff/groups/{group}/members/{consumer}", None, "not_found"),
    ("POST", "/api/v1/staff/consumers/{consumer}/credit",
     {"amount": 5, "idempotency_key": KEY, "note": "cadeau"}, "not_found"),
    ("POST", "/api/v1/staff/consumers/{consumer}/approve", {"role": "admin"}, "not_found"),
    # The back office's forms (they read JSON as well as forms).
    ("POST", "/backoffice/tables/sites/{site}/tables", {"label": "À moi"}, "not_found"),
    ("POST", "/backoffice/tables/sites/{site}/range", {"range": "X1-X3"}, "not_found"),
    ("POST", "/backoffice/tables/sites/{site}/printed", {}, "not_found"),
    ("POST", "/backoffice/tables/{table}", {"label": "À moi"}, "not_found"),
    ("POST", "/backoffice/tables/{table}/archive", {"confirm": "yes"}, "not_found"),
    ("POST", "/backoffice/tables/{table}/token", {"confirm": "yes"}, "not_found"),
    ("POST", "/backoffice/staff/{staff}", {"role": "admin", "all_sites": True}, "not_found"),
    ("POST", "/backoffice/staff/{staff}/pin-reset", {"confirm": "yes"}, "not_found"),
    ("POST", "/backoffice/staff/{staff}/deactivate", {"confirm": "yes"}, "not_found"),
    ("POST", "/backoffice/staff/{staff}/activate", {"confirm": "yes"}, "not_found"),
    ("POST", "/backoffice/people/{consumer}", {"name": "À moi"}, "not_found"),
    ("POST", "/backoffice/people/{consumer}/delete", {"confirm": "yes"}, "not_found"),
    # The menu's back office (backoffice/menu_pages.py, menu_files.py).
    ("POST", "/backoffice/menu/{site}/categories/new", {"name": "À moi", "station": "bar"},
     "not_found"),
    ("POST", "/backoffice/menu/categories/{category}", {"name": "À moi", "station": "bar"},
     "not_found"),
    ("POST", "/backoffice/menu/categories/{category}/archive", {"confirm": "yes"}, "not_found"),
    ("POST", "/backoffice/menu/categories/{category}/restore", {}, "not_found"),
    ("POST", "/backoffice/menu/categories/{category}/move", {"direction": "down"}, "not_found"),
    ("POST", "/backoffice/menu/{site}/categories/order", {"order": "{category},{category}"},
     "not_found"),
    ("POST", "/backoffice/menu/{site}/products/order",
     {"order": "{product},{product}", "category_id": "{category}"}, "not_found"),
    ("POST", "/backoffice/menu/{site}/products/new",
     {"reference": "MOI", "category_id": "{category}", "name": "À moi", "price": "1",
      "vat_rate": "10"}, "not_found"),
    ("POST", "/backoffice/menu/products/{product}",
     {"reference": "MOI", "category_id": "{category}", "name": "À moi", "price": "1",
      "vat_rate": "10"}, "not_found"),
    ("POST", "/backoffice/menu/products/{product}/archive", {"confirm": "yes"}, "not_found"),
    ("POST", "/backoffice/menu/products/{product}/restore", {}, "not_found"),
    ("POST", "/backoffice/menu/products/{product}/move", {"direction": "down"}, "not_found"),
    ("POST", "/backoffice/menu/products/{product}/photo", {}, "not_found"),
    ("POST", "/backoffice/menu/products/{product}/photo/delete", {}, "not_found"),
    ("POST", "/backoffice/menu/{site}/import/preview", {}, "not_found"),
    ("POST", "/backoffice/menu/{site}/import/apply", {}, "not_found"),
    # A member's dashboard (backoffice/dashboard_pages.py): another's widget is missing.
    ("POST", "/backoffice/dashboard/widgets/{widget}",
     {"title": "À moi", "measure": "revenue"}, "not_found"),
    ("POST", "/backoffice/dashboard/widgets/{widget}/move", {"direction": "up"}, "not_found"),
    ("POST", "/backoffice/dashboard/widgets/{widget}/remove", {"confirm": "yes"},
     "not_found"),
    # The hours (backoffice/hours_pages.py): a forgotten clock-out closed.
    ("POST", "/backoffice/hours/shifts/{shift}/close",
     {"clocked_out_at": "2026-01-01T10:00", "reason": "À moi"}, "unknown_shift"),
]

# The staff pages that show one object: another company's is a page not found.
PAGES = [
    "/pos/{site}", "/pos/{site}/station/kitchen", "/pos/{site}/qr",
    "/pos/{site}/tables/{table}/order", "/staff/machines/{machine}",
    "/staff/selections/{selection}", "/staff/selections/{selection}/drinks",
    "/backoffice/tables?site={site}", "/backoffice/tables/sites/{site}/qr",
    "/backoffice/tables/sites/{site}/qr.pdf", "/backoffice/staff/{staff}",
    "/backoffice/menu/{site}", "/backoffice/menu/{site}?archived=1",
    "/backoffice/menu/{site}/categories/new",
    "/backoffice/menu/categories/{category}", "/backoffice/menu/{site}/products/new",
    "/backoffice/menu/products/{product}", "/backoffice/menu/{site}/import",
    "/backoffice/menu/{site}/export.csv", "/backoffice/menu/{site}/export.xlsx",
    "/backoffice/sites/{site}", "/backoffice/people/{consumer}",
    "/backoffice/people/{consumer}/delete", "/backoffice/machines/{machine}",
    "/staff/machines?site={site}", "/backoffice/hours?site={site}",
    "/backoffice/hours.csv?site={site}", "/till/tickets/{pos_ticket}",
    "/backoffice/stats?site={site}", "/backoffice/stats?site={site}&format=csv",
    "/backoffice/stats/hours?site={site}",
    "/backoffice/stats/consumption?site={site}&format=xlsx",
    "/backoffice/dashboard/widgets/{widget}", "/backoffice/dashboard/widgets/{widget}/edit",
    "/backoffice?site={site}", "/backoffice/home/live?site={site}",
]

# The back office's forms that change one object: another company's is not found either.
FORMS: list[tuple[str, dict[str, Any]]] = [
    ("/backoffice/sites/{site}", {"name": "À moi", "address": "Ici", "table_mode": "menu"}),
    ("/backoffice/sites/{site}/archive", {"archived": "true"}),
    ("/backoffice/machines/{machine}", {"name": "À moi", "mode": "open"}),
    ("/backoffice/machines/{machine}/move", {"site_id": "{site}", "confirm": "yes"}),
    ("/backoffice/groups/{group}", {"name": "À moi"}),
    ("/backoffice/records/close", {"uuid": "6f1c2a8e-5d7b-4c1e-9a3f-2b8d4e6f0a1c",
                                   "site_id": "{site}", "kind": "year", "period": "2020"}),
]

# The machine wizard's last step, naming a site of the first company: refused at its field
# (the site is not among those offered), nothing added.
WIZARD = ("/backoffice/machines/new", {"step": "place", "model": "Jura X8",
                                       "serial": "THEIRS-1", "site_id": "{site}",
                                       "mode": "open"})


def _fill(value: Any, ids: dict[str, int]) -> Any:
    """The body or path with the first company's ids in place of their {names}."""
    if isinstance(value, str):
        if value.startswith("{") and value.endswith("}") and value[1:-1] in ids:
            return ids[value[1:-1]]
        return value.format(**ids)
    if isinstance(value, list):
        return [_fill(v, ids) for v in value]
    if isinstance(value, dict):
        return {k: _fill(v, ids) for k, v in value.items()}
    return value


async def _machines(db: Database, venue: DemoVenue) -> list[int]:
    """The demo machines' ids: the first one alone, the second shared with a group."""
    async with db.sessionmaker() as session:
        return [
            await session.scalar(select(Machine.id).where(Machine.token == machine.token))
            for machine in venue.machines
        ]


async def _everything(db: Database) -> dict[str, list[tuple[Any, ...]]]:
    """Every table but the caller's own session (a device id given on first need, its
    expiry moved forward): what the outsider's browser keeps, not the other company's."""
    async with db.sessionmaker() as session:
        return {
            table.name: [
                tuple(row) for row in (
                    await session.execute(select(table).order_by(*table.primary_key.columns))
                ).all()
            ]
            for table in Base.metadata.sorted_tables
            if table.name != "browser_session"
        }


@asynccontextmanager
async def nothing_changes(db: Database) -> AsyncIterator[None]:
    before = await _everything(db)
    yield
    assert await _everything(db) == before


async def _open_shift(session: AsyncSession, site_id: int, email: str) -> int:
    staff = await session.scalar(select(Staff).where(Staff.email == email))
    assert staff is not None
    shift = Shift(company_id=staff.company_id, site_id=site_id, staff_id=staff.id,
                  clocked_in_at=datetime(2025, 12, 31, 8, 0, tzinfo=UTC))
    session.add(shift)
    await session.commit()
    return shift.id


async def _widget(session: AsyncSession, email: str) -> int:
    member = await session.scalar(select(Staff).where(Staff.email == email))
    assert member is not None
    widget = DashboardWidget(company_id=member.company_id, staff_id=member.id, title="Ventes",
                             measure="revenue", filters={})
    session.add(widget)
    await session.commit()
    return widget.id


async def _theirs(app: Starlette, db: Database, venue: DemoVenue) -> Theirs:
    """The first company with a round sent and validated, so that it has tickets."""
    token = venue.table_tokens[0][1]
    async with client_for(app) as lea, client_for(app) as cashier:
        await lea.post(f"/api/v1/tables/{token}/start", json={"name": "Léa"})
        state = (await lea.get(f"/api/v1/tables/{token}")).json()
        product = state["menu"]["categories"][0]["products"][0]["id"]
        body = {"client_id": key(), "product_id": product, "quantity": 1}
        assert (await lea.post(f"/api/v1/tables/{token}/cart/lines", json=body)).is_success
        sent = await lea.post(f"/api/v1/tables/{token}/rounds", json={"idempotency_key": key()})
        round_id = sent.json()["round"]["id"]
        await login(cashier, *CASHIER)
        validated = await cashier.post(f"/api/v1/staff/rounds/{round_id}/validate", json={})
        assert validated.status_code == 200, validated.text
    machine, grouped = (await _machines(db, venue))[:2]
    pos_ticket = (await sold(db, venue)).ticket_id
    async with db.sessionmaker() as session:
        group = await session.scalar(
            select(MachineGroup.group_id).where(MachineGroup.machine_id == grouped)
        )
        selection = await session.scalar(select(Selection.id).order_by(Selection.id))
        drink = await session.scalar(
            select(SelectionProduct.id).where(SelectionProduct.selection_id == selection)
        )
        ids = Theirs(
            site=venue.site_id,
            table=state["table"]["table"]["id"],
            round=round_id,
            ticket=await session.scalar(select(Ticket.id).where(Ticket.round_id == round_id)),
            product=product,
            machine=machine,
            selection=selection,
            drink=drink,
            group=group,
            consumer=await session.scalar(select(Consumer.id)),
            staff=await session.scalar(select(Staff.id).where(Staff.email == CASHIER[0])),
            category=await session.scalar(
                select(Product.category_id).where(Product.id == product)),
            shift=await _open_shift(session, venue.site_id, CASHIER[0]),
            pos_ticket=pos_ticket,
            widget=await _widget(session, ADMIN[0]),
        )
        assert all(isinstance(v, int) for v in vars(ids).values()), ids
        assert await session.get(DiningTable, ids.table) and await session.get(Product, product)
    return ids


async def test_every_staff_route_answers_another_companys_object_as_missing(
    app: Starlette, db: Database, venue: DemoVenue
) -> None:
    ids = vars(await _theirs(app, db, venue))
    other = await another_company_admin(db)
    async with client_for(app) as outsider:
        csrf = await login(outsider, *other)  # a DELETE without a body carries it
        async with nothing_changes(db):
            for method, path, body, code in ROUTES:
                url = _fill(path, ids)
                response = await outsider.request(
                    method, url, json=_fill(body, ids) if body is not None else None,
                    # accept: the pages' routes answer JSON errors as they do to htmx
                    headers={"x-csrf-token": csrf, "accept": "application/json"},
                )
                assert response.status_code == 404, (method, url, response.text)
                expect(response, 404, code)
            for path in PAGES:
                url = _fill(path, ids)
                response = await outsider.get(url)
                assert response.status_code == 404, (url, response.text[:200])
            for path, form in FORMS:
                url = _fill(path, ids)
                response = await outsider.post(
                    url, data=_fill(form, ids), headers={"x-csrf-token": csrf,
                                                         "hx-request": "true"}
                )
                expect(response, 404, "not_found")
            path, form = WIZARD
            response = await outsider.post(path, data=_fill(form, ids), headers={
                "x-csrf-token": csrf, "hx-request": "true"})
            assert response.status_code == 422 and 'id="e-site_id"' in response.text


async def test_staff_cannot_attach_another_companys_group_selection_or_customer(
    app: Starlette, db: Database, venue: DemoVenue
) -> None:
    """Their own machine or group, with a second object that is not theirs: not found."""
    email, _ = await another_company_admin(db)
    machine, grouped = (await _machines(db, venue))[:2]
    async with db.sessionmaker() as session, session.begin():
        company_id = await session.scalar(select(Staff.company_id).where(Staff.email == email))
        assert company_id is not None
        selection = Selection(company_id=company_id, model="Jura X8", name="Leur carte",
                              share_token=key())
        group = UserGroup(company_id=company_id, name="Leur équipe")
        consumer = Consumer(company_id=company_id, email="leur@autre-cafe.fr",
                            name="Leur client", password_hash="x")
        session.add_all([selection, group, consumer])
        await session.flush()
        theirs = {"selection": selection.id, "group": group.id, "consumer": consumer.id}
        our_group = await session.scalar(
            select(MachineGroup.group_id).where(MachineGroup.machine_id == grouped)
        )
    async with client_for(app) as admin:
        await login(admin, *ADMIN)
        async with nothing_changes(db):
            for url, body in (
                (f"/api/v1/staff/machines/{machine}/selection",
                 {"selection_id": theirs["selection"]}),
                (f"/api/v1/staff/machines/{machine}/groups", {"group_id": theirs["group"]}),
                (f"/api/v1/staff/machines/{grouped}/groups",
                 {"group_id": our_group, "selection_id": theirs["selection"]}),
                (f"/api/v1/staff/groups/{our_group}/members",
                 {"consumer_id": theirs["consumer"]}),
            ):
                expect(await admin.post(url, json=body), 404, "not_found")


async def test_staff_of_one_site_reach_nothing_of_another(
    app: Starlette, db: Database, venue: DemoVenue
) -> None:
    """An administrator given only a second site: the first site's tables and pages answer
    as missing, and nothing changes."""
    ids = vars(await _theirs(app, db, venue))
    async with db.sessionmaker() as session, session.begin():
        admin = await session.scalar(select(Staff).where(Staff.email == ADMIN[0]))
        assert admin is not None
        elsewhere = Site(company_id=admin.company_id, name="Le Kiosque")
        session.add(elsewhere)
        await session.flush()
        admin.all_sites = False
        session.add(StaffSite(staff_id=admin.id, site_id=elsewhere.id))
    kept = ("{site}", "{table}", "{round}", "{ticket}", "{product}", "{shift}", "{pos_ticket}")
    on_site = [r for r in ROUTES if any(name in r[1] for name in kept)]
    async with client_for(app) as outsider:
        csrf = await login(outsider, *ADMIN)
        async with nothing_changes(db):
            for method, path, body, _code in on_site:
                url = _fill(path, ids)
                response = await outsider.request(
                    method, url, json=_fill(body, ids) if body is not None else None,
                    headers={"x-csrf-token": csrf, "accept": "application/json"},
                )
                assert response.status_code == 404, (method, url, response.text)
            for path in PAGES:
                if any(name in path for name in ("{site}", "{table}", "{machine}",
                                                 "{pos_ticket}")):
                    url = _fill(path, ids)
                    response = await outsider.get(url)
                    assert response.status_code == 404, (url, response.text[:200])
            for path, form in FORMS:
                if "{machine}" in path:  # a machine of the first site: not found
                    response = await outsider.post(_fill(path, ids), data=_fill(form, ids),
                                                   headers={"x-csrf-token": csrf,
                                                            "hx-request": "true"})
                    expect(response, 404, "not_found")
            path, form = WIZARD
            response = await outsider.post(path, data=_fill(form, ids), headers={
                "x-csrf-token": csrf, "hx-request": "true"})
            assert response.status_code == 422 and 'id="e-site_id"' in response.text
            listed = await outsider.get("/staff/machines")  # their site's machines only
            assert listed.status_code == 200 and f"/staff/machines/{ids['machine']}" not in (
                listed.text)


async def test_the_people_forms_reach_no_one_of_another_company(
    app: Starlette, db: Database, venue: DemoVenue
) -> None:
    """The people forms that take no object in their path: approving another company's
    customers, or into its group, changes nothing (its group answers as a missing one);
    inviting the address of another company's customer makes an account of one's own
    company, and touches and tells nothing of theirs."""
    async with db.sessionmaker() as session, session.begin():
        group = await session.scalar(select(UserGroup).order_by(UserGroup.id))
        assert group is not None
        waiting = Consumer(company_id=group.company_id, email="attente@exemple.fr",
                           name="En attente", password_hash="x", verified=False)
        session.add(waiting)
        await session.flush()
        theirs, group_id = waiting.id, group.id
    other = await another_company_admin(db)
    async with client_for(app) as outsider:
        csrf = await login(outsider, *other)
        headers = {"x-csrf-token": csrf, "hx-request": "true"}
        async with nothing_changes(db):
            approved = await outsider.post("/backoffice/people/approve", headers=headers,
                                           data={f"consumer-{theirs}": "1"})
            assert approved.status_code == 200, approved.text[:300]
            answers = [await outsider.post("/backoffice/people/approve", headers=headers, data={
                f"consumer-{theirs}": "1", "role": "staff", "group": str(group)})
                for group in (group_id, 2**40)]
            assert [a.status_code for a in answers] == [422, 422]
            assert answers[0].text == answers[1].text.replace(str(2**40), str(group_id))
            assert (await outsider.get(f"/backoffice/people/{theirs}")).status_code == 404
        invited = await outsider.post("/backoffice/people/invite", headers=headers,
                                      data={"name": "En attente", "email": "attente@exemple.fr"})
        assert "invited=sent" in invited.headers["hx-redirect"], invited.text[:300]
    async with db.sessionmaker() as session:
        rows = (await session.scalars(select(Consumer).where(
            Consumer.email == "attente@exemple.fr").order_by(Consumer.id))).all()
    assert [(c.id, c.verified, c.password_hash) for c in rows][0] == (theirs, False, "x")
    assert len(rows) == 2 and rows[1].company_id != rows[0].company_id


async def test_a_till_reaches_no_customer_of_another_company(
    app: Starlette, db: Database, venue: DemoVenue, at_till: AtTill  # noqa: F811
) -> None:
    """The till's customer routes, and a sale naming a customer, answer another company's
    customer as missing; a search finds nobody of theirs."""
    email, _ = await another_company_admin(db)
    async with db.sessionmaker() as session, session.begin():
        company_id = await session.scalar(select(Staff.company_id).where(Staff.email == email))
        assert company_id is not None
        consumer = Consumer(company_id=company_id, email="leur.client@autre-cafe.fr",
                            name="Leur client", password_hash="x")
        session.add(consumer)
        await session.flush()
        theirs = consumer.id
        reward = Reward(company_id=company_id, name="Leur café", cost_points=1,
                        effect="amount_off", amount=100)
        session.add(reward)
        await session.flush()
        session.add(Coupon(company_id=company_id, reward_id=reward.id,
                           token="leur-bon-de-reduction",
                           expires_at=datetime(2099, 1, 1, tzinfo=UTC)))
        product = await session.scalar(select(Product).where(Product.site_id == venue.site_id)
                                       .order_by(Product.id))
        assert product is not None
        price = product.price
        product_id = product.id
    device = at_till.device
    async with nothing_changes(db):
        expect(await device.get(f"/api/v1/till/customers/{theirs}"), 404, "unknown_customer")
        expect(await device.post(f"/api/v1/till/customers/{theirs}/rewards", json={
            "reward_id": 1, "idempotency_key": KEY}), 404, "unknown_customer")
        expect(await device.post("/api/v1/till/coupons", json={
            "token": "leur-bon-de-reduction", "idempotency_key": KEY}), 404, "unknown_coupon")
        expect(await device.post("/api/v1/till/customers/give-back", json={
            "reward_key": KEY, "customer_id": theirs}), 404, "unknown_customer")
        found = await device.post("/api/v1/till/customers/search",
                                  json={"q": "leur.client@autre-cafe.fr"})
        assert found.status_code == 200 and found.json() == {"customers": []}
        expect(await device.post("/api/v1/till/sales", json={
            "uuid": "6f1c2a8e-5d7b-4c1e-9a3f-2b8d4e6f0a1c", "customer_id": theirs,
            "lines": [{"product_id": product_id, "quantity": 1}],
            "payments": [{"method": "card", "amount": price}]}), 404, "unknown_customer")
