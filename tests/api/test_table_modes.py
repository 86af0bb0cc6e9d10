"""Table modes: a whole site or one table set to menu only, or ordering."""

from __future__ import annotations

import httpx
from starlette.applications import Starlette

from demo.seed import DemoVenue
from tests.conftest import client_for


async def _login(client: httpx.AsyncClient, email: str, password: str) -> None:
    response = await client.post("/api/v1/staff/login", json={"email": email, "password": password})
    assert response.status_code == 200, response.text


async def test_site_then_table_mode(app: Starlette, venue: DemoVenue) -> None:
    first, second = venue.table_tokens[0][1], venue.table_tokens[1][1]
    async with client_for(app) as admin, client_for(app) as diner:
        await _login(admin, "admin@cafe-de-la-gare.fr", "admin-demo")
        menu_only = await admin.post(
            f"/api/v1/staff/sites/{venue.site_id}/mode", json={"mode": "menu"}
        )
        assert menu_only.json() == {"site": {"id": venue.site_id, "mode": "menu"}}

        state = (await diner.get(f"/api/v1/tables/{first}")).json()
        assert state["access"] == "menu_only"
        refused = await diner.post(f"/api/v1/tables/{first}/start", json={"name": "Léa"})
        assert refused.status_code == 403 and refused.json()["error"]["code"] == "menu_only"

        table_id = (await diner.get(f"/api/v1/tables/{second}")).json()["table"]["table"]["id"]
        own = await admin.post(f"/api/v1/staff/tables/{table_id}/mode", json={"mode": "order"})
        assert own.json()["table"]["mode"] == "order"
        started = await diner.post(f"/api/v1/tables/{second}/start", json={"name": "Léa"})
        assert started.status_code == 201, started.text

        back = await admin.post(f"/api/v1/staff/tables/{table_id}/mode", json={"mode": None})
        assert back.json()["table"]["mode"] is None
        assert (await diner.get(f"/api/v1/tables/{second}")).json()["access"] == "menu_only"


async def test_mode_needs_permission_and_a_known_mode(app: Starlette, venue: DemoVenue) -> None:
    async with client_for(app) as cashier, client_for(app) as admin:
        await _login(cashier, "caisse@cafe-de-la-gare.fr", "caisse-demo")
        await _login(admin, "admin@cafe-de-la-gare.fr", "admin-demo")
        forbidden = await cashier.post(
            f"/api/v1/staff/sites/{venue.site_id}/mode", json={"mode": "menu"}
        )
        assert forbidden.status_code == 403
        bad = await admin.post(
            f"/api/v1/staff/sites/{venue.site_id}/mode", json={"mode": "takeaway"}
        )
        assert bad.status_code == 422 and bad.json()["error"]["code"] == "bad_mode"
        token = venue.table_tokens[0][1]
        async with client_for(app) as diner:
            assert (await diner.get(f"/api/v1/tables/{token}")).json()["access"] == "start"
