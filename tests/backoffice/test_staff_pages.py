"""The staff pages: invitation → password → personal PIN, roles and sites, deactivation,
PIN resets, the searched list; every one of these changes in the audit log."""

from __future__ import annotations

import re

import httpx
from sqlalchemy import func, select
from starlette.applications import Starlette

from accounts.models import Site, Staff, StaffSite
from accounts.passwords import verify_password
from customers.models import OutboxMail
from demo.seed import DemoVenue
from tests.api.test_bad_input import login
from tests.backoffice.conftest import ADMIN, CASHIER, audit_actions, post_form, sign_in
from tests.conftest import Database, client_for

NEW = {"name": "Zoé Martin", "email": "zoe@cafe-de-la-gare.fr", "role": "cashier",
       "all_sites": "1"}


async def _staff(db: Database, email: str) -> Staff:
    async with db.sessionmaker() as session:
        found = await session.scalar(select(Staff).where(Staff.email == email))
    assert found is not None
    return found


async def _invite(client: httpx.AsyncClient, db: Database, **fields: str) -> str:
    """Invite someone; the path of the link their mail holds."""
    answer = await post_form(client, "/backoffice/staff", {**NEW, **fields})
    assert answer.status_code == 200 and answer.headers["hx-redirect"] == "/backoffice/staff"
    async with db.sessionmaker() as session:
        mail = await session.scalar(select(OutboxMail).order_by(OutboxMail.id.desc()))
    assert mail is not None and mail.to == fields.get("email", NEW["email"])
    found = re.search(r"https?://\S+(/staff/invite/\S+)", mail.body)
    assert found, mail.body
    return found.group(1)


async def test_invited_staff_choose_a_password_then_their_own_pin(
    app: Starlette, client: httpx.AsyncClient, db: Database, venue: DemoVenue
) -> None:
    await sign_in(client, ADMIN)
    link = await _invite(client, db)
    zoe = await _staff(db, NEW["email"])
    assert zoe.role == "cashier" and zoe.password_hash == "" and zoe.pin_hash is None
    async with client_for(app) as newcomer:
        assert (await newcomer.post("/api/v1/staff/login", json={
            "email": NEW["email"], "password": ""})).status_code in (401, 422)
        page = await newcomer.get(link)
        assert page.status_code == 200 and NEW["email"] in page.text
        token = re.search(r'"X-CSRF-Token": "([^"]+)"', page.text)  # as htmx sends it
        assert token
        newcomer.headers.update({"hx-request": "true", "x-csrf-token": token.group(1)})
        short = await post_form(newcomer, link, {"password": "court"})
        assert short.status_code == 422 and 'class="field-error"' in short.text
        chosen = await post_form(newcomer, link, {"password": "un-long-mot-de-passe"})
        assert chosen.headers["hx-redirect"] == "/backoffice/pin", chosen.text
        assert (await newcomer.get(link)).status_code == 404  # the link works once
        bad = await post_form(newcomer, "/backoffice/pin", {"pin": "12a4"})
        assert bad.status_code == 422 and 'class="field-error"' in bad.text
        assert (await _staff(db, NEW["email"])).pin_hash is None
        saved = await post_form(newcomer, "/backoffice/pin", {"pin": "4821"})
        assert saved.headers["hx-redirect"] == "/backoffice/pin?saved=1"
    zoe = await _staff(db, NEW["email"])
    assert zoe.pin_hash and "4821" not in zoe.pin_hash and verify_password("4821", zoe.pin_hash)
    async with client_for(app) as again:
        await login(again, NEW["email"], "un-long-mot-de-passe")
    assert await audit_actions(db) == [("staff.invite", f"staff:{zoe.id}")]


async def test_bad_invitations_show_field_errors_and_change_nothing(
    client: httpx.AsyncClient, db: Database, venue: DemoVenue
) -> None:
    await sign_in(client, ADMIN)
    async with db.sessionmaker() as session:
        before = await session.scalar(select(func.count()).select_from(Staff))
    for fields, _field in [
        ({"email": "pas-une-adresse"}, "email"),
        ({"email": CASHIER[0]}, "email"),
        ({"name": ""}, "name"),
        ({"role": "king"}, "role"),
        ({"all_sites": "", "site-999999": "1"}, "sites"),
        ({"all_sites": ""}, "sites"),
    ]:
        answer = await post_form(client, "/backoffice/staff", {**NEW, **fields})
        assert answer.status_code == 422, (fields, answer.text[:300])
        assert 'class="field-error"' in answer.text, fields
    async with db.sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(Staff)) == before
        assert await session.scalar(select(func.count()).select_from(OutboxMail)) == 0
    assert await audit_actions(db) == []


async def test_a_manager_gives_no_role_above_their_own(
    app: Starlette, client: httpx.AsyncClient, db: Database, venue: DemoVenue
) -> None:
    await sign_in(client, ADMIN)
    await _invite(client, db, email="chef@cafe-de-la-gare.fr", role="manager")
    async with db.sessionmaker() as session, session.begin():
        chef = await session.scalar(select(Staff).where(Staff.email == "chef@cafe-de-la-gare.fr"))
        assert chef is not None
        from accounts.passwords import hash_password
        chef.password_hash = hash_password("chef-demo-123")
    async with client_for(app) as manager:
        await sign_in(manager, ("chef@cafe-de-la-gare.fr", "chef-demo-123"))
        answer = await post_form(manager, "/backoffice/staff",
                                 {**NEW, "email": "x@cafe-de-la-gare.fr", "role": "admin"})
        assert answer.status_code == 422 and 'class="field-error"' in answer.text
        admin = await _staff(db, ADMIN[0])
        refused = await post_form(manager, f"/backoffice/staff/{admin.id}/deactivate",
                                  {"confirm": "yes"})
        assert refused.status_code == 403
    assert (await _staff(db, ADMIN[0])).active


async def test_role_sites_pin_reset_and_deactivation_are_audited(
    app: Starlette, client: httpx.AsyncClient, db: Database, venue: DemoVenue
) -> None:
    async with db.sessionmaker() as session, session.begin():
        company_id = (await session.get(Site, venue.site_id)).company_id  # type: ignore[union-attr]
        other = Site(company_id=company_id, name="Le Kiosque")
        session.add(other)
        await session.flush()
        other_id = other.id
        cashier = await session.scalar(select(Staff).where(Staff.email == CASHIER[0]))
        assert cashier is not None
        cashier.pin_hash = "scrypt$x$y"
        cashier_id = cashier.id
    async with client_for(app) as till:
        await sign_in(till, CASHIER)
        assert (await till.get(f"/api/v1/staff/sites/{other_id}/pos")).status_code == 200
        await sign_in(client, ADMIN)
        url = f"/backoffice/staff/{cashier_id}"
        answer = await post_form(client, url, {"role": "supervisor", "all_sites": "",
                                               f"site-{venue.site_id}": "1"})
        assert answer.status_code == 200, answer.text
        async with db.sessionmaker() as session:
            assert (await session.scalars(select(StaffSite.site_id).where(
                StaffSite.staff_id == cashier_id))).all() == [venue.site_id]
        # The cashier's own cookie now reaches only their site.
        assert (await till.get(f"/api/v1/staff/sites/{other_id}/pos")).status_code == 404
        assert (await till.get(f"/api/v1/staff/sites/{venue.site_id}/pos")).status_code == 200
        me = (await till.get("/api/v1/staff/me")).json()
        assert [s["id"] for s in me["sites"]] == [venue.site_id]
        assert (await post_form(client, f"{url}/pin-reset", {})).status_code == 422
        assert (await post_form(client, f"{url}/pin-reset", {"confirm": "yes"})).is_success
        assert (await _staff(db, CASHIER[0])).pin_hash is None
        assert (await post_form(client, f"{url}/deactivate", {"confirm": "yes"})).is_success
        # Deactivated: the open cookie opens nothing, and signing in is refused.
        assert (await till.get(f"/api/v1/staff/sites/{venue.site_id}/pos")).status_code == 401
    async with client_for(app) as again:
        refused = await again.post("/api/v1/staff/login",
                                   json={"email": CASHIER[0], "password": CASHIER[1]})
        assert refused.status_code == 401
    target = f"staff:{cashier_id}"
    assert await audit_actions(db) == [
        ("staff.role", target), ("staff.pin_reset", target), ("staff.deactivate", target)]


async def test_nobody_changes_their_own_role_or_deactivates_themselves(
    client: httpx.AsyncClient, db: Database, venue: DemoVenue
) -> None:
    await sign_in(client, ADMIN)
    admin = await _staff(db, ADMIN[0])
    for path, data in [(f"/backoffice/staff/{admin.id}", {"role": "cashier", "all_sites": "1"}),
                       (f"/backoffice/staff/{admin.id}/deactivate", {"confirm": "yes"})]:
        answer = await post_form(client, path, data)
        assert answer.status_code == 403 and answer.json()["error"]["code"] == "not_on_yourself"
    assert (await _staff(db, ADMIN[0])).role == "admin"


async def test_the_list_is_searched_sorted_and_paginated_on_the_server(
    client: httpx.AsyncClient, db: Database, venue: DemoVenue
) -> None:
    company_id = (await _staff(db, ADMIN[0])).company_id
    async with db.sessionmaker() as session, session.begin():
        session.add_all(Staff(company_id=company_id, email=f"serveur{n:02d}@cafe.fr",
                              name=f"Serveur {n:02d}", password_hash="", role="cashier")
                        for n in range(25))
    await sign_in(client, ADMIN)
    first = await client.get("/backoffice/staff?q=serveur&sort=name")
    assert first.status_code == 200
    names = re.findall(r">(Serveur \d\d)<", first.text)
    assert names == [f"Serveur {n:02d}" for n in range(20)]
    assert "Page 1" in first.text or "Page 1 sur 2" in first.text
    second = await client.get("/backoffice/staff?q=serveur&sort=name&page=2")
    assert re.findall(r">(Serveur \d\d)<", second.text) == [
        f"Serveur {n:02d}" for n in range(20, 25)]
    backwards = await client.get("/backoffice/staff?q=SERVEUR&sort=name&desc=1")
    assert re.findall(r">(Serveur \d\d)<", backwards.text)[0] == "Serveur 24"
    odd = await client.get("/backoffice/staff?sort=password_hash&page=zzz&q=%25")
    assert odd.status_code == 200
    none = await client.get("/backoffice/staff?q=personne-de-tel")
    assert "Serveur" not in none.text


async def test_a_cashier_reaches_no_staff_page(
    client: httpx.AsyncClient, db: Database, venue: DemoVenue
) -> None:
    await sign_in(client, CASHIER)
    admin = await _staff(db, ADMIN[0])
    assert (await client.get("/backoffice/staff")).status_code == 403
    assert (await post_form(client, "/backoffice/staff", NEW)).status_code == 403
    assert (await post_form(client, f"/backoffice/staff/{admin.id}/deactivate",
                            {"confirm": "yes"})).status_code == 403
    assert (await _staff(db, ADMIN[0])).active


async def test_an_invitation_shows_every_bad_field_at_once(
    client: httpx.AsyncClient, db: Database, venue: DemoVenue
) -> None:
    await sign_in(client, ADMIN)
    answer = await post_form(client, "/backoffice/staff",
                             {**NEW, "name": "", "email": "pas-une-adresse"})
    assert answer.status_code == 422, answer.text[:300]
    assert 'id="error-invite.name"' in answer.text and 'id="error-invite.email"' in answer.text
    assert answer.text.count('class="field-error"') == 2
    async with db.sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(OutboxMail)) == 0
    assert await audit_actions(db) == []
