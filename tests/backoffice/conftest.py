"""An app of the test database with settings of the test's own, and helpers to read mail."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

import pytest
from sqlalchemy import select
from starlette.applications import Starlette

from customers.models import OutboxMail
from tests.conftest import Database
from tests.conftest import test_settings as settings_for

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
