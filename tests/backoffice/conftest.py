"""Back-office tests: pages as a browser's htmx sends them (forms, with the CSRF header), an app
of the test database with settings of the test's own, and helpers to read mail and the audit log."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from starlette.applications import Starlette

from customers.models import OutboxMail
from domain.models import AuditEntry
from tests.api.test_bad_input import login
from tests.conftest import Database
from tests.conftest import test_settings as settings_for

ADMIN = ("admin@cafe-de-la-gare.fr", "admin-demo")
CASHIER = ("caisse@cafe-de-la-gare.fr", "caisse-demo")


async def sign_in(client: httpx.AsyncClient, who: tuple[str, str]) -> None:
    csrf = await login(client, *who)
    client.headers.update({"x-csrf-token": csrf, "hx-request": "true"})


async def post_form(client: httpx.AsyncClient, url: str, data: dict[str, Any]) -> httpx.Response:
    return await client.post(url, data=data)


async def audit_actions(db: Database) -> list[tuple[str, str]]:
    async with db.sessionmaker() as session:
        rows = (await session.execute(
            select(AuditEntry.action, AuditEntry.target).order_by(AuditEntry.id))).all()
    return [(a, t) for a, t in rows]


AppFactory = Callable[..., AbstractAsyncContextManager[Starlette]]


@pytest.fixture
def make_app(db: Database) -> AppFactory:
    @asynccontextmanager
    async def started(**overrides: Any) -> AsyncIterator[Starlette]:
        from app import create_app

        application = create_app(settings_for(db.url, **overrides))
        async with application.router.lifespan_context(application):
            yield application

    return started


async def mails_to(db: Database, to: str) -> list[OutboxMail]:
    async with db.sessionmaker() as session:
        return list((await session.scalars(
            select(OutboxMail).where(OutboxMail.to == to).order_by(OutboxMail.id))).all())


def path_in(body: str, kind: str) -> str:
    """The path of the mailed link of `kind` (signup/confirm, password/reset)."""
    found = re.search(rf"http://127\.0\.0\.1:8000(/{kind}/[\w-]+)", body)
    assert found is not None, body
    return found.group(1)
