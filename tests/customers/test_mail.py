"""Sign-up mail through a real SMTP server (aiosmtpd on 127.0.0.1): it arrives, in the
language the person signed up in, with a link that confirms; a server that is down loses
nothing and fails no sign-up."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import pytest
import pytest_asyncio
from aiosmtpd.controller import Controller
from sqlalchemy import select
from starlette.applications import Starlette

from customers.mail import send_pending
from customers.models import OutboxMail
from demo.seed import DemoVenue
from tests.conftest import Database, client_for, free_port
from tests.conftest import test_settings as settings_for

SENDER = "Café <cafe@example.com>"


class Inbox:
    def __init__(self) -> None:
        self.mails: list[tuple[list[str], EmailMessage]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(message, EmailMessage)
        self.mails.append((list(envelope.rcpt_tos), message))
        return "250 OK"


@pytest.fixture
def smtp_port() -> int:
    return free_port()


@pytest.fixture
def inbox(smtp_port: int) -> Iterator[Inbox]:
    handler = Inbox()
    controller = Controller(handler, hostname="127.0.0.1", port=smtp_port)
    controller.start()
    yield handler
    controller.stop()


@pytest_asyncio.fixture
async def mail_app(db: Database, venue: DemoVenue, smtp_port: int) -> AsyncIterator[Starlette]:
    from app import create_app

    application = create_app(settings_for(
        db.url, smtp_url=f"smtp://127.0.0.1:{smtp_port}?starttls=off", mail_from=SENDER,
        machine_sweep_s=0.1,
    ))
    async with application.router.lifespan_context(application):
        yield application


async def _arrived(inbox: Inbox, count: int) -> None:
    for _ in range(100):
        if len(inbox.mails) >= count:
            return
        await asyncio.sleep(0.05)
    raise AssertionError("no mail arrived")


async def test_the_confirmation_mail_arrives_in_the_signup_language(
    inbox: Inbox, mail_app: Starlette, venue: DemoVenue
) -> None:
    token = venue.machines[1].token
    async with client_for(mail_app) as amelie, client_for(mail_app) as sam:
        created = await amelie.post("/api/v1/consumers/signup", headers={
            "Accept-Language": "fr-FR,fr;q=0.9"}, json={
            "machine": token, "email": "amelie@example.com", "name": "Amélie",
            "password": "long enough"})
        assert created.status_code == 202
        await _arrived(inbox, 1)
        [(to, message)] = inbox.mails
        assert to == ["amelie@example.com"]
        assert message["Subject"] == "Confirmez votre adresse e-mail"
        assert message["From"] == SENDER
        body = message.get_content()
        assert "Bonjour Amélie" in body
        link = re.search(r"http://127\.0\.0\.1:8000(/account/confirm/[\w-]+)", body)
        assert link is not None, body
        # With a mail server, there is no outbox page: the link comes by mail only.
        assert (await amelie.get("/account/outbox")).status_code == 404
        assert (await amelie.get(link.group(1))).status_code == 200

        await sam.post("/api/v1/consumers/signup", headers={"Accept-Language": "en"}, json={
            "machine": token, "email": "sam@example.com", "name": "Sam",
            "password": "long enough"})
        await _arrived(inbox, 2)
        to, message = inbox.mails[1]
        assert (to, message["Subject"]) == (["sam@example.com"], "Confirm your email")
        assert "Hello Sam" in message.get_content()


async def test_a_mail_server_that_is_down_loses_nothing(
    db: Database, venue: DemoVenue, smtp_port: int
) -> None:
    from app import create_app

    # Nothing listens on the port yet; the app's sweeper is left out of it (a long period).
    application = create_app(settings_for(
        db.url, smtp_url=f"smtp://127.0.0.1:{smtp_port}?starttls=off", machine_sweep_s=3600,
    ))
    async with application.router.lifespan_context(application), \
            client_for(application) as nina:
        created = await nina.post("/api/v1/consumers/signup", json={
            "machine": venue.machines[1].token, "email": "nina@example.com", "name": "Nina",
            "password": "long enough"})
        assert created.status_code == 202  # the sign-up does not wait for the mail
    url = f"smtp://127.0.0.1:{smtp_port}?starttls=off"
    now = datetime.now(UTC)
    assert await send_pending(db.sessionmaker, url, SENDER, now) == 0
    async with db.sessionmaker() as session:
        mail = await session.scalar(select(OutboxMail).where(OutboxMail.to == "nina@example.com"))
        assert mail is not None and mail.sent_at is None and mail.attempts == 1
        assert mail.retry_at is not None and mail.retry_at > now
    # Not before its retry time, then delivered once the server is up.
    handler = Inbox()
    controller = Controller(handler, hostname="127.0.0.1", port=smtp_port)
    controller.start()
    try:
        assert await send_pending(db.sessionmaker, url, SENDER, now) == 0
        later = now + timedelta(minutes=5)
        assert await send_pending(db.sessionmaker, url, SENDER, later) == 1
        assert await send_pending(db.sessionmaker, url, SENDER, later) == 0  # sent once
    finally:
        controller.stop()
    assert [to for to, _ in handler.mails] == [["nina@example.com"]]
