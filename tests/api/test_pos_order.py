"""Staff take an order for a table: the JSON route and the POS's order panel (a form)."""

from __future__ import annotations

import re

import httpx
from starlette.applications import Starlette

from demo.seed import DemoVenue
from tests.conftest import client_for


async def _login(client: httpx.AsyncClient, email: str, password: str) -> None:
    response = await client.post("/api/v1/staff/login", json={"email": email, "password": password})
    assert response.status_code == 200, response.text


async def _ids(client: httpx.AsyncClient, venue: DemoVenue) -> tuple[list[int], dict[str, int]]:
    board = (await client.get(f"/api/v1/staff/sites/{venue.site_id}/pos")).json()
    menu = (await client.get(f"/api/v1/sites/{venue.site_id}/menu")).json()
    products = {p["name"]: p["id"] for c in menu["categories"] for p in c["products"]}
    return [t["id"] for t in board["tables"]], products


async def test_json_order_opens_the_table_and_a_retry_makes_one_round(
    app: Starlette, venue: DemoVenue
) -> None:
    async with client_for(app) as pos, client_for(app) as kitchen, client_for(app) as lea:
        await _login(pos, "caisse@cafe-de-la-gare.fr", "caisse-demo")
        await _login(kitchen, "cuisine@cafe-de-la-gare.fr", "cuisine-demo")
        tables, products = await _ids(pos, venue)
        url = f"/api/v1/staff/tables/{tables[0]}/rounds"
        body = {
            "idempotency_key": "pos-order-key-1",
            "lines": [{"product_id": products["Espresso"], "quantity": 2, "note": "serré"},
                      {"product_id": products["Croissant"], "quantity": 1}],
        }
        forbidden = await kitchen.post(url, json=body)
        assert forbidden.status_code == 403
        taken = await pos.post(url, json=body)
        assert taken.status_code == 201, taken.text
        data = taken.json()
        assert data["round"]["status"] == "validated" and not data["duplicate"]
        me = (await pos.get("/api/v1/staff/me")).json()["staff"]
        assert data["round"]["staff_id"] == me["id"]
        again = await pos.post(url, json=body)
        assert again.status_code == 200 and again.json()["round"] == data["round"]

        station = (await kitchen.get(f"/api/v1/staff/sites/{venue.site_id}/stations/bar")).json()
        assert [[ln["note"] for ln in t["lines"]] for t in station["tickets"]] == [["serré"]]
        # A phone at the table joins with the PIN the order returned and sees the round.
        token = venue.table_tokens[0][1]
        joined = await lea.post(f"/api/v1/tables/{token}/join",
                                json={"name": "Léa", "pin": data["pin"]})
        assert joined.status_code == 200, joined.text
        state = (await lea.get(f"/api/v1/tables/{token}")).json()
        assert [r["status"] for r in state["table"]["session"]["rounds"]] == ["validated"]

        short = await pos.post(url, json={**body, "idempotency_key": "short"})
        assert short.status_code == 422 and short.json()["error"]["code"] == "invalid_input"
        malformed = await pos.post(url, json={"idempotency_key": "pos-order-key-2",
                                              "lines": [{"quantity": 1}]})
        assert malformed.status_code == 422 and malformed.json()["error"]["code"] == "bad_body"
        empty = await pos.post(url, json={"idempotency_key": "pos-order-key-3", "lines": []})
        assert empty.status_code == 422 and empty.json()["error"]["code"] == "empty_order"


async def test_pos_panel_form_sends_the_picked_products(app: Starlette, venue: DemoVenue) -> None:
    async with client_for(app) as pos:
        await _login(pos, "caisse@cafe-de-la-gare.fr", "caisse-demo")
        tables, products = await _ids(pos, venue)
        table_id = tables[1]
        await pos.post(f"/api/v1/staff/products/{products['Croissant']}/availability",
                       json={"available": False})
        page = await pos.get(f"/pos/{venue.site_id}")
        assert f'hx-get="/pos/{venue.site_id}/tables/{table_id}/order"' in page.text
        csrf = re.search(r'"X-CSRF-Token": "([^"]+)"', page.text)
        assert csrf is not None

        panel = await pos.get(f"/pos/{venue.site_id}/tables/{table_id}/order",
                              headers={"hx-request": "true"})
        assert panel.status_code == 200
        assert "<html" not in panel.text  # the fragment only
        assert f'hx-post="/api/v1/staff/tables/{table_id}/rounds"' in panel.text
        assert f'name="qty-{products["Espresso"]}"' in panel.text
        assert f'name="qty-{products["Croissant"]}"' not in panel.text  # sold out
        key = re.search(r'name="idempotency_key" value="([0-9a-f]{32})"', panel.text)
        assert key is not None
        full = await pos.get(f"/pos/{venue.site_id}/tables/{table_id}/order")
        assert "<html" in full.text and 'id="pos-live"' in full.text
        assert f'hx-post="/api/v1/staff/tables/{table_id}/rounds"' in full.text

        form = {
            "idempotency_key": key.group(1),
            f"qty-{products['Tarte Tatin']}": "2", f"note-{products['Tarte Tatin']}": "chaude",
            f"qty-{products['Espresso']}": "", f"note-{products['Espresso']}": "",
            f"qty-{products['Cappuccino']}": "0",
        }
        headers = {"hx-request": "true", "x-csrf-token": csrf.group(1)}
        url = f"/api/v1/staff/tables/{table_id}/rounds"
        assert (await pos.post(url, data=form)).status_code == 403  # no CSRF token
        sent = await pos.post(url, data=form, headers=headers)
        assert sent.status_code == 201, sent.text
        board = (await pos.get(f"/api/v1/staff/sites/{venue.site_id}/pos")).json()
        [round_] = [r for r in board["in_production"] if r["table_id"] == table_id]
        assert [(ln["name"], ln["quantity"], ln["note"]) for ln in round_["lines"]] == [
            ("Tarte Tatin", 2, "chaude"),
        ]
        assert round_["taken_by"] == "Chloé Caisse"
        page = await pos.get(f"/pos/{venue.site_id}")
        assert "Prise par Chloé Caisse" in page.text
        # A sold-out product posted anyway (the panel was open when it ran out) is named.
        stale = {"idempotency_key": "pos-order-key-9", f"qty-{products['Croissant']}": "1"}
        refused = await pos.post(url, data=stale, headers=headers)
        assert refused.status_code == 409
        assert "Croissant" in refused.json()["error"]["message"]

        kitchen_panel = await _kitchen_panel(app, venue, table_id)
        assert kitchen_panel.status_code == 403


async def _kitchen_panel(app: Starlette, venue: DemoVenue, table_id: int) -> httpx.Response:
    async with client_for(app) as kitchen:
        await _login(kitchen, "cuisine@cafe-de-la-gare.fr", "cuisine-demo")
        return await kitchen.get(f"/pos/{venue.site_id}/tables/{table_id}/order",
                                 headers={"hx-request": "true"})
