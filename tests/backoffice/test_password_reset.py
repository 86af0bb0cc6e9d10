"""A forgotten password, for staff and consumers alike: a mailed link, used once, that
expires; asking never says whether the address has an account; asking is limited per
address and per client; the old password stops working. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy import func, select, update
from starlette.applications import Starlette

from accounts.models import Staff
from customers.models import OutboxMail, PasswordReset
from demo.seed import DemoVenue
from tests.api.test_bad_input import ADMIN, CASHIER
from tests.backoffice.conftest import AppFactory, mails_to, path_in
from tests.conftest import Database, client_for

NEW_PASSWORD = "a brand new password"
HTMX = {"hx-request": "true", "Accept-Language": "en"}


async def ask(client: httpx.AsyncClient, email: str) -> httpx.Response:
    return await client.post("/api/v1/password/forgot", json={"email": email}, headers=HTMX)


async def choose(client: httpx.AsyncClient, link: str, password: str = NEW_PASSWORD
                 ) -> httpx.Response:
    token = link.rsplit("/", 1)[1]
    return await client.post("/api/v1/password/reset", json={"token": token,
                                                             "password": password})


async def staff_sign_in(client: httpx.AsyncClient, email: str, password: str) -> int:
    return (await client.post("/api/v1/staff/login",
                              json={"email": email, "password": password})).status_code


async def test_staff_choose_a_new_password_by_the_mailed_link_once(
    db: Database, venue: DemoVenue, client: httpx.AsyncClient
) -> None:
    email, old = CASHIER
    asked = await ask(client, email.upper())
    assert asked.status_code == 202 and asked.headers["HX-Redirect"] == "/password/forgot?sent=1"
    [mail] = await mails_to(db, email)
    assert mail.subject == "Choose a new password" and "60 minutes" in mail.body
    link = path_in(mail.body, "password/reset")
    async with db.sessionmaker() as session:  # only the token's digest is kept
        reset = await session.scalar(select(PasswordReset))
        assert reset is not None
        assert reset.token_hash == hashlib.sha256(link.rsplit("/", 1)[1].encode()).hexdigest()

    form = await client.get(link)
    assert form.status_code == 200 and 'name="password"' in form.text
    assert (await client.get(link)).status_code == 200  # opening the page spends nothing
    chosen = await choose(client, link)
    assert chosen.status_code == 200 and chosen.json()["redirect"] == "/staff/login?reset=1"

    assert await staff_sign_in(client, email, old) == 401
    assert await staff_sign_in(client, email, NEW_PASSWORD) == 200
    async with db.sessionmaker() as session:
        staff = await session.scalar(select(Staff).where(Staff.email == email))
        assert staff is not None and staff.password_hash.startswith("scrypt$")
    # Once only.
    assert (await client.get(link)).status_code == 404
    again = await choose(client, link, "yet another password")
    assert (again.status_code, again.json()["error"]["code"]) == (404, "unknown_token")
    assert await staff_sign_in(client, email, NEW_PASSWORD) == 200


async def test_consumers_reset_from_their_machines_page_and_sign_in_there(
    db: Database, venue: DemoVenue, app: Starlette, client: httpx.AsyncClient
) -> None:
    token = venue.machines[1].token
    email, old = venue.consumers[0]
    page = await client.get(f"/m/{token}/forgot")
    assert page.status_code == 200 and "/api/v1/consumers/password/forgot" in page.text
    asked = await client.post("/api/v1/consumers/password/forgot",
                              json={"machine": token, "email": email}, headers=HTMX)
    assert asked.status_code == 202
    [mail] = await mails_to(db, email)
    chosen = await choose(client, path_in(mail.body, "password/reset"))
    assert chosen.json()["redirect"] == f"/m/{token}/login?reset=1"

    async def consumer_sign_in(password: str) -> int:
        return (await client.post("/api/v1/consumers/login", json={
            "machine": token, "email": email, "password": password})).status_code

    assert await consumer_sign_in(old) == 401
    assert await consumer_sign_in(NEW_PASSWORD) == 200
    # Not on the administrators' outbox page: the link would let them take the account.
    async with client_for(app) as admin:
        await staff_sign_in(admin, *ADMIN)
        outbox = await admin.get("/account/outbox")
        assert outbox.status_code == 200 and "/password/reset/" not in outbox.text
    # A machine that does not exist names no company: nothing is asked.
    unknown = await client.post("/api/v1/consumers/password/forgot",
                                json={"machine": "nope", "email": email})
    assert unknown.status_code == 404


async def test_an_unknown_address_gets_the_same_answer_and_no_mail(
    db: Database, venue: DemoVenue, client: httpx.AsyncClient
) -> None:
    known = await ask(client, ADMIN[0])
    unknown = await ask(client, "nobody@example.com")
    assert (known.status_code, known.json()) == (unknown.status_code, unknown.json())
    assert known.headers["HX-Redirect"] == unknown.headers["HX-Redirect"]
    assert await mails_to(db, "nobody@example.com") == []
    # Nor does a consumer's address open a staff reset, or the other way round.
    consumer = venue.consumers[0][0]
    assert (await ask(client, consumer)).status_code == 202
    assert await mails_to(db, consumer) == []
    token = venue.machines[1].token
    staff_address = await client.post("/api/v1/consumers/password/forgot",
                                      json={"machine": token, "email": CASHIER[0]})
    assert staff_address.status_code == 202
    assert await mails_to(db, CASHIER[0]) == []


async def test_a_link_expires(db: Database, venue: DemoVenue, client: httpx.AsyncClient) -> None:
    await ask(client, CASHIER[0])
    [mail] = await mails_to(db, CASHIER[0])
    link = path_in(mail.body, "password/reset")
    async with db.sessionmaker() as session, session.begin():
        await session.execute(update(PasswordReset).values(
            expires_at=datetime.now(UTC) - timedelta(seconds=1)))
    assert (await client.get(link)).status_code == 404
    late = await choose(client, link)
    assert (late.status_code, late.json()["error"]["code"]) == (404, "unknown_token")
    assert await staff_sign_in(client, *CASHIER) == 200


async def test_the_expiry_is_configurable(
    db: Database, venue: DemoVenue, make_app: AppFactory
) -> None:
    async with make_app(reset_link_ttl_s=600) as app, client_for(app) as client:
        started = datetime.now(UTC)
        await ask(client, CASHIER[0])
    [mail] = await mails_to(db, CASHIER[0])
    assert "10 minutes" in mail.body
    async with db.sessionmaker() as session:
        reset = await session.scalar(select(PasswordReset))
        assert reset is not None
        assert timedelta(seconds=590) < reset.expires_at - started < timedelta(seconds=610)


async def test_a_new_password_spends_the_accounts_other_links(
    db: Database, venue: DemoVenue, client: httpx.AsyncClient
) -> None:
    await ask(client, CASHIER[0])
    await ask(client, CASHIER[0])
    first, second = [path_in(m.body, "password/reset") for m in await mails_to(db, CASHIER[0])]
    assert (await choose(client, second)).status_code == 200
    assert (await choose(client, first, "the strangers password")).status_code == 404
    assert await staff_sign_in(client, CASHIER[0], NEW_PASSWORD) == 200


async def test_bad_input_names_its_field_and_changes_nothing(
    db: Database, venue: DemoVenue, client: httpx.AsyncClient
) -> None:
    for body in ({"email": "no at sign"}, {"email": None}, {}):
        refused = await client.post("/api/v1/password/forgot", json=body)
        assert refused.status_code == 422, refused.text
        assert (refused.json()["error"]["code"], refused.json()["error"]["field"]) == (
            "bad_email", "email")
    await ask(client, CASHIER[0])
    [mail] = await mails_to(db, CASHIER[0])
    link = path_in(mail.body, "password/reset")
    for password in ("short", "x" * 201, 12345678):
        refused = await choose(client, link, password)  # type: ignore[arg-type]
        assert refused.status_code == 422
        assert (refused.json()["error"]["code"], refused.json()["error"]["field"]) == (
            "bad_password", "password")
    for token in ("", "x" * 65, "not-a-token-we-made-at-all"):
        wrong = await client.post("/api/v1/password/reset",
                                  json={"token": token, "password": NEW_PASSWORD})
        assert wrong.status_code in (404, 422), wrong.text
    # The link still works: nothing above spent it.
    assert await staff_sign_in(client, *CASHIER) == 200
    assert (await choose(client, link)).status_code == 200
    async with db.sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(OutboxMail)) == 1


async def test_asking_is_limited_per_address_and_per_client(
    db: Database, venue: DemoVenue, make_app: AppFactory
) -> None:
    async with make_app(mail_requests_per_address=2, mail_requests_per_client=3) as app, \
            client_for(app) as client:
        assert [(await ask(client, CASHIER[0])).status_code for _ in range(3)] == [
            202, 202, 429]
        # An unknown address is limited exactly alike: the limit tells nothing either.
        assert [(await ask(client, "nobody@example.com")).status_code for _ in range(2)] == [
            202, 429]
        limited = await ask(client, ADMIN[0])
        assert limited.status_code == 429
        assert limited.json()["error"]["code"] == "too_many_requests"
        assert int(limited.headers["Retry-After"]) > 0
    assert len(await mails_to(db, CASHIER[0])) == 2
    assert await mails_to(db, ADMIN[0]) == []
