"""The managers' pages, driven as htmx drives them (forms with the page's CSRF token): the
selections editor, a machine's page with its deletion by typed name, the groups."""

from __future__ import annotations

import re

import httpx
from sqlalchemy import func, select, update
from starlette.applications import Starlette

from customers.models import GroupMember
from demo.seed import DemoVenue
from machines.models import Brew, Machine, SelectionProduct
from tests.conftest import Database, client_for
from tests.machines.conftest import key


async def _staff(client: httpx.AsyncClient, email: str, password: str) -> None:
    signed = await client.post("/api/v1/staff/login", json={"email": email, "password": password})
    assert signed.status_code == 200, signed.text


def _htmx(page: httpx.Response) -> dict[str, str]:
    """The headers htmx sends from this page: its CSRF token, and that it is htmx."""
    token = re.search(r'"X-CSRF-Token": "([^"]+)"', page.text)
    assert token is not None
    return {"X-CSRF-Token": token.group(1), "HX-Request": "true"}


async def _hall(db: Database, venue: DemoVenue) -> Machine:
    async with db.sessionmaker() as session:
        hall = await session.scalar(select(Machine).where(Machine.token == venue.machines[0].token))
        assert hall is not None
        return hall


async def _price(db: Database, drink_id: int) -> int:
    async with db.sessionmaker() as session:
        drink = await session.get(SelectionProduct, drink_id)
        assert drink is not None
        return drink.price


def _row(**fields: str) -> dict[str, str]:
    """A drink's row as the editor's form posts it."""
    return {"name": "Espresso", "type": "espresso", "price": "0,80", "strength": "4",
            "volume_ml": "40", "temperature_c": "92", "milk_ml": "", **fields}


async def test_editor_changes_a_price_the_phone_sees(
    app: Starlette, venue: DemoVenue, db: Database
) -> None:
    hall = await _hall(db, venue)
    async with client_for(app) as admin, client_for(app) as cashier, client_for(app) as phone:
        await _staff(admin, "admin@cafe-de-la-gare.fr", "admin-demo")
        await _staff(cashier, "caisse@cafe-de-la-gare.fr", "caisse-demo")
        listing = await admin.get("/staff/selections")
        assert f'href="/staff/selections/{hall.selection_id}"' in listing.text
        editor = await admin.get(f"/staff/selections/{hall.selection_id}")
        assert editor.status_code == 200
        assert hall.name in editor.text  # machines using it
        espresso = int(re.findall(r'data-drink="(\d+)"', editor.text)[0])
        assert 'value="0,80"' in editor.text  # the price as a French manager types it
        headers = _htmx(editor)

        saved = await admin.patch(f"/api/v1/staff/drinks/{espresso}",
                                  data=_row(price="1,20"), headers=headers)
        assert saved.status_code == 200, saved.text
        assert await _price(db, espresso) == 120
        menu = await phone.get(f"/m/{hall.token}")
        assert "1,20\xa0€" in menu.text and "0,80\xa0€" not in menu.text

        # Refused: said clearly, and nothing changes.
        for bad, code in (({"price": "1,2,3"}, "bad_amount"), ({"strength": "9"}, "bad_recipe"),
                          ({"name": ""}, "bad_name"), ({"type": "soup"}, "bad_drink_type")):
            refused = await admin.patch(f"/api/v1/staff/drinks/{espresso}",
                                        data=_row(**{"price": "9,99", **bad}), headers=headers)
            assert refused.status_code == 422, bad
            assert refused.json()["error"]["code"] == code
        assert await _price(db, espresso) == 120
        no_token = await admin.patch(f"/api/v1/staff/drinks/{espresso}", data=_row())
        assert no_token.status_code == 403
        till = await cashier.get(f"/staff/selections/{hall.selection_id}")
        assert till.status_code == 200 and "hx-patch" not in till.text  # read only
        by_cashier = await cashier.patch(f"/api/v1/staff/drinks/{espresso}",
                                         data=_row(), headers=_htmx(till))
        assert by_cashier.status_code == 403
        assert await _price(db, espresso) == 120

        # Add, move, disable, remove: the list the editor fetches again follows.
        added = await admin.post(
            f"/api/v1/staff/selections/{hall.selection_id}/drinks", headers=headers,
            data={"name": "Ristretto", "type": "ristretto", "price": "0,70", "strength": "5",
                  "volume_ml": "", "temperature_c": "", "milk_ml": ""},
        )
        assert added.status_code == 201, added.text
        ristretto = added.json()["drink"]["id"]
        assert added.json()["drink"]["recipe"] == {"strength": 5}
        moved = await admin.post(f"/api/v1/staff/drinks/{ristretto}/move",
                                 data={"direction": "up"}, headers=headers)
        assert moved.status_code == 200
        listed = await admin.get(f"/staff/selections/{hall.selection_id}/drinks")
        order = [int(i) for i in re.findall(r'data-drink="(\d+)"', listed.text)]
        assert order[-2] == ristretto
        off = await admin.patch(f"/api/v1/staff/drinks/{ristretto}", data={"enabled": "false"},
                                headers=headers)
        assert off.json()["drink"]["enabled"] is False
        assert "Ristretto" not in (await phone.get(f"/m/{hall.token}")).text
        gone = await admin.delete(f"/api/v1/staff/drinks/{ristretto}", headers=headers)
        assert gone.status_code == 200
        listed = await admin.get(f"/staff/selections/{hall.selection_id}/drinks")
        assert f'data-drink="{ristretto}"' not in listed.text

        created = await admin.post("/api/v1/staff/selections", headers=headers,
                                   data={"name": "Hiver", "model": hall.model,
                                         "copy_from": str(hall.selection_id)})
        assert created.status_code == 201
        assert "Hiver" in (await admin.get("/staff/selections")).text


async def test_machine_deleted_only_with_its_name_typed(
    app: Starlette, venue: DemoVenue, db: Database
) -> None:
    async with client_for(app) as admin, client_for(app) as cashier, client_for(app) as phone:
        await _staff(admin, "admin@cafe-de-la-gare.fr", "admin-demo")
        await _staff(cashier, "caisse@cafe-de-la-gare.fr", "caisse-demo")
        added = await admin.post(
            "/api/v1/staff/machines",
            json={"site_id": venue.site_id, "name": "Machine du 3e", "model": "Jura X8",
                  "serial": "SN-3E", "mode": "open"},
        )
        machine = added.json()["machine"]
        async with db.sessionmaker() as session, session.begin():
            await session.execute(
                update(Machine).where(Machine.id == machine["id"]).values(online=True)
            )
        menu = (await phone.get(f"/api/v1/machines/{machine['token']}")).json()
        brewed = await phone.post(
            f"/api/v1/machines/{machine['token']}/brews",
            json={"product_id": menu["drinks"][0]["id"], "idempotency_key": key()},
        )
        assert brewed.status_code == 201, brewed.text

        page = await admin.get(f"/staff/machines/{machine['id']}")
        assert page.status_code == 200
        assert "Type Machine du 3e to confirm" in page.text or "Tapez Machine du 3e" in page.text
        assert "(1 boisson)" in page.text  # one brew: the singular, in French
        till = await cashier.get(f"/staff/machines/{machine['id']}")
        assert till.status_code == 200 and 'name="confirm"' not in till.text

        async def left() -> tuple[int, int]:
            async with db.sessionmaker() as session:
                machines = await session.scalar(
                    select(func.count()).select_from(Machine).where(Machine.id == machine["id"])
                )
                brews = await session.scalar(
                    select(func.count()).select_from(Brew).where(Brew.machine_id == machine["id"])
                )
                return machines or 0, brews or 0

        headers = _htmx(page)
        for typed in ("", "machine du 3e", "Machine du 3", "yes"):
            wrong = await admin.request("DELETE", f"/api/v1/staff/machines/{machine['id']}",
                                        data={"confirm": typed}, headers=headers)
            assert wrong.status_code == 422
            assert wrong.json()["error"]["code"] == "confirm_deletion"
        by_cashier = await cashier.request("DELETE", f"/api/v1/staff/machines/{machine['id']}",
                                           data={"confirm": "Machine du 3e"},
                                           headers=_htmx(till))
        assert by_cashier.status_code == 403
        assert await left() == (1, 1)

        right = await admin.request("DELETE", f"/api/v1/staff/machines/{machine['id']}",
                                    data={"confirm": "Machine du 3e"}, headers=headers)
        assert right.status_code == 200
        assert right.headers["HX-Redirect"] == "/staff/machines"
        assert await left() == (0, 0)
        assert (await admin.get(f"/staff/machines/{machine['id']}")).status_code == 404


async def test_machine_page_selection_and_groups(
    app: Starlette, venue: DemoVenue, db: Database
) -> None:
    hall = await _hall(db, venue)
    async with client_for(app) as admin:
        await _staff(admin, "admin@cafe-de-la-gare.fr", "admin-demo")
        page = await admin.get(f"/staff/machines/{hall.id}")
        assert hall.settings_pin in page.text and hall.maintenance_pin in page.text
        headers = _htmx(page)
        other = await admin.post("/api/v1/staff/selections", headers=headers,
                                 data={"name": "Autre modèle", "model": "Saeco", "copy_from": ""})
        wrong = await admin.post(f"/api/v1/staff/machines/{hall.id}/selection",
                                 data={"selection_id": str(other.json()["selection"]["id"])},
                                 headers=headers)
        assert wrong.status_code == 422 and wrong.json()["error"]["code"] == "wrong_model"
        secret = await admin.post(f"/api/v1/staff/machines/{hall.id}/secret", headers=headers)
        assert secret.json()["secret"] not in (await admin.get(f"/staff/machines/{hall.id}")).text

        groups = await admin.get("/staff/groups")
        assert groups.status_code == 200
        async with db.sessionmaker() as session:
            member = (await session.execute(select(GroupMember))).scalars().first()
            assert member is not None
        assert f'data-consumer="{member.consumer_id}"' in groups.text
        saved = await admin.patch(
            f"/api/v1/staff/groups/{member.group_id}", headers=headers,
            data={"name": "Open space", "recharge_every": "week", "recharge_amount": "5,00",
                  "recharge_at": "08:00"},
        )
        assert saved.status_code == 200, saved.text
        assert saved.json()["group"]["recharge_amount"] == 500
        bad = await admin.patch(
            f"/api/v1/staff/groups/{member.group_id}", headers=headers,
            data={"name": "Open space", "recharge_every": "hourly", "recharge_amount": "5,00",
                  "recharge_at": "08:00"},
        )
        assert bad.status_code == 422
        removed = await admin.delete(
            f"/api/v1/staff/groups/{member.group_id}/members/{member.consumer_id}",
            headers=headers,
        )
        assert removed.status_code == 200
        groups = await admin.get("/staff/groups")
        assert "Open space" in groups.text
        assert f'data-consumer="{member.consumer_id}"' not in groups.text


async def test_editor_renames_and_deletes_a_selection(
    app: Starlette, venue: DemoVenue, db: Database
) -> None:
    hall = await _hall(db, venue)
    async with client_for(app) as admin, client_for(app) as cashier:
        await _staff(admin, "admin@cafe-de-la-gare.fr", "admin-demo")
        await _staff(cashier, "caisse@cafe-de-la-gare.fr", "caisse-demo")
        listing = await admin.get("/staff/selections")
        created = await admin.post("/api/v1/staff/selections", headers=_htmx(listing),
                                   data={"name": "Hiver", "model": hall.model,
                                         "copy_from": str(hall.selection_id)})
        winter = created.json()["selection"]["id"]

        # In use: the button is off and says why; the API refuses and names the machines.
        used = await admin.get(f"/staff/selections/{hall.selection_id}")
        assert re.search(r'class="small danger" disabled>Supprimer cette sélection', used.text)
        refused = await admin.delete(f"/api/v1/staff/selections/{hall.selection_id}",
                                     headers=_htmx(used))
        assert refused.status_code == 409
        error = refused.json()["error"]
        assert error["code"] == "selection_in_use" and hall.name in error["detail"]["machines"]
        assert hall.name in error["message"] and "Donnez-leur" in error["message"]

        editor = await admin.get(f"/staff/selections/{winter}")
        headers = _htmx(editor)
        assert f'hx-patch="/api/v1/staff/selections/{winter}"' in editor.text
        assert f'hx-delete="/api/v1/staff/selections/{winter}"' in editor.text
        assert 'class="small danger">Supprimer cette sélection' in editor.text  # enabled
        renamed = await admin.patch(f"/api/v1/staff/selections/{winter}",
                                    data={"name": "Hiver 2026"}, headers=headers)
        assert renamed.status_code == 200, renamed.text
        assert "Hiver 2026" in (await admin.get("/staff/selections")).text
        blank = await admin.patch(f"/api/v1/staff/selections/{winter}", data={"name": " "},
                                  headers=headers)
        assert blank.json()["error"]["code"] == "bad_name"

        # A cashier sees no buttons and may not use the routes.
        till = await cashier.get(f"/staff/selections/{winter}")
        assert "rename-selection" not in till.text and "delete-selection" not in till.text
        for answer in (
            await cashier.patch(f"/api/v1/staff/selections/{winter}", data={"name": "X"},
                                headers=_htmx(till)),
            await cashier.delete(f"/api/v1/staff/selections/{winter}", headers=_htmx(till)),
        ):
            assert answer.status_code == 403

        deleted = await admin.delete(f"/api/v1/staff/selections/{winter}", headers=headers)
        assert deleted.status_code == 200
        assert deleted.headers["HX-Redirect"] == "/staff/selections"
        assert "Hiver" not in (await admin.get("/staff/selections")).text
        assert (await admin.get(f"/staff/selections/{winter}")).status_code == 404
        async with db.sessionmaker() as session:
            left = await session.scalar(select(func.count()).select_from(SelectionProduct)
                                        .where(SelectionProduct.selection_id == winter))
        assert left == 0


async def test_the_machines_page_searches_by_name_serial_or_model(
    app: Starlette, db: Database, venue: DemoVenue
) -> None:
    hall = await _hall(db, venue)
    async with client_for(app) as client:
        await _staff(client, "admin@cafe-de-la-gare.fr", "admin-demo")
        client.cookies.set("lang", "fr")
        found = await client.get("/staff/machines", params={"q": hall.serial.lower()})
        none = await client.get("/staff/machines", params={"q": "zzz"})
    assert found.status_code == 200
    assert set(re.findall(r'data-machine="(\d+)"', found.text)) == {str(hall.id)}
    assert 'value="' + hall.serial.lower() + '"' in found.text  # the search stays in its box
    assert not re.findall(r'data-machine="(\d+)"', none.text)
    assert "Aucune machine ne correspond à cette recherche." in none.text
