"""Staff reach only their own company's things: every staff route, given an object of
another company, answers exactly as if it did not exist, and changes nothing at all.

One table lists each route with the kind of object it loads; the same table runs on
SQLite and PostgreSQL, and the whole database is compared before and after.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from starlette.applications import Starlette

import db.models  # noqa: F401  (every table, to compare the whole database)
from accounts.models import Staff
from customers.models import Consumer, UserGroup
from db.base import Base
from demo.seed import DemoVenue
from machines.models import Machine, MachineGroup, Selection, SelectionProduct
from ordering.models import DiningTable, Product, Ticket
from tests.api.test_bad_input import CASHIER, expect, key, login
from tests.conftest import Database, client_for
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
]

# The staff pages that show one object: another company's is a page not found.
PAGES = [
    "/pos/{site}", "/pos/{site}/station/kitchen", "/pos/{site}/qr",
    "/pos/{site}/tables/{table}/order", "/staff/machines/{machine}",
    "/staff/selections/{selection}", "/staff/selections/{selection}/drinks",
    "/backoffice/sites/{site}",
]

# The back office's forms that change one object: another company's is not found either.
FORMS: list[tuple[str, dict[str, Any]]] = [
    ("/backoffice/sites/{site}", {"name": "À moi", "address": "Ici", "table_mode": "menu"}),
    ("/backoffice/sites/{site}/archive", {"archived": "true"}),
]


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
    async with db.sessionmaker() as session:
        return {
            table.name: [
                tuple(row) for row in (
                    await session.execute(select(table).order_by(*table.primary_key.columns))
                ).all()
            ]
            for table in Base.metadata.sorted_tables
        }


@asynccontextmanager
async def nothing_changes(db: Database) -> AsyncIterator[None]:
    before = await _everything(db)
    yield
    assert await _everything(db) == before


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
                    headers={"x-csrf-token": csrf},
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
                    url, data=form, headers={"x-csrf-token": csrf, "hx-request": "true"}
                )
                expect(response, 404, "not_found")


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
