"""A consumer's way through the pages and the API: the QR code, signing up, the mailed
link, credit and top-ups; and what staff see and may do."""

from __future__ import annotations

import re

import httpx
from sqlalchemy import select, update
from starlette.applications import Starlette

from customers.models import Consumer, CreditBalance
from demo.seed import DemoVenue
from machines.models import Machine
from tests.conftest import Database, client_for
from tests.machines.conftest import key, mailed_link, signed_up


async def _login_staff(client: httpx.AsyncClient, email: str, password: str) -> None:
    signed = await client.post("/api/v1/staff/login", json={"email": email, "password": password})
    assert signed.status_code == 200, signed.text


async def test_machine_page_qr_and_display(app: Starlette, venue: DemoVenue) -> None:
    hall = venue.machines[0]
    async with client_for(app) as phone:
        page = await phone.get(f"/m/{hall.token}")
        assert page.status_code == 200
        assert hall.name in page.text.replace("&#39;", "'")
        assert len(re.findall(r'class="drink"', page.text)) == 6
        assert 'data-online="no"' in page.text  # no simulator running here
        assert '<span class="free">Gratuit</span>' in page.text  # a price, not a free table
        svg = await phone.get(f"/m/{hall.token}/qr.svg")
        assert svg.headers["content-type"].startswith("image/svg+xml")
        assert svg.text.startswith("<svg") and 'xmlns="http://www.w3.org/2000/svg"' in svg.text
        display = await phone.get(f"/m/{hall.token}/display")
        assert f"/m/{hall.token}/qr.svg" in display.text
        assert (await phone.get("/m/not-a-machine")).status_code == 404


async def test_sign_up_confirm_and_sign_in(
    app: Starlette, venue: DemoVenue, db: Database
) -> None:
    space = venue.machines[1]
    async with client_for(app) as phone, client_for(app) as other:
        created = await phone.post(
            "/api/v1/consumers/signup",
            json={"machine": space.token, "email": "Nina@Example.com", "name": "Nina",
                  "password": "long enough"},
        )
        assert created.status_code == 202, created.text
        assert created.json() == {"ok": True,
                                  "redirect": f"/m/{space.token}/login?signed_up=1"}
        assert (await phone.get("/api/v1/consumers/me")).status_code == 401  # not signed in
        told = await phone.get(created.json()["redirect"], headers={"Accept-Language": "en"})
        assert "follow its link to confirm your address" in told.text
        link = await mailed_link(db, "nina@example.com")

        # Signed in, not confirmed yet: the prepaid machine says so.
        await phone.post("/api/v1/consumers/login", json={
            "machine": space.token, "email": "nina@example.com", "password": "long enough"})
        menu = (await phone.get(f"/api/v1/machines/{space.token}")).json()
        assert menu["allowed"] is False and menu["refusal"] == "account_not_ready"

        confirmed = await other.get(link, headers={"Accept-Language": "fr"})
        assert confirmed.status_code == 200
        assert "Votre adresse e-mail est confirmée" in confirmed.text
        assert f'href="/m/{venue.machines[0].token}/login"' in confirmed.text
        assert (await other.get("/api/v1/consumers/me")).status_code == 401  # nobody signed in
        assert (await other.get(link)).status_code == 404  # a link works once

        wrong = await other.post(
            "/api/v1/consumers/login",
            json={"machine": space.token, "email": "nina@example.com", "password": "nope nope"},
        )
        assert wrong.status_code == 401
        right = await other.post(
            "/api/v1/consumers/login",
            json={"machine": space.token, "email": "nina@example.com",
                  "password": "long enough"},
        )
        assert right.status_code == 200
        me = (await other.get("/api/v1/consumers/me")).json()
        assert me["consumer"]["email_confirmed"] and me["balance"] == 0
        # Confirmed, but not a user of the open-space machine yet.
        menu = (await other.get(f"/api/v1/machines/{space.token}")).json()
        assert menu["refusal"] == "not_authorised"


async def test_top_up_with_the_test_provider(app: Starlette, venue: DemoVenue) -> None:
    email, password = venue.consumers[0]
    space = venue.machines[1]
    async with client_for(app) as phone:
        await phone.post("/api/v1/consumers/login",
                         json={"machine": space.token, "email": email, "password": password})
        start = (await phone.get("/api/v1/consumers/me")).json()["balance"]

        async def top_up(amount: int) -> dict[str, str]:
            response = await phone.post(
                "/api/v1/consumers/topups", json={"amount": amount, "idempotency_key": key()}
            )
            assert response.status_code == 201, response.text
            return response.json()["payment"]

        odd = await phone.post("/api/v1/consumers/topups",
                               json={"amount": 777, "idempotency_key": key()})
        assert odd.status_code == 422  # only the operator's amounts

        paid = await top_up(1000)
        checkout = await phone.get(paid["checkout_url"])
        assert checkout.status_code == 200 and "10,00" in checkout.text
        ref = paid["checkout_url"].split("/")[3].split("?")[0]
        done = await phone.post(f"/api/v1/payments/test/{ref}", json={"outcome": "succeed"})
        assert done.json()["status"] == "succeeded"
        again = await phone.post(f"/api/v1/payments/test/{ref}", json={"outcome": "succeed"})
        assert again.status_code == 200  # a repeat changes nothing
        declined = await top_up(500)
        ref2 = declined["checkout_url"].split("/")[3].split("?")[0]
        await phone.post(f"/api/v1/payments/test/{ref2}", json={"outcome": "fail"})

        me = (await phone.get("/api/v1/consumers/me")).json()
        assert me["balance"] == start + 1000
        assert [e["kind"] for e in me["entries"]][:1] == ["topup"]
        page = await phone.get("/account")
        assert f'data-balance="{start + 1000}"' in page.text


async def test_staff_see_pins_and_manage_machines(
    app: Starlette, venue: DemoVenue, db: Database
) -> None:
    async with client_for(app) as admin, client_for(app) as cashier:
        await _login_staff(admin, "admin@cafe-de-la-gare.fr", "admin-demo")
        await _login_staff(cashier, "caisse@cafe-de-la-gare.fr", "caisse-demo")
        async with db.sessionmaker() as session:
            hall = await session.scalar(
                select(Machine).where(Machine.token == venue.machines[0].token)
            )
            assert hall is not None
        page = await admin.get("/staff/machines")
        assert hall.settings_pin in page.text and hall.maintenance_pin in page.text
        till = await cashier.get("/staff/machines")
        assert till.status_code == 200 and hall.settings_pin not in till.text

        added = await admin.post(
            "/api/v1/staff/machines",
            json={"site_id": venue.site_id, "name": "Machine du 3e", "model": "Jura X8",
                  "serial": "SN-3E", "mode": "authorised"},
        )
        assert added.status_code == 201, added.text
        assert added.json()["secret"].startswith("cm")
        machine_id = added.json()["machine"]["id"]
        refused = await cashier.post(f"/api/v1/staff/machines/{machine_id}/secret", json={})
        assert refused.status_code == 403
        async with db.sessionmaker() as session:
            fresh = await session.get(Machine, machine_id)
            assert fresh is not None and fresh.secret_hash is not None
            assert added.json()["secret"] not in (fresh.secret_hash or "")  # stored hashed

        nope = await admin.request("DELETE", f"/api/v1/staff/machines/{machine_id}",
                                   json={"confirm": "yes"})
        assert nope.status_code == 422
        gone = await admin.request("DELETE", f"/api/v1/staff/machines/{machine_id}",
                                   json={"confirm": "Machine du 3e"})
        assert gone.status_code == 200
        async with db.sessionmaker() as session:
            assert await session.get(Machine, machine_id) is None

        async with db.sessionmaker() as session:
            lea = await session.scalar(
                select(Consumer).where(Consumer.email == venue.consumers[0][0])
            )
            assert lea is not None
        same = key()
        for _ in range(2):
            credited = await admin.post(
                f"/api/v1/staff/consumers/{lea.id}/credit",
                json={"amount": 250, "idempotency_key": same, "note": "welcome"},
            )
            assert credited.status_code == 200, credited.text
        assert credited.json()["duplicate"] is True
        by_cashier = await cashier.post(
            f"/api/v1/staff/consumers/{lea.id}/credit",
            json={"amount": 250, "idempotency_key": key()},
        )
        assert by_cashier.status_code == 403


async def test_approval_required_then_granted(
    app: Starlette, venue: DemoVenue, db: Database
) -> None:
    hall = venue.machines[0]
    async with db.sessionmaker() as session:
        hall_id = await session.scalar(select(Machine.id).where(Machine.token == hall.token))
    async with client_for(app) as admin, client_for(app) as nina:
        await _login_staff(admin, "admin@cafe-de-la-gare.fr", "admin-demo")
        rules = await admin.post("/api/v1/staff/consumer-policy",
                                 json={"require_approval": True})
        assert rules.json()["require_approval"] is True
        await admin.post(f"/api/v1/staff/machines/{hall_id}/mode", json={"mode": "authorised"})
        nina_id = await signed_up(nina, db, hall.token, "nina@example.com")
        menu = (await nina.get(f"/api/v1/machines/{hall.token}")).json()
        assert menu["refusal"] == "account_not_ready"  # confirmed, but not approved yet
        waiting = await admin.get("/staff/machines")
        assert "nina@example.com" in waiting.text

        approved = await admin.post(f"/api/v1/staff/consumers/{nina_id}/approve",
                                    json={"role": "consumer"})
        assert approved.status_code == 200
        menu = (await nina.get(f"/api/v1/machines/{hall.token}")).json()
        assert menu["refusal"] == "not_authorised"  # approved; not in the machine's group yet



def _offer(page: httpx.Response) -> tuple[str, str, str]:
    """The page's terms (charge, may brew) and what its notice says the visitor needs."""
    terms = re.search(r'class="drinks" id="drinks-\d+"\s+data-charge="(\w+)" '
                      r'data-allowed="(\w+)"', page.text)
    assert terms is not None, page.text
    notice = re.search(r'class="notice (?:refusal|low-credit)"[^>]*>(.*?)</p>', page.text,
                       re.S)
    return terms.group(1), terms.group(2), notice.group(1) if notice else ""


async def test_visitors_who_may_not_brew_see_prices_and_what_they_need(
    app: Starlette, venue: DemoVenue, db: Database
) -> None:
    hall, space = venue.machines  # open; prepaid (Léa is one of its users)
    english = {"Accept-Language": "en"}
    async with client_for(app) as phone, client_for(app) as nina, client_for(app) as lea:
        # Not signed in at the prepaid machine: its users' prices, not "free".
        page = await phone.get(f"/m/{space.token}", headers=english)
        charge, allowed, notice = _offer(page)
        assert (charge, allowed) == ("credit", "no")
        assert '<span class="paid">€0.80</span>' in page.text
        assert "Sign in to order" in notice and "prepaid credit" in notice
        assert "ask an administrator to add you" in notice
        assert f'href="/m/{space.token}/login"' in page.text
        menu = (await phone.get(f"/api/v1/machines/{space.token}")).json()
        assert menu["allowed"] is False
        assert {d["charge"] for d in menu["drinks"] if d["price"] > 0} == {"credit"}
        french = await phone.get(f"/m/{space.token}", headers={"Accept-Language": "fr"})
        assert "Connectez-vous pour commander" in _offer(french)[2]
        assert "0,80\xa0€" in french.text

        # Signed in, confirmed, but not one of its users: ask to be added, then top up.
        await signed_up(nina, db, space.token, "nina@example.com")
        page = await nina.get(f"/m/{space.token}", headers=english)
        charge, allowed, notice = _offer(page)
        assert (charge, allowed) == ("credit", "no")
        assert "not one of this machine's users yet" in notice and "top" in notice
        assert '<span class="paid">€1.50</span>' in page.text

        # A free machine for its users only: no price, and what to do.
        async with db.sessionmaker() as session, session.begin():
            await session.execute(update(Machine).where(Machine.token == hall.token)
                                  .values(mode="authorised"))
        page = await phone.get(f"/m/{hall.token}", headers=english)
        charge, allowed, notice = _offer(page)
        assert (charge, allowed) == ("none", "no")
        assert "reserved for its registered users" in notice
        charge, allowed, notice = _offer(await nina.get(f"/m/{hall.token}", headers=english))
        assert "Ask an administrator to add you to its group" in notice

        # One of the users, with credit: no notice; without enough: top up.
        email, password = venue.consumers[0]
        await lea.post("/api/v1/consumers/login",
                       json={"machine": space.token, "email": email, "password": password})
        assert _offer(await lea.get(f"/m/{space.token}", headers=english)) == (
            "credit", "yes", "")
        async with db.sessionmaker() as session, session.begin():
            lea_id = await session.scalar(select(Consumer.id).where(Consumer.email == email))
            await session.execute(update(CreditBalance).where(
                CreditBalance.consumer_id == lea_id).values(balance=50))
        page = await lea.get(f"/m/{space.token}", headers=english)
        charge, allowed, notice = _offer(page)
        assert (charge, allowed) == ("credit", "yes")
        assert "Your credit does not cover a drink here" in notice
        assert '<a href="/account">Top up</a>' in notice
