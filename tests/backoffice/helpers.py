"""Signing staff in and posting the back office's forms as its pages do (htmx, CSRF)."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import select

from domain.models import AuditEntry
from tests.api.test_bad_input import login
from tests.conftest import Database

ADMIN = ("admin@cafe-de-la-gare.fr", "admin-demo")
CASHIER = ("caisse@cafe-de-la-gare.fr", "caisse-demo")


class Staffer:
    """A signed-in browser of the back office."""

    def __init__(self, client: httpx.AsyncClient, csrf: str) -> None:
        self.client = client
        self.csrf = csrf

    async def post(self, url: str, data: dict[str, Any]) -> httpx.Response:
        return await self.client.post(
            url, data=data, headers={"x-csrf-token": self.csrf, "hx-request": "true"}
        )

    async def get(self, url: str) -> httpx.Response:
        return await self.client.get(url)


async def signed_in(client: httpx.AsyncClient, who: tuple[str, str]) -> Staffer:
    return Staffer(client, await login(client, *who))


async def audit_entries(db: Database, action: str | None = None) -> list[AuditEntry]:
    async with db.sessionmaker() as session:
        query = select(AuditEntry).order_by(AuditEntry.id)
        if action:
            query = query.where(AuditEntry.action == action)
        return list((await session.scalars(query)).all())
