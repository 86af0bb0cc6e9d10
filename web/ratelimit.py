"""Limits on tries (wrong PINs, sign-ins), race-free across processes: one statement a try.

A try is counted first and checked only if the count it got back is within the limit, so
forty guesses sent at once get exactly the limit's checks however many processes take them:
the count is one row per rule and subject (`web.models.RateLimit`), and each try is a
single `INSERT … ON CONFLICT DO UPDATE … RETURNING` that starts a window or adds one to it
and says, in the same statement, whether this try may go on. PostgreSQL orders concurrent
upserts of a row with its row lock; SQLite has one writer. A try that turns out right gives
its place back (`give_back`), so only failures use the limit up.

The counters live in the database rather than in Redis (with the `limits` library): the
database is there in every deployment, the embedded one included, where Redis is optional
and may be down while the app goes on; a limit that stopped counting while Redis restarts
would open the door exactly then. The POS also reads these counters (which tables are
slowed), which the database answers with a join. A try costs one small statement, and only
on paths that already cost a password hash or a PIN check.

A rule is a limit per window, optionally followed by a pace: past the limit, one try per
`pace_s` instead of none until the window ends.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from sqlalchemy import Table, and_, case, delete, literal, null, or_, select, true, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.base import UTCDateTime, changed
from db.engine import on_postgresql
from errors import N_, DomainError
from web.models import RateLimit

_LIMITS = cast(Table, RateLimit.__table__)


@dataclass(frozen=True)
class Rule:
    scope: str  # what is counted, e.g. "pin.device"
    limit: int  # tries per window
    window_s: float
    pace_s: float = 0  # past the limit: one try per pace_s (0: none until the window ends)


@dataclass(frozen=True)
class Taken:
    """One try: whether it may go on and, if not, how long until one may."""

    rule: Rule
    subject: str
    allowed: bool
    hits: int
    expires_at: datetime
    retry_after_s: int

    @property
    def reached_limit(self) -> bool:
        """This try was the last one the window allows at full speed."""
        return self.hits == self.rule.limit


@dataclass(frozen=True)
class Attempt:
    taken: list[Taken] = field(default_factory=list)
    refused: Taken | None = None


class Limited(DomainError):
    """Too many tries: this one was not checked. `Retry-After` says in how many seconds a
    try may be made again."""

    code = "too_many_tries"
    status = 429
    message = N_("Too many tries; wait a little and try again.")

    def __init__(self, taken: Taken) -> None:
        self.retry_after_s = taken.retry_after_s
        super().__init__(
            seconds=taken.retry_after_s, minutes=math.ceil(taken.retry_after_s / 60),
            pace=math.ceil(taken.rule.pace_s),
        )

    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after_s)}


def subject_key(subject: str) -> str:
    """What the row stores: the subject itself, or a digest of a long or odd one (an
    address as typed can be anything a JSON string holds)."""
    try:
        subject.encode()
    except UnicodeEncodeError:
        pass
    else:
        if len(subject) <= 64 and "\x00" not in subject:
            return subject
    return "#" + hashlib.sha256(subject.encode("utf-8", "surrogatepass")).hexdigest()


def _at(moment: datetime | None) -> Any:
    return null() if moment is None else literal(moment, UTCDateTime())


def _count(postgresql: bool, rule: Rule, subject: str, now: datetime) -> Any:
    """The one statement of a try: start a window or count in it, and decide."""
    window_end = now + timedelta(seconds=rule.window_s)
    paced = now + timedelta(seconds=rule.pace_s) if rule.pace_s else None
    c = _LIMITS.c
    fresh = or_(c.expires_at <= _at(now), c.hits <= 0)
    counted = c.hits + 1
    # Within the limit, or past it with a pace whose next moment has come.
    may_pass = or_(c.next_at.is_(None), c.next_at <= _at(now)) if paced else literal(False)
    first_next = paced if rule.limit == 1 else None  # a limit of one is reached at once
    insert = (pg_insert if postgresql else sqlite_insert)(_LIMITS).values(
        scope=rule.scope, subject=subject, hits=1, expires_at=_at(window_end),
        next_at=_at(first_next), granted=True,
    )
    return insert.on_conflict_do_update(
        index_elements=[c.scope, c.subject],
        set_={
            "hits": case((fresh, 1), else_=counted),
            "expires_at": case((fresh, _at(window_end)), else_=c.expires_at),
            "next_at": case(
                (fresh, _at(first_next)),
                (counted == rule.limit, _at(paced)),
                (and_(counted > rule.limit, may_pass), _at(paced)),
                else_=c.next_at,
            ) if paced else null(),
            "granted": case((fresh, true()), (counted <= rule.limit, true()),
                            else_=may_pass),
        },
    ).returning(c.hits, c.expires_at, c.next_at, c.granted)


def _seconds_until(moment: datetime, now: datetime, at_most: float) -> int:
    # `now` was read before the statement waited for its turn: a try that read it earlier
    # than another, but ran after it, would otherwise be told a little more than a window.
    return max(1, min(math.ceil((moment - now).total_seconds()), math.ceil(at_most)))


async def take(
    session: AsyncSession, rule: Rule, subject: str, now: datetime | None = None
) -> Taken:
    """Count one try of `subject` under `rule`, in the caller's transaction."""
    now = now or datetime.now(UTC)
    key = subject_key(subject)
    connection = await session.connection()
    hits, expires_at, next_at, granted = (
        await connection.execute(_count(on_postgresql(session), rule, key, now))
    ).one()
    retry = 0
    if not granted:
        if rule.pace_s and next_at:
            retry = _seconds_until(min(next_at, expires_at), now, rule.pace_s)
        else:
            retry = _seconds_until(expires_at, now, rule.window_s)
    return Taken(rule, key, bool(granted), hits, expires_at, retry)


async def take_all(
    session: AsyncSession, tries: Sequence[tuple[Rule, str]], now: datetime | None = None
) -> Attempt:
    """Count a try under several rules, in order; the first that refuses it stops it, and
    the places already taken are given back. Always list rules in the same order (the
    row locks they take are then taken in one order: no deadlock)."""
    now = now or datetime.now(UTC)
    taken: list[Taken] = []
    for rule, subject in tries:
        one = await take(session, rule, subject, now)
        if not one.allowed:
            await give_back(session, taken)
            return Attempt(refused=one)
        taken.append(one)
    return Attempt(taken=taken)


async def give_back(session: AsyncSession, taken: Sequence[Taken]) -> None:
    """The tries succeeded: they do not count against the limit."""
    for one in taken:
        if not one.allowed:
            continue
        await session.execute(
            update(RateLimit)
            .where(
                RateLimit.scope == one.rule.scope, RateLimit.subject == one.subject,
                RateLimit.expires_at == one.expires_at, RateLimit.hits > 0,
            )
            .values(hits=RateLimit.hits - 1)
            .execution_options(synchronize_session=False)
        )


@asynccontextmanager
async def counted(
    sessionmaker: async_sessionmaker[AsyncSession],
    tries: Sequence[tuple[Rule, str]],
    refused: Callable[[Taken], Exception],
) -> AsyncIterator[None]:
    """A check under limits, for checks made outside a transaction (a password hash):
    the try is counted and committed first; `refused(taken)` is raised when it may not go
    on. The body is the check: an exception (the wrong password) leaves the try counted,
    a normal exit gives it back."""
    async with sessionmaker() as session, session.begin():
        attempt = await take_all(session, tries)
    if attempt.refused is not None:
        raise refused(attempt.refused)
    yield
    async with sessionmaker() as session, session.begin():
        await give_back(session, attempt.taken)


async def lift(session: AsyncSession, scope: str, subject: str) -> int:
    """Forget the tries of `subject` under `scope` (staff lifting a limit); returns how
    many were counted in its window."""
    forgotten = await session.scalar(
        delete(RateLimit)
        .where(RateLimit.scope == scope, RateLimit.subject == subject_key(subject))
        .returning(RateLimit.hits)
        .execution_options(synchronize_session=False)
    )
    return forgotten or 0


@dataclass(frozen=True)
class Standing:
    subject: str
    hits: int
    expires_at: datetime
    next_at: datetime | None


async def over_limit(
    session: AsyncSession, rule: Rule, subjects: Sequence[str], now: datetime | None = None
) -> list[Standing]:
    """Which of `subjects` have reached the rule's limit in their current window."""
    if not subjects:
        return []
    now = now or datetime.now(UTC)
    rows = await session.execute(
        select(RateLimit.subject, RateLimit.hits, RateLimit.expires_at, RateLimit.next_at)
        .where(
            RateLimit.scope == rule.scope,
            RateLimit.subject.in_([subject_key(s) for s in subjects]),
            RateLimit.hits >= rule.limit,
            RateLimit.expires_at > now,
        )
        .order_by(RateLimit.subject)
    )
    return [Standing(*row) for row in rows]


async def forget_expired(sessionmaker: async_sessionmaker[AsyncSession]) -> int:
    """Delete the counters whose window has ended (a try there would start afresh)."""
    async with sessionmaker() as session, session.begin():
        result = await session.execute(
            delete(RateLimit)
            .where(RateLimit.expires_at <= datetime.now(UTC))
            .execution_options(synchronize_session=False)
        )
    return changed(result)
