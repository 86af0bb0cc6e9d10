"""Back-office pages, as a browser's htmx sends them: forms, with the CSRF header."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import select

from domain.models import AuditEntry
from tests.api.test_bad_input import login
from tests.conftest import Database

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
