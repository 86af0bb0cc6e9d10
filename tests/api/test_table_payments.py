"""Paying at the table through the HTTP API and the phone page, with the test provider."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest_asyncio
from starlette.applications import Starlette

from demo.seed import DemoVenue
from tests.conftest import Database, client_for
from tests.conftest import test_settings as settings_for


@pytest_asyncio.fixture
async def app(db: Database, venue: DemoVenue) -> AsyncIterator[Starlette]:
    from app import create_app

    application = create_app(settings_for(db.url, payment_provider="test"))
    async with application.router.lifespan_context(application):
        yield application


async def login(client: httpx.AsyncClient, email: str, password: str) -> None:
    response = await client.post("/api/v1/staff/login", json={"email": email, "password": password})
    assert response.status_code == 200, response.text


async def table_of(client: httpx.AsyncClient, token: str) -> dict[str, Any]:
    state: dict[str, Any] = (await client.get(f"/api/v1/tables/{token}")).json()
    return state


async def set_mode(
    admin: httpx.AsyncClient, diner: httpx.AsyncClient, token: str, mode: str
) -> int:
    table_id: int = (await table_of(diner, token))["table"]["table"]["id"]
    response = await admin.post(f"/api/v1/staff/tables/{table_id}/mode", json={"mode": mode})
    assert response.status_code == 200 and response.json()["table"]["mode"] == mode
    return table_id


def csrf_of(html: str) -> str:
    found = re.search(r'"X-CSRF-Token": "([^"]+)"', html)
    assert found is not None
    return found.group(1)


async def provider_says(client: httpx.AsyncClient, checkout_url: str, outcome: str) -> str:
    page = await client.get(checkout_url)  # the test provider's own page
    assert page.status_code == 200
    ref = checkout_url.split("?")[0].rsplit("/", 1)[1]
    response = await client.post(f"/api/v1/payments/test/{ref}", json={"outcome": outcome})
    assert response.status_code == 200, response.text
    status: str = response.json()["status"]
    return status


async def test_order_and_pay_through_the_api(app: Starlette, venue: DemoVenue) -> None:
    token = venue.table_tokens[0][1]
    async with client_for(app) as admin, client_for(app) as lea, client_for(app) as pos:
        await login(admin, "admin@cafe-de-la-gare.fr", "admin-demo")
        await login(pos, "caisse@cafe-de-la-gare.fr", "caisse-demo")
        await set_mode(admin, lea, token, "order_and_pay")
        assert (
            await lea.post(f"/api/v1/tables/{token}/start", json={"name": "Léa"})
        ).status_code == 201
        menu = (await table_of(lea, token))["menu"]
        product = menu["categories"][0]["products"][0]
        added = await lea.post(
            f"/api/v1/tables/{token}/cart/lines",
            json={"client_id": "line-key-001", "product_id": product["id"], "quantity": 3},
        )
        assert added.status_code == 201

        plain = await lea.post(
            f"/api/v1/tables/{token}/rounds", json={"idempotency_key": "round-key-1"}
        )
        assert plain.status_code == 409 and plain.json()["error"]["code"] == "pay_to_send"

        sent = await lea.post(
            f"/api/v1/tables/{token}/checkout",
            json={"idempotency_key": "send-key-01"},
            headers={"hx-request": "true", "x-csrf-token": ""},
        )
        assert sent.status_code == 201, sent.text
        payment = sent.json()["payment"]
        assert payment["amount"] == 3 * product["price"] and payment["status"] == "pending"
        assert payment["checkout_url"].startswith("/pay/test/")
        assert sent.headers["HX-Redirect"] == payment["checkout_url"]
        again = await lea.post(
            f"/api/v1/tables/{token}/checkout", json={"idempotency_key": "send-key-01"}
        )
        assert again.status_code == 200 and again.json()["payment"]["id"] == payment["id"]

        site = venue.site_id
        board = (await pos.get(f"/api/v1/staff/sites/{site}/pos")).json()
        assert board["queue"] == []
        assert [t["payment"]["amount"] for t in board["tables"] if t["payment"]] == [
            payment["amount"]
        ]
        page = await lea.get(f"/t/{token}")
        assert "Paiement en attente" in page.text or "Payment pending" in page.text

        assert await provider_says(lea, payment["checkout_url"], "succeed") == "succeeded"
        board = (await pos.get(f"/api/v1/staff/sites/{site}/pos")).json()
        assert [r["total"] for r in board["queue"]] == [payment["amount"]]
        session = (await table_of(lea, token))["table"]["session"]
        assert (session["paid"], session["due"], session["cart"]) == (payment["amount"], 0, [])


async def test_failed_payment_keeps_the_cart(app: Starlette, venue: DemoVenue) -> None:
    token = venue.table_tokens[0][1]
    async with client_for(app) as admin, client_for(app) as lea:
        await login(admin, "admin@cafe-de-la-gare.fr", "admin-demo")
        await set_mode(admin, lea, token, "order_and_pay")
        await lea.post(f"/api/v1/tables/{token}/start", json={"name": "Léa"})
        product = (await table_of(lea, token))["menu"]["categories"][0]["products"][0]
        await lea.post(
            f"/api/v1/tables/{token}/cart/lines",
            json={"client_id": "line-key-001", "product_id": product["id"], "quantity": 2},
        )
        before = (await table_of(lea, token))["table"]["session"]["cart"]
        sent = (
            await lea.post(
                f"/api/v1/tables/{token}/checkout", json={"idempotency_key": "send-key-01"}
            )
        ).json()
        busy = await lea.post(
            f"/api/v1/tables/{token}/checkout", json={"idempotency_key": "send-key-02"}
        )
        assert busy.status_code == 409 and busy.json()["error"]["code"] == "payment_pending"
        assert busy.json()["error"]["message"]
        assert await provider_says(lea, sent["payment"]["checkout_url"], "fail") == "failed"
        session = (await table_of(lea, token))["table"]["session"]
        assert session["cart"] == before and session["rounds"] == [] and session["payment"] is None

        second = (
            await lea.post(
                f"/api/v1/tables/{token}/checkout", json={"idempotency_key": "send-key-03"}
            )
        ).json()
        cancelled = await lea.post(
            f"/api/v1/tables/{token}/payments/{second['payment']['id']}/cancel", json={}
        )
        assert cancelled.status_code == 200 and cancelled.json()["payment"]["status"] == "canceled"
        assert (await table_of(lea, token))["table"]["session"]["cart"] == before
        unknown = await lea.post(f"/api/v1/tables/{token}/payments/999999/cancel", json={})
        assert unknown.status_code == 404


async def test_pay_only_bill_through_the_api_and_the_page(app: Starlette, venue: DemoVenue) -> None:
    token = venue.table_tokens[1][1]
    async with (
        client_for(app) as admin,
        client_for(app) as lea,
        client_for(app) as tom,
        client_for(app) as pos,
    ):
        await login(admin, "admin@cafe-de-la-gare.fr", "admin-demo")
        await login(pos, "caisse@cafe-de-la-gare.fr", "caisse-demo")
        pin = (await lea.post(f"/api/v1/tables/{token}/start", json={"name": "Léa"})).json()["pin"]
        await tom.post(f"/api/v1/tables/{token}/join", json={"name": "Tom", "pin": pin})
        product = (await table_of(lea, token))["menu"]["categories"][0]["products"][0]
        await lea.post(
            f"/api/v1/tables/{token}/cart/lines",
            json={"client_id": "line-key-001", "product_id": product["id"], "quantity": 4},
        )
        sent = (
            await lea.post(
                f"/api/v1/tables/{token}/rounds", json={"idempotency_key": "round-key-1"}
            )
        ).json()
        await pos.post(f"/api/v1/staff/rounds/{sent['round']['id']}/validate", json={})
        await set_mode(admin, lea, token, "pay_only")
        total = 4 * product["price"]

        no_order = await lea.post(
            f"/api/v1/tables/{token}/cart/lines",
            json={"client_id": "line-key-002", "product_id": product["id"], "quantity": 1},
        )
        assert no_order.status_code == 409 and no_order.json()["error"]["code"] == "no_phone_orders"
        too_much = await tom.post(
            f"/api/v1/tables/{token}/payments",
            json={"idempotency_key": "bill-key-01", "amount": total + 1},
        )
        assert too_much.status_code == 422
        assert too_much.json()["error"]["code"] == "bad_payment_amount"
        for amount in ("12", True, 1.5):
            refused = await tom.post(f"/api/v1/tables/{token}/payments",
                                     json={"idempotency_key": "bill-key-01", "amount": amount})
            assert refused.status_code == 422
            assert refused.json()["error"] == {**refused.json()["error"],
                                               "code": "bad_payment_amount", "field": "amount"}
        short = await tom.post(f"/api/v1/tables/{token}/payments",
                               json={"idempotency_key": "short"})
        assert short.status_code == 422
        assert short.json()["error"] == {**short.json()["error"], "code": "invalid_input",
                                         "field": "idempotency_key"}
        assert (await table_of(tom, token))["table"]["session"]["payment"] is None

        page = await tom.get(f"/t/{token}")
        assert 'hx-post="/api/v1/tables/{token}/payments"' in page.text
        # A form amount in currency units, as the phone page sends it.
        part = await tom.post(
            f"/api/v1/tables/{token}/payments",
            data={"idempotency_key": "bill-key-02", "amount": "1.00"},
            headers={"x-csrf-token": csrf_of(page.text)},
        )
        assert part.status_code == 201, part.text
        assert part.json()["payment"]["amount"] == 100
        busy = await lea.post(
            f"/api/v1/tables/{token}/payments", json={"idempotency_key": "bill-key-03"}
        )
        assert busy.status_code == 409 and busy.json()["error"]["code"] == "payment_pending"
        await provider_says(tom, part.json()["payment"]["checkout_url"], "succeed")

        rest = (
            await lea.post(
                f"/api/v1/tables/{token}/payments", json={"idempotency_key": "bill-key-04"}
            )
        ).json()
        assert rest["payment"]["amount"] == total - 100
        await provider_says(lea, rest["payment"]["checkout_url"], "succeed")
        state = await table_of(lea, token)
        assert state["access"] == "settled"
        assert (state["table"]["session"]["paid"], state["table"]["session"]["due"]) == (total, 0)
        table_id = state["table"]["table"]["id"]
        freed = await pos.post(f"/api/v1/staff/tables/{table_id}/free", json={})
        assert freed.status_code == 200
