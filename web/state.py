"""What the running app holds, and what a request can ask of it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from starlette.requests import HTTPConnection

from accounts.service import StaffIdentity, identity
from machines.scanned_machines import scanned_machines
from ordering.config import OrderingConfig
from ordering.scanned_tables import scanned_tables
from realtime.bus import Bus
from realtime.events import Tx, run, transaction
from realtime.hub import Hub
from realtime.topics import Viewer
from settings import Settings
from web.i18n import pick_locale
from web.security import device_key

T = TypeVar("T")


@dataclass
class AppState:
    settings: Settings
    engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]
    bus: Bus
    hub: Hub
    config: OrderingConfig


def app_state(conn: HTTPConnection) -> AppState:
    state: AppState = conn.app.state.comptoir
    return state


def locale_of(conn: HTTPConnection) -> str:
    return pick_locale(conn.cookies.get("lang"), conn.headers.get("accept-language"))


def device_of(conn: HTTPConnection) -> str:
    return device_key(app_state(conn).settings.secret_key, conn.session["device"])


@asynccontextmanager
async def tx_for(conn: HTTPConnection) -> AsyncIterator[Tx]:
    state = app_state(conn)
    async with transaction(state.sessionmaker, state.bus) as tx:
        yield tx


async def staff_of(conn: HTTPConnection) -> StaffIdentity | None:
    staff_id = conn.session.get("staff_id")
    if staff_id is None:
        return None
    async with app_state(conn).sessionmaker() as session:
        return await identity(session, staff_id)


def consumer_id_of(conn: HTTPConnection) -> int | None:
    """The coffee-machine consumer signed in on this browser, if any (machines/)."""
    value = conn.session.get("consumer_id")
    return value if isinstance(value, int) else None


async def viewer_of(conn: HTTPConnection) -> Viewer:
    staff = await staff_of(conn)
    return Viewer(
        device_key=device_of(conn),
        staff_id=staff.id if staff else None,
        company_id=staff.company_id if staff else None,
        role=staff.role if staff else None,
        locale=locale_of(conn),
        consumer_id=consumer_id_of(conn),
        scanned_tables=scanned_tables(conn),
        scanned_machines=scanned_machines(conn),
    )


async def run_tx(conn: HTTPConnection, op: Callable[[Tx], Awaitable[T]]) -> T:
    """Run a change for this request through the one transaction runner."""
    state = app_state(conn)
    return await run(state.sessionmaker, state.bus, op)
