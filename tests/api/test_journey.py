"""The whole table journey through the JSON API, on SQLite and PostgreSQL."""

from __future__ import annotations

import uuid

import httpx
from starlette.applications import Starlette

from demo.seed import DemoVenue
from tests.conftest import client_for


def key() -> str:
    return uuid.uuid4().hex


async def login(client: httpx.AsyncClient, email: str, password: str) -> None:
    response = await client.post("/api/v1/staff/login", json={"email": email, "password": password})
    assert response.status_code == 200, response.text


async def test_order_validate_produce_settle_free(app: Starlette, venue: DemoVenue) -> None:
    token = venue.table_tokens[0][1]
    async with client_for(app) as lea, client_for(app) as tom, client_for(app) as pos:
        started = await lea.post(f"/api/v1/tables/{token}/start", json={"name": "Léa"})
        assert started.status_code == 201, started.text
        pin = started.json()["pin"]
        assert len(pin) == 6 and pin.isdigit()

        state = (await tom.get(f"/api/v1/tables/{token}")).json()
        assert state["access"] == "need_pin"
        assert state["table"]["session"] == {"status": "open"}  # no PIN, no cart for strangers

        joined = await tom.post(f"/api/v1/tables/{token}/join", json={"name": "Tom", "pin": pin})
        assert joined.status_code == 200, joined.text

        menu = (await lea.get(f"/api/v1/tables/{token}")).json()["menu"]
        espresso = menu["categories"][0]["products"][0]
        croissant = menu["categories"][2]["products"][0]
        added = await lea.post(
            f"/api/v1/tables/{token}/cart/lines",
            json={"client_id": key(), "product_id": espresso["id"], "quantity": 2},
        )
        assert added.status_code == 201, added.text
        await tom.post(
            f"/api/v1/tables/{token}/cart/lines",
            json={"client_id": key(), "product_id": croissant["id"], "quantity": 1,
                  "note": "bien cuit"},
        )
        view = (await tom.get(f"/api/v1/tables/{token}")).json()["table"]
        cart = view["session"]["cart"]
        assert [(ln["member"], ln["quantity"]) for ln in cart] == [("Léa", 2), ("Tom", 1)]
        assert view["session"]["cart_total"] == 2 * espresso["price"] + croissant["price"]

        sent = await tom.post(f"/api/v1/tables/{token}/rounds", json={"idempotency_key": key()})
        assert sent.status_code == 201, sent.text
        round_id = sent.json()["round"]["id"]

        await login(pos, "caisse@cafe-de-la-gare.fr", "caisse-demo")
        board = (await pos.get(f"/api/v1/staff/sites/{venue.site_id}/pos")).json()
        assert [r["id"] for r in board["queue"]] == [round_id]
        validated = await pos.post(f"/api/v1/staff/rounds/{round_id}/validate", json={})
        assert validated.json()["round"]["status"] == "validated"

        kitchen = (await pos.get(f"/api/v1/staff/sites/{venue.site_id}/stations/kitchen")).json()
        bar = (await pos.get(f"/api/v1/staff/sites/{venue.site_id}/stations/bar")).json()
        assert [ln["name"] for ln in kitchen["tickets"][0]["lines"]] == ["Croissant"]
        assert [ln["name"] for ln in bar["tickets"][0]["lines"]] == ["Espresso"]
        for ticket in (kitchen["tickets"][0], bar["tickets"][0]):
            for status in ("in_preparation", "ready", "served"):
                moved = await pos.post(
                    f"/api/v1/staff/tickets/{ticket['id']}/status", json={"status": status}
                )
                assert moved.status_code == 200, moved.text
        rounds = (await lea.get(f"/api/v1/tables/{token}")).json()["table"]["session"]["rounds"]
        assert rounds[0]["status"] == "served"

        due = 2 * espresso["price"] + croissant["price"]
        table_id = (await lea.get(f"/api/v1/tables/{token}")).json()["table"]["table"]["id"]
        pay_key = key()
        paid = await pos.post(
            f"/api/v1/staff/tables/{table_id}/settle",
            json={"method": "cash", "tendered": 1000, "idempotency_key": pay_key},
        )
        assert paid.status_code == 200, paid.text
        assert paid.json()["payment"]["change"] == 1000 - due
        again = await pos.post(
            f"/api/v1/staff/tables/{table_id}/settle",
            json={"method": "cash", "tendered": 1000, "idempotency_key": pay_key},
        )
        assert again.json()["payment"]["id"] == paid.json()["payment"]["id"]

        freed = await pos.post(f"/api/v1/staff/tables/{table_id}/free", json={})
        assert freed.status_code == 200
        after = (await lea.get(f"/api/v1/tables/{token}")).json()
        assert after["access"] == "start" and after["table"]["session"] is None
        stale = await tom.post(f"/api/v1/tables/{token}/join", json={"name": "Tom", "pin": pin})
        assert stale.json()["pin"] != pin  # the old PIN is gone: Tom opened a new session
