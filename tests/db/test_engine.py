"""Pooled PostgreSQL connections: a dead one is replaced before a request uses it."""

from __future__ import annotations

import asyncpg
import pytest
from sqlalchemy import text

from db.engine import make_engine
from tests.conftest import PG_URL, unavailable


async def _backend_pid(engine) -> int:  # type: ignore[no-untyped-def]
    async with engine.connect() as conn:
        return int((await conn.execute(text("SELECT pg_backend_pid()"))).scalar_one())


async def _terminate(pid: int) -> None:
    admin = await asyncpg.connect(PG_URL.replace("postgresql+asyncpg", "postgresql"))
    try:
        assert await admin.fetchval("SELECT pg_terminate_backend($1)", pid)
    finally:
        await admin.close()


@pytest.fixture
async def reachable() -> None:
    try:
        conn = await asyncpg.connect(PG_URL.replace("postgresql+asyncpg", "postgresql"))
    except OSError:
        unavailable("PostgreSQL")
    else:
        await conn.close()


async def test_a_connection_killed_while_idle_is_replaced_before_use(reachable: None) -> None:
    engine = make_engine(PG_URL, pool_size=1, max_overflow=0, idle_before_ping_s=0.0)
    try:
        first = await _backend_pid(engine)
        await _terminate(first)  # the database restarted, a proxy dropped it…
        second = await _backend_pid(engine)  # no error reaches the caller
        assert second != first
    finally:
        await engine.dispose()


async def test_a_connection_in_steady_use_is_not_pinged(reachable: None) -> None:
    """Within the idle window the pooled connection is used as is: no extra round trip,
    so a connection killed meanwhile surfaces as an error on that one use."""
    engine = make_engine(PG_URL, pool_size=1, max_overflow=0, idle_before_ping_s=3600.0)
    try:
        first = await _backend_pid(engine)
        await _terminate(first)
        with pytest.raises(Exception):  # noqa: B017 - the driver's error, whichever it is
            await _backend_pid(engine)
        assert await _backend_pid(engine) != first  # the pool replaced it afterwards
    finally:
        await engine.dispose()
