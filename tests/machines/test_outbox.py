"""The mail outbox is for the company's administrators, while no mail server is set; a
confirmation link confirms an address and signs nobody in."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import httpx
import pytest
import pytest_asyncio
from sqlalchemy import select
from starlette.applications import Starlette

from customers.mail import log_pending
from customers.models import OutboxMail
from demo.seed import DemoVenue
from tests.conftest import Database, client_for
from tests.conftest import test_settings as settings_for
from tests.machines.conftest import mailed_link


async def _staff(client: httpx.AsyncClient, venue: DemoVenue, role: str) -> None:
    email, password = next((e, p) for e, p, r in venue.staff if r == role)
    signed = await client.post("/api/v1/staff/login", json={"email": email, "password": password})
    assert signed.status_code == 200, signed.text


async def _sign_up(client: httpx.AsyncClient, venue: DemoVenue, email: str) -> None:
    asked = await client.post("/api/v1/consumers/signup", json={
        "machine": venue.machines[1].token, "email": email, "name": "Nina",
        "password": "long enough"})
    assert asked.status_code == 202, asked.text


async def test_only_administrators_read_the_outbox(app: Starlette, venue: DemoVenue) -> None:
    async with client_for(app) as nina:
        await _sign_up(nina, venue, "nina@example.com")
        # Nobody but an administrator: not the person who signed up, nor any other staff.
        assert (await nina.get("/account/outbox")).status_code == 303
        for role in ("kitchen", "cashier", "supervisor"):
            async with client_for(app) as staff:
                await _staff(staff, venue, role)
                page = await staff.get("/account/outbox", headers={"Accept-Language": "fr"})
                assert page.status_code == 403, role
                assert "/account/confirm/" not in page.text
                assert "autorisé à effectuer cette action" in page.text
        async with client_for(app) as admin:
            await _staff(admin, venue, "admin")
            page = await admin.get("/account/outbox")
            assert page.status_code == 200 and "/account/confirm/" in page.text
            assert "nina@example.com" in page.text
            assert "<a " not in page.text.split('class="mail"', 1)[1]  # plain text, no links


@pytest_asyncio.fixture
async def smtp_app(db: Database, venue: DemoVenue) -> AsyncIterator[Starlette]:
    """A mail server is configured (nothing listens: the mail waits, unsent)."""
    from app import create_app

    application = create_app(settings_for(db.url, smtp_url="smtp://127.0.0.1:9?starttls=off"))
    async with application.router.lifespan_context(application):
        yield application


async def test_with_a_mail_server_nobody_reads_the_outbox(
    smtp_app: Starlette, venue: DemoVenue
) -> None:
    async with client_for(smtp_app) as nina, client_for(smtp_app) as admin:
        await _sign_up(nina, venue, "nina@example.com")
        await _staff(admin, venue, "admin")
        assert (await admin.get("/account/outbox")).status_code == 404


async def test_a_confirmation_link_confirms_and_signs_nobody_in(
    app: Starlette, venue: DemoVenue, db: Database
) -> None:
    async with client_for(app) as nina, client_for(app) as kitchen:
        await _sign_up(nina, venue, "nina@example.com")
        await _staff(kitchen, venue, "kitchen")
        link = await mailed_link(db, "nina@example.com")
        confirmed = await kitchen.get(link, headers={"Accept-Language": "fr"})
        assert confirmed.status_code == 200
        assert "Votre adresse e-mail est confirmée" in confirmed.text
        assert "/login" in confirmed.text  # the way to sign in, with the password
        for browser in (kitchen, nina):
            assert (await browser.get("/api/v1/consumers/me")).status_code == 401
            assert "Nina" not in (await browser.get("/account")).text


async def test_without_a_mail_server_each_mail_is_written_to_the_log_once(
    app: Starlette, venue: DemoVenue, db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    async with client_for(app) as nina:
        await _sign_up(nina, venue, "nina@example.com")
    link = await mailed_link(db, "nina@example.com")
    with caplog.at_level(logging.WARNING, logger="customers.mail"):
        assert await log_pending(db.sessionmaker, datetime.now(UTC)) == 1
        assert await log_pending(db.sessionmaker, datetime.now(UTC)) == 0  # once
    [record] = [r for r in caplog.records if r.name == "customers.mail"]
    assert "nina@example.com" in record.getMessage() and link in record.getMessage()
    async with db.sessionmaker() as session:
        mail = await session.scalar(select(OutboxMail).where(OutboxMail.to == "nina@example.com"))
        assert mail is not None and mail.sent_at is not None
