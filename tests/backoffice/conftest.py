"""Back-office tests: pages as a browser's htmx sends them (forms, with the CSRF header), an app
of the test database with settings of the test's own, and helpers to read mail and the audit log."""

from __future__ import annotations

import io
import re
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
from openpyxl import Workbook
from sqlalchemy import select
from starlette.applications import Starlette

from customers.models import OutboxMail
from demo.seed import DemoVenue
from domain.models import AuditEntry
from tests.api.test_bad_input import login
from tests.conftest import Database, client_for, test_settings
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


HEADER = "reference,category,name,description,price,vat_rate,allergens,station,available"


@pytest_asyncio.fixture
async def media_app(
    db: Database, venue: DemoVenue, tmp_path: Path
) -> AsyncIterator[Starlette]:
    """The app with its uploads in a folder of the test's own."""
    from app import create_app

    application = create_app(test_settings(db.url, media_dir=str(tmp_path / "media")))
    async with application.router.lifespan_context(application):
        yield application


class Admin:
    def __init__(self, app: Starlette, client: httpx.AsyncClient, csrf: str, site_id: int) -> None:
        self.app = app
        self.http = client
        self.csrf = csrf
        self.site = site_id

    async def post(self, url: str, data: dict[str, object] | None = None,
                   files: dict[str, tuple[str, bytes, str]] | None = None) -> httpx.Response:
        return await self.http.post(url, data=data, files=files,
                                    headers={"x-csrf-token": self.csrf, "hx-request": "true"})

    async def send(self, step: str, name: str, content: bytes) -> httpx.Response:
        """`step`: preview or apply."""
        kind = "text/csv" if name.endswith(".csv") else "application/octet-stream"
        return await self.post(f"/backoffice/menu/{self.site}/import/{step}",
                               files={"file": (name, content, kind)})


@pytest_asyncio.fixture
async def admin(media_app: Starlette, venue: DemoVenue) -> AsyncIterator[Admin]:
    async with client_for(media_app) as client:
        csrf = await login(client, *ADMIN)
        yield Admin(media_app, client, csrf, venue.site_id)


def csv_file(*rows: str, header: str = HEADER) -> bytes:
    return ("\n".join((header, *rows)) + "\n").encode()


def xlsx_file(rows: list[list[object]], header: str = HEADER) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(header.split(","))
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
