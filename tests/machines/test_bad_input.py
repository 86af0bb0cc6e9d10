"""Every bad body sent to a machine, payment or consumer route gets the 4xx code it always
had, names the field that is wrong, and changes nothing; the pages' forms, which send
strings, keep working."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import httpx
import pytest_asyncio
from sqlalchemy import func, select
from starlette.applications import Starlette

from customers.models import Consumer, ConsumerPolicy, LedgerEntry, UserGroup
from demo.seed import DemoVenue
from machines.models import Brew, Machine, Selection, SelectionProduct
from payments.models import PaymentSettings, ProviderPayment
from tests.conftest import Database, client_for
from tests.machines.conftest import key

ADMIN = ("admin@cafe-de-la-gare.fr", "admin-demo")


def expect(response: httpx.Response, status: int, code: str, field: str | None = None) -> None:
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["code"] == code, error
    assert isinstance(error["message"], str) and error["message"]
    assert error.get("field") == field, error


async def _counts(db: Database) -> list[int]:
    async with db.sessionmaker() as session:
        return [
            await session.scalar(select(func.count()).select_from(table)) or 0
            for table in (Machine, Brew, Consumer, LedgerEntry, UserGroup, Selection,
                          SelectionProduct, ProviderPayment, PaymentSettings, ConsumerPolicy)
        ]


@asynccontextmanager
async def unchanged(db: Database) -> AsyncIterator[None]:
    before = await _counts(db)
    yield
    assert await _counts(db) == before


@dataclass
class Staff:
    client: httpx.AsyncClient
    csrf: str

    async def form(self, method: str, url: str, data: dict[str, str]) -> httpx.Response:
        """As a page's form posts it through htmx."""
        return await self.client.request(
            method, url, data=data, headers={"x-csrf-token": self.csrf, "hx-request": "true"}
        )


@pytest_asyncio.fixture
async def admin(app: Starlette) -> AsyncIterator[Staff]:
    async with client_for(app) as client:
        signed = await client.post("/api/v1/staff/login",
                                   json={"email": ADMIN[0], "password": ADMIN[1]})
        assert signed.status_code == 200, signed.text
        yield Staff(client, signed.json()["csrf_token"])


async def test_brews_refuse_bad_drinks_and_keys(
    app: Starlette, venue: DemoVenue, db: Database
) -> None:
    url = f"/api/v1/machines/{venue.machines[0].token}/brews"
    async with client_for(app) as phone, unchanged(db):
        for product_id in ("1", None, True, 10**30, 0):
            expect(await phone.post(url, json={"product_id": product_id,
                                               "idempotency_key": key()}),
                   404, "unknown_drink", "product_id")
        for bad_key in ("short", 12345678, None, "k" * 65):
            expect(await phone.post(url, json={"product_id": 1, "idempotency_key": bad_key}),
                   422, "bad_idempotency_key", "idempotency_key")


async def test_consumer_accounts_refuse_bad_sign_ups_and_sign_ins(
    app: Starlette, venue: DemoVenue, db: Database
) -> None:
    token = venue.machines[0].token
    good = {"machine": token, "email": "lou@example.com", "name": "Lou",
            "password": "long enough"}
    async with client_for(app) as phone, unchanged(db):
        for machine in ("nope", 5, None, "x" * 65):
            expect(await phone.post("/api/v1/consumers/signup", json={**good, "machine": machine}),
                   404, "unknown_machine")
        for field, value in (("email", "lou"), ("email", "lou@example"), ("email", 42),
                             ("email", "l ou@example.com"), ("email", "lou@example.com\nBcc: x"),
                             ("password", "short"), ("password", None)):
            expect(await phone.post("/api/v1/consumers/signup", json={**good, field: value}),
                   422, "bad_signup", field)
        # A name goes into a mail to any address: a person's name, no address in it.
        for name in (" ", "x" * 61, 42, "Lou https://evil.example", "evil.example",
                     "Lou www.evil.fr", "evil。example", "Lou\x07", "Lou\u202eevil",
                     "Win 1000€", "<b>Lou</b>", "Lou@evil", "see evil/phish"):
            expect(await phone.post("/api/v1/consumers/signup", json={**good, "name": name}),
                   422, "bad_name", "name")
        login = {"machine": token, "email": "lou@example.com", "password": "long enough"}
        for field, value in (("password", 5), ("password", "x" * 201), ("email", None)):
            expect(await phone.post("/api/v1/consumers/login", json={**login, field: value}),
                   401, "bad_login", field)
        expect(await phone.post("/api/v1/consumers/login", json=login), 401, "bad_login")
        expect(await phone.get("/api/v1/consumers/me"), 401, "sign_in_required")


async def test_top_ups_take_only_the_operators_amounts(
    app: Starlette, venue: DemoVenue, db: Database
) -> None:
    email, password = venue.consumers[0]
    async with client_for(app) as phone:
        expect(await phone.post("/api/v1/consumers/topups",
                                json={"amount": 500, "idempotency_key": key()}),
               401, "sign_in_required")
        signed = await phone.post("/api/v1/consumers/login", json={
            "machine": venue.machines[1].token, "email": email, "password": password})
        assert signed.status_code == 200, signed.text
        async with unchanged(db):
            for amount in ("500", 0, -500, True, 10**6, None):
                expect(await phone.post("/api/v1/consumers/topups",
                                        json={"amount": amount, "idempotency_key": key()}),
                       422, "bad_amount", "amount")
            expect(await phone.post("/api/v1/consumers/topups",
                                    json={"amount": 501, "idempotency_key": key()}),
                   422, "bad_amount")  # not one of the operator's amounts
            expect(await phone.post("/api/v1/consumers/topups",
                                    json={"amount": 500, "idempotency_key": "short"}),
                   422, "bad_idempotency_key", "idempotency_key")
        # The account page's buttons post the amount as a form, in minor units.
        csrf = re.search(r'"X-CSRF-Token": "([^"]+)"', (await phone.get("/account")).text)
        assert csrf is not None
        paid = await phone.post("/api/v1/consumers/topups",
                                data={"amount": "500", "idempotency_key": key()},
                                headers={"x-csrf-token": csrf.group(1), "hx-request": "true"})
        assert paid.status_code == 201, paid.text
        assert paid.json()["payment"]["amount"] == 500


async def test_machines_and_their_modes(
    admin: Staff, venue: DemoVenue, db: Database
) -> None:
    machine = {"site_id": venue.site_id, "name": "M9", "model": "Jura X8", "serial": "SN-9"}
    hall = venue.machines[0]
    async with db.sessionmaker() as session:
        hall_id = await session.scalar(select(Machine.id).where(Machine.token == hall.token))
    async with unchanged(db):
        for site_id in ("1", None, 10**30):
            expect(await admin.client.post("/api/v1/staff/machines",
                                           json={**machine, "site_id": site_id}),
                   404, "not_found", "site_id")
        expect(await admin.client.post("/api/v1/staff/machines",
                                       json={**machine, "mode": "turbo"}),
               422, "bad_mode", "mode")
        for mode in ("turbo", None, 3):
            expect(await admin.client.post(f"/api/v1/staff/machines/{hall_id}/mode",
                                           json={"mode": mode}), 422, "bad_mode", "mode")
        for typed in (5, None, "nope"):
            expect(await admin.client.request("DELETE", f"/api/v1/staff/machines/{hall_id}",
                                              json={"confirm": typed}),
                   422, "confirm_deletion", None if typed == "nope" else "confirm")
    added = await admin.form("POST", "/api/v1/staff/machines",
                             {**machine, "site_id": str(venue.site_id), "mode": ""})
    assert added.status_code == 201, added.text
    assert added.json()["machine"]["mode"] == "open"


async def test_credit_groups_and_the_consumer_rules(
    admin: Staff, venue: DemoVenue, db: Database
) -> None:
    async with db.sessionmaker() as session:
        lea = await session.scalar(select(Consumer.id).order_by(Consumer.id))
    credit = f"/api/v1/staff/consumers/{lea}/credit"
    async with unchanged(db):
        for amount in ("12,50", 0, 100_001, None, 1.5):
            expect(await admin.client.post(credit, json={"amount": amount,
                                                         "idempotency_key": key()}),
                   422, "bad_amount", "amount")
        expect(await admin.form("POST", credit, {"amount": "1,2,3", "note": "x"}),
               422, "bad_amount", "amount")
        expect(await admin.client.post(credit, json={"amount": 100}),
               422, "bad_idempotency_key", "idempotency_key")
        group = {"name": "Étage 5", "recharge_every": "week", "recharge_amount": 300,
                 "recharge_at": "08:00"}
        for field, value, code in (
            ("name", " ", "bad_name"), ("name", None, "bad_name"),
            ("recharge_every", "hourly", "bad_schedule"),
            ("recharge_at", "8h", "bad_schedule"), ("recharge_at", "24:00", "bad_schedule"),
            ("recharge_amount", 0, "bad_amount"), ("recharge_amount", -1, "bad_amount"),
        ):
            expect(await admin.client.post("/api/v1/staff/groups", json={**group, field: value}),
                   422, code, field)
        expect(await admin.client.post("/api/v1/staff/groups/999999/members",
                                       json={"consumer_id": lea}), 404, "not_found")
        for amounts in ([], [0], ["500"], "500", [500] * 9):
            expect(await admin.client.post("/api/v1/staff/consumer-policy",
                                           json={"topup_amounts": amounts}),
                   422, "bad_amount", "topup_amounts" if not isinstance(amounts, list)
                   or len(amounts) in (0, 9) else "topup_amounts.0")
    credited = await admin.form("POST", credit, {"amount": "12,50", "note": "",
                                                 "idempotency_key": key()})
    assert credited.status_code == 200, credited.text
    assert credited.json()["entry"]["amount"] == 1250
    plain = await admin.form("POST", "/api/v1/staff/groups",
                             {"name": "Sans recharge", "recharge_every": "",
                              "recharge_amount": "n/a", "recharge_at": ""})
    assert plain.status_code == 201, plain.text  # no recharge: its amount is not read
    # Left out, or anything but what the field takes, as always: nothing given.
    lenient = await admin.client.post("/api/v1/staff/consumer-policy",
                                      json={"require_approval": "yes"})
    assert lenient.status_code == 200, lenient.text


async def test_selections_and_drinks(admin: Staff, venue: DemoVenue, db: Database) -> None:
    async with db.sessionmaker() as session:
        hall = await session.scalar(select(Machine).where(Machine.token == venue.machines[0].token))
        assert hall is not None and hall.selection_id is not None
        drink = await session.scalar(select(SelectionProduct.id).where(
            SelectionProduct.selection_id == hall.selection_id))
    selection = hall.selection_id
    async with unchanged(db):
        for body, code, field in (
            ({"name": "", "model": "Jura X8"}, "bad_name", "name"),
            ({"name": "Été", "model": " "}, "bad_name", "model"),
            ({"name": "Été", "model": "Jura X8", "copy_from": 10**30}, "not_found", "copy_from"),
        ):
            expect(await admin.client.post("/api/v1/staff/selections", json=body),
                   422 if code != "not_found" else 404, code, field)
        drinks = f"/api/v1/staff/selections/{selection}/drinks"
        for body, code, field in (
            ({"name": "Soupe", "type": "soup"}, "bad_drink_type", "type"),
            ({"name": "Thé", "type": "tea", "price": -1}, "bad_amount", "price"),
            ({"name": "Thé", "type": "tea", "recipe": {"strength": 9}}, "bad_recipe",
             "recipe.strength"),
            ({"name": "Thé", "type": "tea", "recipe": [1]}, "bad_recipe", "recipe"),
        ):
            expect(await admin.client.post(drinks, json=body), 422, code, field)
        expect(await admin.form("POST", drinks, {"name": "Thé", "type": "tea", "price": "",
                                                 "strength": "fort"}),
               422, "bad_recipe", "recipe.strength")
        expect(await admin.client.post(f"/api/v1/staff/selections/{selection}/order",
                                       json={"order": "1,2"}), 422, "bad_move", "order")
        expect(await admin.client.post(f"/api/v1/staff/drinks/{drink}/move",
                                       json={"direction": "left"}), 422, "bad_move", "direction")
        expect(await admin.client.patch(f"/api/v1/staff/drinks/{drink}",
                                        json={"enabled": "maybe"}),
               422, "invalid_input", "enabled")
        expect(await admin.client.post(f"/api/v1/staff/machines/{hall.id}/selection",
                                       json={"selection_id": "x"}),
               404, "not_found", "selection_id")
    free = await admin.form("POST", drinks, {"name": "Eau", "type": "hot_water", "price": "",
                                             "strength": "", "volume_ml": "200"})
    assert free.status_code == 201, free.text
    assert (free.json()["drink"]["price"], free.json()["drink"]["recipe"]) == (
        0, {"volume_ml": 200})


async def test_payment_settings_refuse_unknown_providers_and_keys(
    admin: Staff, db: Database
) -> None:
    url = "/api/v1/staff/payment-settings"
    async with unchanged(db):
        for body, field in (({"provider": "paypal"}, "provider"), ({}, "provider"),
                            ({"provider": "stripe", "stripe_secret_key": "pk_live_1234567890"},
                             "stripe_secret_key"),
                            ({"provider": "stripe", "stripe_webhook_secret": 42},
                             "stripe_webhook_secret")):
            expect(await admin.client.post(url, json=body), 422, "bad_payment_settings", field)
    saved = await admin.form("POST", url, {"provider": "test", "stripe_secret_key": "",
                                           "stripe_webhook_secret": ""})
    assert saved.status_code == 200, saved.text
    assert saved.json()["provider"] == "test"
