"""A new operator starts from nothing: signs up with an address and a password, confirms
the address by the mailed link (by SMTP, or in the server's log without a mail server),
signs in, names the company, and is its admin. The sign-up tells nobody which addresses
have an account, and an unconfirmed one cannot sign in. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import hashlib
import logging
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import func, select, update
from starlette.applications import Starlette

from accounts.models import Company, OperatorSignup, Staff
from customers.models import OutboxMail
from demo.seed import DemoVenue
from tests.api.test_bad_input import ADMIN
from tests.backoffice.conftest import AppFactory, mails_to, path_in
from tests.conftest import Database, client_for, free_port
from tests.customers.test_mail import Inbox

NEW = {"email": "Owner@Example.com", "password": "a long password"}
OWNER = "owner@example.com"
COMPANY = {"company": "Le Zinc", "name": "Zoé Martin", "currency": "CHF",
           "timezone": "Europe/Zurich", "language": "en"}
HTMX = {"hx-request": "true", "Accept-Language": "en"}


async def sign_up(client: httpx.AsyncClient, **given: Any) -> httpx.Response:
    return await client.post("/api/v1/signup", json={**NEW, **given}, headers=HTMX)


async def sign_in(client: httpx.AsyncClient, email: str, password: str,
                  **headers: str) -> httpx.Response:
    return await client.post("/api/v1/staff/login", json={"email": email, "password": password},
                             headers=headers)


async def finish(client: httpx.AsyncClient, confirm: str) -> httpx.Response:
    """From the confirmation link to the company: confirm, sign in, name it."""
    confirmed = await client.get(confirm)
    assert confirmed.status_code == 200 and "/staff/login" in confirmed.text
    signed = await sign_in(client, OWNER, NEW["password"])
    assert signed.status_code == 202, signed.text
    assert signed.json()["redirect"] == "/signup/company"
    page = await client.get("/signup/company")
    assert page.status_code == 200 and OWNER in page.text and "Europe/Zurich" in page.text
    return await client.post("/api/v1/signup/company", json=COMPANY)


async def _admin_of_a_new_company(db: Database, created: httpx.Response) -> Staff:
    assert created.status_code == 201, created.text
    async with db.sessionmaker() as session:
        staff = await session.scalar(select(Staff).where(Staff.email == OWNER))
        assert staff is not None and staff.role == "admin" and staff.name == "Zoé Martin"
        company = await session.get(Company, staff.company_id)
        assert company is not None
        assert (company.name, company.currency, company.timezone, company.locale) == (
            "Le Zinc", "CHF", "Europe/Zurich", "en")
        assert await session.scalar(select(func.count()).select_from(OperatorSignup)) == 0
        return staff


async def test_sign_up_by_smtp_confirm_name_the_company_and_sign_in_as_its_admin(
    db: Database, venue: DemoVenue, make_app: AppFactory
) -> None:
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        async with make_app(smtp_url=f"smtp://127.0.0.1:{port}?starttls=off",
                            machine_sweep_s=0.1) as app, client_for(app) as operator:
            answered = await sign_up(operator)
            assert answered.status_code == 202
            assert answered.headers["HX-Redirect"] == "/signup?sent=1"
            for _ in range(100):
                if inbox.mails:
                    break
                await asyncio.sleep(0.05)
            [(to, message)] = inbox.mails
            assert to == [OWNER]
            assert message["Subject"] == "Confirm your address to create your venue"
            created = await finish(operator, path_in(message.get_content(), "signup/confirm"))
            await _admin_of_a_new_company(db, created)
            assert created.json()["redirect"] == "/staff"
            me = await operator.get("/api/v1/staff/me")
            assert me.json()["company"]["name"] == "Le Zinc"
            assert "read_mail" in me.json()["permissions"]  # the admin's whole role

            # Signed out, the operator signs in as the admin, like any member of staff.
            await operator.post("/api/v1/staff/logout", json={})
            again = await sign_in(operator, OWNER, NEW["password"])
            assert again.status_code == 200 and again.json()["staff"]["role"] == "admin"
    finally:
        controller.stop()


async def test_without_a_mail_server_the_link_is_written_to_the_servers_log(
    db: Database, venue: DemoVenue, make_app: AppFactory, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="customers.mail")
    async with make_app(machine_sweep_s=0.1) as app, client_for(app) as operator:
        assert (await sign_up(operator)).status_code == 202
        for _ in range(100):
            logged = [r.getMessage() for r in caplog.records if OWNER in r.getMessage()]
            if logged:
                break
            await asyncio.sleep(0.05)
        [text] = logged
        assert "no mail server" in text
        await _admin_of_a_new_company(db, await finish(operator, path_in(text, "signup/confirm")))


async def test_the_database_keeps_only_the_links_digest(
    db: Database, venue: DemoVenue, client: httpx.AsyncClient
) -> None:
    await sign_up(client)
    [mail] = await mails_to(db, OWNER)
    token = path_in(mail.body, "signup/confirm").rsplit("/", 1)[1]
    async with db.sessionmaker() as session:
        signup = await session.scalar(select(OperatorSignup))
        assert signup is not None
        assert signup.token_hash == hashlib.sha256(token.encode()).hexdigest()
        assert signup.password_hash.startswith("scrypt$")


async def test_a_known_and_a_new_address_get_the_same_answer(
    db: Database, venue: DemoVenue, app: Starlette
) -> None:
    known = ADMIN[0]
    async with client_for(app) as stranger, client_for(app) as newcomer:
        taken = await sign_up(stranger, email=known, password="not theirs at all")
        new = await sign_up(newcomer)
        assert (taken.status_code, taken.json()) == (new.status_code, new.json())
        assert taken.headers["HX-Redirect"] == new.headers["HX-Redirect"]
        assert set(taken.cookies) == set(new.cookies)
        # Again within the hour: still the same answer, and the owner is not flooded.
        assert (await sign_up(stranger, email=known)).status_code == 202

    [notice] = await mails_to(db, known)
    assert notice.subject == "Someone tried to sign up with your address"
    assert "/password/forgot" in notice.body and "/signup/confirm/" not in notice.body
    async with client_for(app) as owner:  # the owner's password did not change
        assert (await sign_in(owner, *ADMIN)).status_code == 200
    async with db.sessionmaker() as session:
        assert await session.scalar(
            select(func.count()).select_from(OperatorSignup)
            .where(OperatorSignup.email == known)) == 0


async def test_a_confirmed_address_cannot_be_signed_up_again_by_a_stranger(
    db: Database, venue: DemoVenue, client: httpx.AsyncClient
) -> None:
    await sign_up(client)
    [mail] = await mails_to(db, OWNER)
    assert (await client.get(path_in(mail.body, "signup/confirm"))).status_code == 200
    assert (await sign_up(client, password="the strangers one")).status_code == 202
    assert [m.subject for m in await mails_to(db, OWNER)][1:] == [
        "Someone tried to sign up with your address"]
    assert (await sign_in(client, OWNER, "the strangers one")).status_code == 401
    assert (await sign_in(client, OWNER, NEW["password"])).status_code == 202


async def test_until_confirmed_the_account_cannot_sign_in_and_is_told_why(
    db: Database, venue: DemoVenue, client: httpx.AsyncClient
) -> None:
    await sign_up(client)
    refused = await sign_in(client, OWNER, NEW["password"], **{"Accept-Language": "fr"})
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "email_not_confirmed"
    assert refused.json()["error"]["message"].startswith("Confirmez d'abord votre adresse")
    # A wrong password says no more than for anyone.
    wrong = await sign_in(client, OWNER, "not the password")
    assert (wrong.status_code, wrong.json()["error"]["code"]) == (401, "bad_login")
    # Nor may it name a company.
    early = await client.post("/api/v1/signup/company", json=COMPANY)
    assert (early.status_code, early.json()["error"]["code"]) == (401, "no_signup")
    assert (await client.get("/signup/company")).status_code == 303


async def test_a_confirmation_link_works_once_and_expires(
    db: Database, venue: DemoVenue, client: httpx.AsyncClient
) -> None:
    await sign_up(client)
    [first] = await mails_to(db, OWNER)
    old = path_in(first.body, "signup/confirm")
    await sign_up(client)  # signed up again before confirming: the first link dies
    second = path_in((await mails_to(db, OWNER))[1].body, "signup/confirm")
    assert (await client.get(old)).status_code == 404
    async with db.sessionmaker() as session, session.begin():
        await session.execute(update(OperatorSignup).values(
            token_expires_at=datetime.now(UTC) - timedelta(seconds=1)))
    expired = await client.get(second, headers={"Accept-Language": "en"})
    assert expired.status_code == 404 and "sign up again" in expired.text
    await sign_up(client)
    third = path_in((await mails_to(db, OWNER))[2].body, "signup/confirm")
    assert (await client.get(third)).status_code == 200
    assert (await client.get(third)).status_code == 404  # once
    assert (await client.get("/signup/confirm/short")).status_code == 404


@pytest.mark.parametrize(("body", "field", "code"), [
    ({"email": "not an address"}, "email", "bad_email"),
    ({"email": 12}, "email", "bad_email"),
    ({"password": "short"}, "password", "bad_password"),
    ({"password": "x" * 201}, "password", "bad_password"),
])
async def test_a_bad_sign_up_names_its_field_and_changes_nothing(
    db: Database, venue: DemoVenue, client: httpx.AsyncClient,
    body: dict[str, Any], field: str, code: str,
) -> None:
    refused = await sign_up(client, **body)
    assert refused.status_code == 422
    assert refused.json()["error"]["field"] == field
    assert refused.json()["error"]["code"] == code
    async with db.sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(OperatorSignup)) == 0
        assert await session.scalar(select(func.count()).select_from(OutboxMail)) == 0


@pytest.mark.parametrize(("change", "field", "code"), [
    ({"company": "   "}, "company", "bad_company_name"),
    ({"company": "x" * 121}, "company", "bad_company_name"),
    ({"name": ""}, "name", "bad_staff_name"),
    ({"currency": "FRF"}, "currency", "bad_currency"),  # no longer in use
    ({"currency": "eur"}, "currency", "bad_currency"),
    ({"timezone": "Mars/Olympus"}, "timezone", "bad_timezone"),
    ({"timezone": 3}, "timezone", "bad_timezone"),
    ({"language": "de"}, "language", "bad_language"),
])
async def test_a_bad_company_names_its_field_and_creates_nothing(
    db: Database, venue: DemoVenue, client: httpx.AsyncClient,
    change: dict[str, Any], field: str, code: str,
) -> None:
    await sign_up(client)
    [mail] = await mails_to(db, OWNER)
    await client.get(path_in(mail.body, "signup/confirm"))
    await sign_in(client, OWNER, NEW["password"])
    async with db.sessionmaker() as session:
        companies = await session.scalar(select(func.count()).select_from(Company))
    refused = await client.post("/api/v1/signup/company", json={**COMPANY, **change},
                                headers={"Accept-Language": "fr"})
    assert refused.status_code == 422, refused.text
    assert (refused.json()["error"]["field"], refused.json()["error"]["code"]) == (field, code)
    async with db.sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(Company)) == companies
        assert await session.scalar(select(func.count()).select_from(OperatorSignup)) == 1


async def test_sign_ups_are_limited_per_address_and_per_client(
    db: Database, venue: DemoVenue, make_app: AppFactory
) -> None:
    async with make_app(mail_requests_per_address=2, mail_requests_per_client=3) as app, \
            client_for(app) as client:
        assert [(await sign_up(client)).status_code for _ in range(3)] == [202, 202, 429]
        limited = await sign_up(client)
        assert limited.json()["error"]["code"] == "too_many_requests"
        assert int(limited.headers["Retry-After"]) > 0
        # Another address, same client: the client's own limit (3) is reached too.
        assert (await sign_up(client, email="other@example.com")).status_code == 202
        assert (await sign_up(client, email="third@example.com")).status_code == 429
    assert len(await mails_to(db, OWNER)) == 2


async def test_only_a_confirmed_sign_up_on_this_browser_names_a_company(
    db: Database, venue: DemoVenue, app: Starlette
) -> None:
    async with client_for(app) as operator, client_for(app) as admin:
        await sign_up(operator)
        [mail] = await mails_to(db, OWNER)
        await operator.get(path_in(mail.body, "signup/confirm"))
        # A member of staff, signed in, has no sign-up to finish; nor has another browser.
        assert (await sign_in(admin, *ADMIN)).status_code == 200
        refused = await admin.post("/api/v1/signup/company", json=COMPANY)
        assert (refused.status_code, refused.json()["error"]["code"]) == (401, "no_signup")
        # Signing in as staff on the operator's browser ends the sign-up there.
        assert (await sign_in(operator, OWNER, NEW["password"])).status_code == 202
        assert (await sign_in(operator, *ADMIN)).status_code == 200
        late = await operator.post("/api/v1/signup/company", json=COMPANY)
        assert late.status_code == 401
    async with db.sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(OperatorSignup)) == 1
