"""The menu's back office, in process: an admin signed in, files to send."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest_asyncio
from openpyxl import Workbook
from starlette.applications import Starlette

from demo.seed import DemoVenue
from tests.api.test_bad_input import login
from tests.conftest import Database, client_for, test_settings

ADMIN = ("admin@cafe-de-la-gare.fr", "admin-demo")
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
