"""The counters of tries, on SQLite and PostgreSQL: one statement decides each try, so a
burst from many sessions at once gets exactly the limit; windows, paces, giving back,
lifting and forgetting. Moments are passed in (`now`) rather than waited for."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from tests.conftest import Database
from web import ratelimit
from web.models import RateLimit
from web.ratelimit import Limited, Rule, Taken

T0 = datetime(2030, 1, 1, 12, 0, tzinfo=UTC)
FIVE = Rule("test.five", 5, 600)
PACED = Rule("test.paced", 3, 600, pace_s=30)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


async def take(db: Database, rule: Rule, subject: str, seconds: float = 0) -> Taken:
    async with db.sessionmaker() as session, session.begin():
        return await ratelimit.take(session, rule, subject, at(seconds))


async def test_a_burst_from_many_sessions_gets_exactly_the_limit(db: Database) -> None:
    async def one() -> bool:
        async with db.sessionmaker() as session, session.begin():
            return (await ratelimit.take(session, FIVE, "eve")).allowed

    allowed = await asyncio.gather(*(one() for _ in range(40)))
    assert allowed.count(True) == 5


async def test_past_the_limit_tries_are_refused_until_the_window_ends(db: Database) -> None:
    taken = [await take(db, FIVE, "eve", n) for n in range(5)]
    assert [t.allowed for t in taken] == [True] * 5 and [t.hits for t in taken] == [1, 2, 3, 4, 5]
    assert taken[-1].reached_limit and not taken[-2].reached_limit
    refused = await take(db, FIVE, "eve", 100)
    assert not refused.allowed and refused.retry_after_s == 500
    assert (await take(db, FIVE, "tom", 100)).allowed  # another subject
    assert (await take(db, Rule("test.other", 5, 600), "eve", 100)).allowed  # another rule
    fresh = await take(db, FIVE, "eve", 600)  # the window (from the first try) has ended
    assert fresh.allowed and fresh.hits == 1


async def test_past_the_limit_a_pace_lets_one_try_through_per_pace(db: Database) -> None:
    for n in range(3):
        assert (await take(db, PACED, "table", n)).allowed
    refused = await take(db, PACED, "table", 10)  # the third try started the pace at 2 s
    assert not refused.allowed and refused.retry_after_s == 22
    assert (await take(db, PACED, "table", 32)).allowed
    assert not (await take(db, PACED, "table", 33)).allowed
    assert not (await take(db, PACED, "table", 61)).allowed
    assert (await take(db, PACED, "table", 62)).allowed
    late = await take(db, PACED, "table", 590)
    assert late.allowed  # the pace has come again; the window still runs
    refused = await take(db, PACED, "table", 595)
    assert refused.retry_after_s == 5  # the window ends before the pace would


async def test_a_try_that_succeeded_is_given_back(db: Database) -> None:
    for n in range(10):
        taken = await take(db, FIVE, "lea", n)
        assert taken.allowed
        async with db.sessionmaker() as session, session.begin():
            await ratelimit.give_back(session, [taken])
    assert (await take(db, FIVE, "lea", 20)).hits == 1


async def test_take_all_gives_back_what_it_took_when_a_later_rule_refuses(
    db: Database,
) -> None:
    for n in range(5):
        await take(db, FIVE, "table", n)
    async with db.sessionmaker() as session, session.begin():
        attempt = await ratelimit.take_all(
            session, [(PACED, "eve"), (FIVE, "table")], at(10)
        )
    assert attempt.taken == [] and attempt.refused is not None
    assert attempt.refused.rule == FIVE
    assert (await take(db, PACED, "eve", 11)).hits == 1  # eve's place was given back


async def test_counted_keeps_a_failed_check_and_gives_back_a_good_one(db: Database) -> None:
    tries = [(FIVE, "lou@example.org")]
    for _ in range(3):
        async with ratelimit.counted(db.sessionmaker, tries, Limited):
            pass
    for _ in range(5):
        with pytest.raises(ValueError):
            async with ratelimit.counted(db.sessionmaker, tries, Limited):
                raise ValueError("wrong password")
    with pytest.raises(Limited) as refused:
        async with ratelimit.counted(db.sessionmaker, tries, Limited):
            pytest.fail("a refused try is not checked")
    assert refused.value.status == 429
    assert 0 < refused.value.retry_after_s <= 600
    assert refused.value.headers() == {"Retry-After": str(refused.value.retry_after_s)}


async def test_lift_forgets_and_says_how_many_tries_it_forgot(db: Database) -> None:
    for n in range(4):
        await take(db, PACED, "table", n)
    async with db.sessionmaker() as session, session.begin():
        assert await ratelimit.lift(session, PACED.scope, "table") == 4
        assert await ratelimit.lift(session, PACED.scope, "table") == 0
    assert (await take(db, PACED, "table", 5)).hits == 1


async def test_over_limit_lists_the_subjects_at_their_limit(db: Database) -> None:
    for n in range(3):
        await take(db, PACED, "1", n)
    await take(db, PACED, "2", 0)
    async with db.sessionmaker() as session:
        standing = await ratelimit.over_limit(session, PACED, ["1", "2", "3"], at(10))
        assert [(s.subject, s.hits) for s in standing] == [("1", 3)]
        assert await ratelimit.over_limit(session, PACED, ["1"], at(600)) == []


async def test_expired_counters_are_forgotten(db: Database) -> None:
    now = datetime.now(UTC)
    async with db.sessionmaker() as session, session.begin():
        await ratelimit.take(session, FIVE, "old", now - timedelta(seconds=601))
        await ratelimit.take(session, FIVE, "new", now)
    assert await ratelimit.forget_expired(db.sessionmaker) == 1
    async with db.sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(RateLimit)) == 1


@pytest.mark.parametrize("subject", ["x" * 300, "nul\x00byte", "lone \ud800 surrogate"])
async def test_any_subject_is_stored_safely(db: Database, subject: str) -> None:
    key = ratelimit.subject_key(subject)
    assert key.startswith("#") and len(key) <= 128
    for n in range(5):
        assert (await take(db, FIVE, subject, n)).allowed
    assert not (await take(db, FIVE, subject, 6)).allowed
    assert ratelimit.subject_key("lea@example.org") == "lea@example.org"
