"""The session of a request or a socket, kept on the server (web/session_store.py).

`request.session` is the dict it always was; the cookie `comptoir` (HttpOnly, SameSite=Lax,
Secure over https) holds only a random id. A request without a cookie costs no lookup, and
nothing is stored until something is put in its session (a device for a phone at a table,
a CSRF token for a page): health probes and API scripts leave no rows behind. A request with
one costs one lookup by primary key, and a write only when its session changed, or once a
minute to move its expiry forward.

Signing in and out renews the session (`renew`): a new id and a new CSRF token, the rest
kept (the device stays, with the tables it joined and the tries it used); the old id is
ended, and the sockets opened with it close on every process.
"""

from __future__ import annotations

from collections.abc import Awaitable
from datetime import datetime, timedelta
from typing import Any

from starlette.datastructures import MutableHeaders
from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from realtime.events import run
from web import session_store as store
from web.security import new_token
from web.state import AppState

COOKIE = "comptoir"
# A call a page makes on its own, not the user (a till fetching its pages ahead for when the
# network is gone) says so with this header: it reads the session and never writes it.
BACKGROUND = "x-comptoir-background"
# The identities a session may hold, each in a column of its own (the rooms that sign
# people in name them so: accounts/ for staff, customers/ for consumers).
STAFF_ID = "staff_id"
CONSUMER_ID = "consumer_id"


class Session(dict[str, Any]):
    """A request's session: its data, and what the middleware needs to store it."""

    __slots__ = ("key", "loaded", "expires_at", "renewing")

    def __init__(self, stored: store.Stored | None = None) -> None:
        super().__init__()
        self.key: str | None = None
        self.loaded = ""  # the data as read, to tell whether it changed
        self.expires_at: datetime | None = None
        self.renewing = False
        if stored is not None:
            self.fill(stored)
            self.loaded = self.encoded()

    def fill(self, stored: store.Stored) -> None:
        self.update(stored.data)
        if stored.staff_id is not None:
            self[STAFF_ID] = stored.staff_id
        if stored.consumer_id is not None:
            self[CONSUMER_ID] = stored.consumer_id
        self.key = stored.key
        self.expires_at = stored.expires_at

    def identity(self, name: str) -> int | None:
        value = self.get(name)
        return value if type(value) is int else None

    def data(self) -> dict[str, Any]:
        return {k: v for k, v in self.items() if k not in (STAFF_ID, CONSUMER_ID)}

    def encoded(self) -> str:
        return store.encode(dict(self))


def renew(conn: HTTPConnection) -> None:
    """A new id and a new CSRF token for this browser's session, the rest kept: at every
    sign-in and sign-out, so that an id known from before (planted, or copied) opens
    nothing afterwards."""
    session = conn.session
    assert isinstance(session, Session), "ServerSessions must be installed"
    session.renewing = True
    session["csrf"] = new_token()


def _state(scope: Scope) -> AppState:
    state: AppState = scope["app"].state.comptoir
    return state


def _background(scope: Scope) -> bool:
    return any(name == BACKGROUND.encode() for name, _ in scope["headers"])


def _cookie_of(conn: HTTPConnection) -> str | None:
    return conn.cookies.get(COOKIE) or None


async def load_for_socket(conn: HTTPConnection) -> str | None:
    """Read a socket's session when it connects (its handshake's cookie), counting the
    connection as a use; the key of its session, if it has one."""
    token = _cookie_of(conn)
    session = conn.session
    if token is None or not isinstance(session, Session):
        return None
    state = _state(conn.scope)
    at = store.now()
    stored = await store.load(state.sessionmaker, token, at)
    if stored is None:
        return None
    session.fill(stored)
    idle_s = state.session_lifetimes.idle_s(stored.staff_id, stored.consumer_id)
    expires_at = at + timedelta(seconds=idle_s)
    if stored.expires_at < expires_at - timedelta(seconds=store.TOUCH_S):
        await store.save(state.sessionmaker, stored.key, at, expires_at=expires_at)
    return stored.key


class ServerSessions:
    """Puts the session in `scope["session"]` and stores it as the response starts.

    A socket's session is read by its endpoint once the socket's Origin is checked
    (`load_for_socket`), so that no frame of this middleware stays on the stack of every
    open socket; a socket changes nothing of it (it sends no cookie back).
    """

    def __init__(self, app: ASGIApp, secure: bool = False,
                 skip: tuple[str, ...] = ("/static/",),
                 quiet: tuple[str, ...] = ("/api/v1/till/sync", "/api/v1/till/catalog",
                                           "/till-sw.js", "/till.webmanifest")) -> None:
        self.app = app
        self.secure = secure
        self.skip = skip  # paths that never read a session: no lookup for them
        # Paths a page calls in the background (a till's sync, every few seconds), which
        # read the session but never write it nor send a cookie: one sent with the session's
        # id just before a switch of user renewed it would, answering after, put the old
        # id (or none) back in the browser over the new one. Any call sent with the header
        # BACKGROUND is quiet too.
        self.quiet = quiet

    def __call__(self, scope: Scope, receive: Receive, send: Send) -> Awaitable[None]:
        if scope["type"] == "websocket":
            scope["session"] = Session()
            return self.app(scope, receive, send)
        if scope["type"] != "http" or scope["path"].startswith(self.skip):
            return self.app(scope, receive, send)
        return self._http(scope, receive, send)

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        token = _cookie_of(HTTPConnection(scope))
        at = store.now()
        stored = None
        if token is not None:
            stored = await store.load(_state(scope).sessionmaker, token, at)
        session = scope["session"] = Session(stored)

        if scope["path"] in self.quiet or _background(scope):
            await self.app(scope, receive, send)
            return

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                cookie = await self._store(scope, session, token, at)
                if cookie is not None:
                    MutableHeaders(scope=message).append("set-cookie", cookie)
            await send(message)

        await self.app(scope, receive, sending)

    async def _store(self, scope: Scope, session: Session, token: str | None,
                     at: datetime) -> str | None:
        """Write what changed; the Set-Cookie header to send, if any."""
        if session.key is None and not session:
            return self._cookie("", 0) if token else None  # nothing, or forget a dead id
        state = _state(scope)
        maker = state.sessionmaker
        staff_id, consumer_id = session.identity(STAFF_ID), session.identity(CONSUMER_ID)
        idle_s = state.session_lifetimes.idle_s(staff_id, consumer_id)
        if session.renewing and session.key is not None:
            ended = session.key
            await run(maker, state.bus, lambda tx: store.end(tx, [ended], at))
            session.key = None
        if session.key is None:
            known = session.renewing or staff_id is not None or consumer_id is not None
            first_s = idle_s if known else min(idle_s, store.FIRST_VISIT_S)
            new = await store.create(maker, session.data(), staff_id, consumer_id,
                                     at + timedelta(seconds=first_s), at)
            return self._cookie(new, idle_s)
        assert token is not None  # the session was read with it
        expires_at = at + timedelta(seconds=idle_s)
        if session.encoded() != session.loaded:
            alive = await store.save(maker, session.key, at, data=session.data(),
                                     staff_id=staff_id, consumer_id=consumer_id,
                                     expires_at=expires_at)
        elif session.expires_at is None or (
            session.expires_at < expires_at - timedelta(seconds=store.TOUCH_S)
        ):
            alive = await store.save(maker, session.key, at, expires_at=expires_at)
        else:
            return None
        # The browser keeps the cookie as long as the server keeps the session.
        return self._cookie(token, idle_s) if alive else self._cookie("", 0)

    def _cookie(self, token: str, max_age: int) -> str:
        cookie = f"{COOKIE}={token}; Path=/; Max-Age={max_age}; HttpOnly; SameSite=Lax"
        return cookie + "; Secure" if self.secure else cookie
