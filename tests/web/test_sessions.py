"""Sessions live on the server: the cookie is an opaque random id, signing out or being
deactivated ends a session everywhere, staff sessions end after a working day idle,
and signing in renews the id and the CSRF token. On SQLite and PostgreSQL."""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import pytest_asyncio
from sqlalchemy import func, select, update
from starlette.applications import Starlette

from accounts import service as staff_service
from accounts.models import Staff
from demo.seed import DemoVenue
from realtime.events import run
from realtime.models import TopicVersion
from tests.api.test_bad_input import CASHIER, expect, login
from tests.conftest import Database, client_for
from tests.conftest import test_settings as settings_for
from web import session_store
from web.models import BrowserSession
from web.state import AppState

ME = "/api/v1/staff/me"
CONSUMER_ME = "/api/v1/consumers/me"


def csrf_on_page(html: str) -> str:
    found = re.search(r'"X-CSRF-Token": "([^"]+)"', html)
    assert found, "no CSRF token on the page"
    return found.group(1)


def stranger(app: Starlette, cookie: str) -> httpx.AsyncClient:
    """Another browser, from another address, holding a copy of `cookie`."""
    transport = httpx.ASGITransport(app=app, client=("203.0.113.9", 51000))
    return httpx.AsyncClient(transport=transport, base_url="http://testserver",
                             cookies={"comptoir": cookie}, headers={"user-agent": "Other/1.0"})


async def consumer_login(client: httpx.AsyncClient, venue: DemoVenue) -> None:
    email, password = venue.consumers[0]
    signed = await client.post("/api/v1/consumers/login", json={
        "machine": venue.machines[0].token, "email": email, "password": password})
    assert signed.status_code == 200, signed.text


async def test_an_old_cookie_is_refused_after_signing_out_from_any_client(
    app: Starlette,
) -> None:
    async with client_for(app) as pos:
        await login(pos, *CASHIER)
        old = pos.cookies["comptoir"]
        assert (await pos.get(ME)).status_code == 200
        signed_out = await pos.post("/api/v1/staff/logout", json={})
        assert signed_out.status_code == 200, signed_out.text
        expect(await pos.get(ME), 401, "not_signed_in")
        assert pos.cookies["comptoir"] != old  # the browser goes on with a new id
    async with stranger(app, old) as thief:
        expect(await thief.get(ME), 401, "not_signed_in")


async def test_a_consumers_old_cookie_is_refused_after_signing_out(
    app: Starlette, venue: DemoVenue
) -> None:
    async with client_for(app) as phone:
        await consumer_login(phone, venue)
        old = phone.cookies["comptoir"]
        assert (await phone.get(CONSUMER_ME)).status_code == 200
        assert (await phone.post("/api/v1/consumers/logout", json={})).status_code == 200
        expect(await phone.get(CONSUMER_ME), 401, "sign_in_required")
    async with stranger(app, old) as thief:
        expect(await thief.get(CONSUMER_ME), 401, "sign_in_required")


def _decoded(value: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    except (binascii.Error, ValueError):
        return b""


async def test_the_cookie_holds_only_an_opaque_random_id(
    app: Starlette, venue: DemoVenue
) -> None:
    async with client_for(app) as phone:
        token = venue.table_tokens[0][1]
        started = await phone.post(f"/api/v1/tables/{token}/start", json={"name": "Léa"})
        assert started.status_code == 201, started.text
        await consumer_login(phone, venue)
        csrf = await login(phone, *CASHIER)
        staff_id = (await phone.get(ME)).json()["staff"]["id"]
        value = phone.cookies["comptoir"]
        # 32 random bytes from `secrets`, URL-safe base64: nothing else, no signature.
        assert re.fullmatch(r"[A-Za-z0-9_-]{43}", value), value
        decoded = _decoded(value)
        for secret in (csrf, "csrf", "device", "staff", "consumer", "tables", f":{staff_id}"):
            assert secret not in value
            assert secret.encode() not in decoded
        # Two browsers never share an id.
        async with client_for(app) as other:
            await login(other, *CASHIER)
            assert other.cookies["comptoir"] != value


async def test_the_cookie_is_httponly_samesite_lax_and_secure_over_https(
    db: Database, venue: DemoVenue
) -> None:
    from app import create_app

    for secure in (False, True):
        application = create_app(settings_for(db.url, secure_cookies=secure))
        async with application.router.lifespan_context(application):
            async with client_for(application) as pos:
                signed = await pos.post("/api/v1/staff/login", json={
                    "email": CASHIER[0], "password": CASHIER[1]})
                assert signed.status_code == 200, signed.text
        header = signed.headers["set-cookie"].lower()
        parts = [part.strip() for part in header.split(";")]
        assert parts[0].startswith("comptoir=")
        assert {"httponly", "samesite=lax", "path=/"} <= set(parts), header
        assert ("secure" in parts) is secure, header


async def test_signing_in_renews_the_id_and_the_csrf_token_and_keeps_the_device(
    app: Starlette, venue: DemoVenue
) -> None:
    token = venue.table_tokens[0][1]
    async with client_for(app) as lea, client_for(app) as tom:
        pin = (await lea.post(f"/api/v1/tables/{token}/start", json={"name": "Léa"})).json()["pin"]
        joined = await tom.post(f"/api/v1/tables/{token}/join", json={"name": "Tom", "pin": pin})
        assert joined.status_code == 200, joined.text
        before = tom.cookies["comptoir"]
        csrf_before = csrf_on_page((await tom.get("/staff/login")).text)

        csrf_after = await login(tom, *CASHIER)
        after = tom.cookies["comptoir"]
        assert after != before
        assert csrf_after != csrf_before
        assert csrf_on_page((await tom.get("/staff/login")).text) == csrf_after
        # Whoever planted or copied the id from before (fixation) holds nothing now.
        async with stranger(app, before) as planted:
            expect(await planted.get(ME), 401, "not_signed_in")
        # The same phone all along: still a member of its table (its device stayed).
        assert (await tom.get(f"/api/v1/tables/{token}")).json()["access"] == "member"

        # Signing out renews them again; the table still knows the phone.
        assert (await tom.post("/api/v1/staff/logout", json={})).status_code == 200
        assert tom.cookies["comptoir"] not in (before, after)
        assert (await tom.get(f"/api/v1/tables/{token}")).json()["access"] == "member"


async def test_a_form_with_the_csrf_token_of_before_signing_in_is_refused(
    app: Starlette,
) -> None:
    async with client_for(app) as pos:
        old_csrf = csrf_on_page((await pos.get("/staff/login")).text)
        await login(pos, *CASHIER)
        refused = await pos.post("/api/v1/staff/logout", headers={"X-CSRF-Token": old_csrf})
        expect(refused, 403, "csrf")
        assert (await pos.get(ME)).status_code == 200


async def test_deactivating_a_staff_member_ends_all_their_sessions(
    app: Starlette, db: Database
) -> None:
    async with client_for(app) as pos, client_for(app) as tablet:
        await login(pos, *CASHIER)
        await login(tablet, *CASHIER)
        staff_id = (await pos.get(ME)).json()["staff"]["id"]
        state: AppState = app.state.comptoir
        deactivated = await run(state.sessionmaker, state.bus,
                                lambda tx: staff_service.deactivate(tx, CASHIER[0]))
        assert deactivated == staff_id
        for client in (pos, tablet):
            expect(await client.get(ME), 401, "not_signed_in")
        # Back at work later: the sessions from before stay ended; a new sign-in works.
        async with db.sessionmaker() as session, session.begin():
            await session.execute(update(Staff).where(Staff.id == staff_id).values(active=True))
        for client in (pos, tablet):
            expect(await client.get(ME), 401, "not_signed_in")
        await login(pos, *CASHIER)
        assert (await pos.get(ME)).status_code == 200


@dataclass
class Clock:
    now: datetime

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest_asyncio.fixture
async def clock(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Clock]:
    moved = Clock(datetime.now(UTC))
    monkeypatch.setattr(session_store, "now", moved)
    yield moved


async def test_staff_sessions_end_after_a_working_day_idle_consumers_much_later(
    app: Starlette, venue: DemoVenue, clock: Clock
) -> None:
    async with client_for(app) as pos, client_for(app) as phone:
        await login(pos, *CASHIER)
        await consumer_login(phone, venue)
        clock.advance(hours=11, minutes=50)
        assert (await pos.get(ME)).status_code == 200  # used: a working day from now on
        clock.advance(hours=11, minutes=50)
        assert (await pos.get(ME)).status_code == 200
        clock.advance(hours=12, minutes=10)  # a night without a request
        expect(await pos.get(ME), 401, "not_signed_in")
        assert (await phone.get(CONSUMER_ME)).status_code == 200  # 35 hours idle: fine
        clock.advance(days=30, minutes=1)
        expect(await phone.get(CONSUMER_ME), 401, "sign_in_required")


async def test_the_idle_time_of_staff_is_a_setting(db: Database, venue: DemoVenue,
                                                    clock: Clock) -> None:
    from app import create_app

    application = create_app(settings_for(db.url, staff_session_idle_s=3600))
    async with application.router.lifespan_context(application), client_for(application) as pos:
        await login(pos, *CASHIER)
        clock.advance(minutes=59)
        assert (await pos.get(ME)).status_code == 200
        clock.advance(minutes=61)
        expect(await pos.get(ME), 401, "not_signed_in")


async def test_ended_and_expired_sessions_are_swept(
    app: Starlette, db: Database, clock: Clock
) -> None:
    async def count(model: type[Any], *where: Any) -> int:
        async with db.sessionmaker() as session:
            found = await session.scalar(select(func.count()).select_from(model).where(*where))
        return int(found or 0)

    ended = TopicVersion.topic.startswith("session:")
    async with client_for(app) as pos, client_for(app) as passer_by, client_for(app) as kept:
        await login(pos, *CASHIER)
        await pos.post("/api/v1/staff/logout", json={})  # ends one, begins another
        await passer_by.get("/staff/login")  # a page, and never back
        assert await count(BrowserSession) == 3
        assert await count(TopicVersion, ended) == 1  # what told the sockets
        clock.advance(days=2)
        await login(kept, *CASHIER)
        assert await session_store.forget_expired(db.sessionmaker) == 2
        assert await count(BrowserSession) == 2  # the ended and the passer-by's are gone
        assert await count(TopicVersion, ended) == 0
        assert (await kept.get(ME)).status_code == 200
        expect(await pos.get(ME), 401, "not_signed_in")  # its new session lives on, unsigned
        assert pos.cookies["comptoir"]


async def test_a_request_that_needs_no_session_stores_none(app: Starlette, db: Database) -> None:
    """Health probes, scrapers and API clients without a cookie jar cost no session row."""
    async with client_for(app) as probe:
        for path in ("/healthz", "/api/v1/openapi.json", "/static/app.css"):
            response = await probe.get(path)
            assert response.status_code == 200, path
            assert "set-cookie" not in response.headers, path
    async with db.sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(BrowserSession)) == 0


async def test_a_tills_background_calls_never_set_the_cookie(app: Starlette) -> None:
    """A till's page syncs every few seconds: a call sent with the id of before a sign-in
    (or a switch of user) that answers after it must not put the old id back, nor clear
    the new one."""
    async with client_for(app) as pos:
        await pos.get("/staff/login")
        old = pos.cookies["comptoir"]
        await login(pos, *CASHIER)
        assert pos.cookies["comptoir"] != old
    async with stranger(app, old) as late:  # the old id, now ended
        for path in ("/till-sw.js", "/till.webmanifest", "/api/v1/till/catalog"):
            response = await late.get(path)
            assert "set-cookie" not in response.headers, path
        response = await late.post("/api/v1/till/sync", json={"sales": []})
        assert "set-cookie" not in response.headers
        # The till's pages, fetched ahead for when the network is gone, say so.
        for path in ("/till", "/till/sell", "/staff/login", ME):
            response = await late.get(path, headers={"X-Comptoir-Background": "1"})
            assert "set-cookie" not in response.headers, path
        # Any other call answers with a cookie (a fresh id for a dead one).
        assert "set-cookie" in (await late.get(ME)).headers
