"""What the running app holds, and what a request can ask of it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import cached_property
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from starlette.requests import HTTPConnection

from realtime.bus import Bus
from realtime.events import Tx, run
from realtime.hub import Hub
from settings import Settings
from web.i18n import pick_locale
from web.security import device_id, device_key
from web.session_store import Lifetimes

T = TypeVar("T")


@dataclass
class AppState:
    settings: Settings
    engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]
    bus: Bus
    hub: Hub

    @cached_property
    def session_lifetimes(self) -> Lifetimes:
        s = self.settings
        return Lifetimes(s.staff_session_idle_s, s.consumer_session_idle_s,
                         s.browser_session_idle_s)


def app_state(conn: HTTPConnection) -> AppState:
    state: AppState = conn.app.state.comptoir
    return state


def locale_of(conn: HTTPConnection) -> str:
    return pick_locale(conn.cookies.get("lang"), conn.headers.get("accept-language"))


def device_of(conn: HTTPConnection) -> str:
    return device_key(app_state(conn).settings.secret_key, device_id(conn))


async def run_tx(conn: HTTPConnection, op: Callable[[Tx], Awaitable[T]]) -> T:
    """Run a change for this request through the one transaction runner."""
    state = app_state(conn)
    return await run(state.sessionmaker, state.bus, op)
