"""Browsers' sessions in the database: one indexed lookup a request, a write only when
something changed, and the expiry moved forward at most once a minute.

The cookie holds a random id of 256 bits (`secrets`); the table keys its SHA-256, so that
a copy of the table (a backup) opens nobody's session. A session lasts as long as it is
used: `expires_at` is the last use plus the idle time of who signed in on it (a working day
for staff, a month for consumers and for phones at tables: `Lifetimes`). A new visitor's
session first lasts an hour only, until the browser comes back with its cookie: a script
that never sends it back leaves rows that go within the hour.

Ending a session (signing out, signing in again, a deactivated account) sets its expiry
to the moment it ended, and, once committed, a frame on `session:{key}` tells every
process to close the sockets opened with it (web/live.py). The row stays a day, with its
topic's version: a process whose bus was away meanwhile learns from them which sockets to
close when it catches up (realtime/catch_up.py). The sweeper then deletes both.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, delete, exists, literal, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.base import UTCDateTime, changed
from db.engine import read_first
from realtime.events import Tx
from realtime.models import TopicVersion
from realtime.topics import OneAudience, Viewer
from realtime.topics import register as register_kind
from web.models import BrowserSession

TOKEN_BYTES = 32  # the cookie's id: 256 random bits
TOKEN_LENGTH = 43  # its URL-safe base64 form
TOUCH_S = 60  # a session in use moves its expiry forward at most once a minute
FIRST_VISIT_S = 3600  # a new visitor's session, until the browser sends the cookie back
KEEP_ENDED_S = 86400  # ended and expired rows, kept for processes catching up
TOPIC = "session"


def now() -> datetime:
    """The clock of sessions (tests move it)."""
    return datetime.now(UTC)


@dataclass(frozen=True)
class Lifetimes:
    """How long a session may sit unused, by who signed in on it (settings.py)."""

    staff_s: int
    consumer_s: int
    browser_s: int

    def idle_s(self, staff_id: int | None, consumer_id: int | None) -> int:
        """The shortest that applies: a browser signed in as staff and as a consumer ends
        with the staff member's working day."""
        applies = [self.browser_s]
        if staff_id is not None:
            applies.append(self.staff_s)
        if consumer_id is not None:
            applies.append(self.consumer_s)
        return min(applies)


@dataclass
class Stored:
    """A live session as read: its data (without the identities, kept in their columns)."""

    key: str
    data: dict[str, Any]
    staff_id: int | None
    consumer_id: int | None
    expires_at: datetime


def new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def key_of(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def ended_topic(key: str) -> str:
    """Where the end of a session is told, for the sockets opened with it."""
    return f"{TOPIC}:{key}"


def encode(data: dict[str, Any]) -> str:
    return json.dumps(data, separators=(",", ":"), sort_keys=True)


# Built once: every request reads its session.
_LOAD = (
    select(BrowserSession.data, BrowserSession.staff_id, BrowserSession.consumer_id,
           BrowserSession.expires_at)
    .where(BrowserSession.key == bindparam("key"),
           BrowserSession.expires_at > bindparam("at", type_=UTCDateTime))
)


async def load(sessionmaker: async_sessionmaker[AsyncSession], token: str,
               at: datetime) -> Stored | None:
    """The live session of a cookie's id; None for an unknown, ended or expired one."""
    if len(token) != TOKEN_LENGTH:
        return None  # not an id of ours: no need to ask
    key = key_of(token)
    row = await read_first(sessionmaker, _LOAD, {"key": key, "at": at})
    if row is None:
        return None
    data = json.loads(row.data)
    return Stored(key, data if isinstance(data, dict) else {}, row.staff_id, row.consumer_id,
                  row.expires_at)


async def create(sessionmaker: async_sessionmaker[AsyncSession], data: dict[str, Any],
                 staff_id: int | None, consumer_id: int | None, expires_at: datetime,
                 at: datetime) -> str:
    """A new session: its cookie's id (a new random one, never one a client offered)."""
    token = new_token()
    async with sessionmaker() as session, session.begin():
        session.add(BrowserSession(
            key=key_of(token), data=encode(data), staff_id=staff_id, consumer_id=consumer_id,
            created_at=at, expires_at=expires_at,
        ))
    return token


async def save(sessionmaker: async_sessionmaker[AsyncSession], key: str,
               at: datetime, **values: Any) -> bool:
    """Write a live session's changes (data, identities, expiry); False if it ended
    meanwhile, which no change brings back."""
    if "data" in values:
        values["data"] = encode(values["data"])
    async with sessionmaker() as session, session.begin():
        result = await session.execute(
            update(BrowserSession)
            .where(BrowserSession.key == key, BrowserSession.expires_at > at)
            .values(**values)
            .execution_options(synchronize_session=False)
        )
    return changed(result) > 0


async def end(tx: Tx, keys: Iterable[str], at: datetime) -> None:
    """End these sessions, in the caller's transaction; once it commits, the sockets
    opened with them close on every process."""
    for key in keys:
        await tx.session.execute(
            update(BrowserSession)
            .where(BrowserSession.key == key)
            .values(expires_at=at, data="{}", staff_id=None, consumer_id=None)
            .execution_options(synchronize_session=False)
        )
        await tx.send_frame(ended_topic(key), {"type": "session_ended"})


async def end_all_of(tx: Tx, *, staff_id: int | None = None,
                     consumer_id: int | None = None) -> int:
    """End every live session a person signed in on (deactivated, or told to); how many."""
    s = BrowserSession
    who = s.staff_id == staff_id if staff_id is not None else s.consumer_id == consumer_id
    at = now()
    keys = list(await tx.session.scalars(select(s.key).where(who, s.expires_at > at)))
    await end(tx, keys, at)
    return len(keys)


async def forget_expired(sessionmaker: async_sessionmaker[AsyncSession]) -> int:
    """Delete the sessions ended or expired more than a day ago, and the versions of the
    ended ones' topics; how many sessions."""
    before = now() - timedelta(seconds=KEEP_ENDED_S)
    s = BrowserSession
    async with sessionmaker() as session, session.begin():
        result = await session.execute(
            delete(s).where(s.expires_at <= before).execution_options(synchronize_session=False)
        )
        topic = TopicVersion.topic
        await session.execute(
            delete(TopicVersion)
            .where(topic.startswith(TOPIC + ":"),
                   ~exists().where(literal(TOPIC + ":") + s.key == topic))
            .execution_options(synchronize_session=False)
        )
    return changed(result)


class EndedTopic(OneAudience):
    """`session:{key}`: only a socket opened with the session watches it, put there by the
    server (web/live.py); no client may subscribe to it."""

    cache_snapshots = False

    async def authorize(self, session: AsyncSession, args: list[str], viewer: Viewer) -> bool:
        return False

    async def snapshot(self, session: AsyncSession, args: list[str]) -> dict[str, Any]:
        return {}

    def render(self, view: dict[str, Any], event: str | None, change: dict[str, Any] | None,
               audience: str, locale: str) -> dict[str, Any]:
        return {"html": {}}


def register() -> None:
    register_kind(TOPIC, EndedTopic())
