"""Coupons issued by triggers: every N visits, N days before the birthday, absent for N days.

The rules alone first (no database), then the service and the sweep against a clock the
test sets, on SQLite and PostgreSQL: each occasion gives exactly one coupon, whoever asks
and however often, and only a trigger that is on, with its reward offered, in a company
whose programme is on, gives anything, to that company's customers only.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select, update

from accounts.models import Company
from domain.events import TicketRecorded
from loyalty import coupon_sweep, hearing, issuing, ledger, occasions, service
from loyalty.models import Coupon, CouponTrigger, LoyaltyProfile, Reward
from loyalty.triggers import (
    Facts,
    Rule,
    TriggerKind,
    absence_key,
    birthday_key,
    birthdays_within,
    next_birthday,
    occasion,
    visits_key,
)
from tests.loyalty.conftest import Loyal

VISITS = Rule(1, TriggerKind.VISITS, 10)
BIRTHDAY = Rule(2, TriggerKind.BIRTHDAY, 7)
ABSENCE = Rule(3, TriggerKind.ABSENCE, 30)


# The rules, alone.

def test_the_visits_trigger_fires_on_every_tenth_earning_visit_only() -> None:
    fired = {k: visits_key(VISITS, 5, k) for k in range(0, 31)}
    assert {k for k, key in fired.items() if key} == {10, 20, 30}
    assert fired[20] == "visits:1:5:20"


def test_the_birthday_trigger_opens_n_days_before_and_closes_after_the_day() -> None:
    born = date(1990, 6, 15)
    assert birthday_key(BIRTHDAY, 5, born, date(2026, 6, 7)) is None  # 8 days before
    assert birthday_key(BIRTHDAY, 5, born, date(2026, 6, 8)) == "birthday:2:5:2026"
    assert birthday_key(BIRTHDAY, 5, born, date(2026, 6, 15)) == "birthday:2:5:2026"
    assert birthday_key(BIRTHDAY, 5, born, date(2026, 6, 16)) is None  # next year's is far
    assert birthday_key(BIRTHDAY, 5, None, date(2026, 6, 15)) is None


def test_a_birthday_early_in_january_is_next_years_in_late_december() -> None:
    born = date(1985, 1, 3)
    assert birthday_key(BIRTHDAY, 5, born, date(2026, 12, 28)) == "birthday:2:5:2027"
    assert next_birthday(born, date(2026, 12, 28)) == date(2027, 1, 3)


def test_29_february_is_kept_on_28_february_in_other_years() -> None:
    leap = date(2000, 2, 29)
    assert next_birthday(leap, date(2027, 2, 1)) == date(2027, 2, 28)
    assert next_birthday(leap, date(2028, 2, 1)) == date(2028, 2, 29)
    assert birthday_key(BIRTHDAY, 5, leap, date(2027, 2, 21)) == "birthday:2:5:2027"
    assert birthday_key(BIRTHDAY, 5, leap, date(2027, 2, 20)) is None
    assert birthday_key(BIRTHDAY, 5, leap, date(2028, 2, 22)) == "birthday:2:5:2028"
    assert birthday_key(BIRTHDAY, 5, leap, date(2028, 2, 21)) is None
    assert (2, 29) in birthdays_within(BIRTHDAY, date(2027, 2, 21))
    assert (2, 29) not in birthdays_within(BIRTHDAY, date(2027, 3, 1))


def test_the_absence_trigger_names_the_absence_by_the_last_visits_day() -> None:
    last = date(2026, 3, 1)
    assert absence_key(ABSENCE, 5, last, date(2026, 3, 30)) is None  # 29 days
    assert absence_key(ABSENCE, 5, last, date(2026, 3, 31)) == "absence:3:5:2026-03-01"
    assert absence_key(ABSENCE, 5, last, date(2026, 6, 1)) == "absence:3:5:2026-03-01"
    assert absence_key(ABSENCE, 5, None, date(2026, 6, 1)) is None  # never seen


def test_occasion_asks_the_rule_of_the_triggers_kind() -> None:
    facts = Facts(5, date(2026, 6, 10), visits=20, birthday=date(1990, 6, 15),
                  last_visit=date(2026, 5, 1))
    assert occasion(VISITS, facts) == "visits:1:5:20"
    assert occasion(BIRTHDAY, facts) == "birthday:2:5:2026"
    assert occasion(ABSENCE, facts) == "absence:3:5:2026-05-01"


# The service and the sweep.

async def _trigger(loyal: Loyal, kind: str, every: int, *, reward_id: int | None = None,
                   valid_days: int = 30, company_id: int | None = None) -> CouponTrigger:
    if reward_id is None:
        reward_id = (await loyal.reward(effect="amount_off", amount=300)).id
    async with loyal.db.sessionmaker() as session, session.begin():
        trigger = CouponTrigger(company_id=company_id or loyal.company_id, kind=kind,
                                every=every, reward_id=reward_id, valid_days=valid_days)
        session.add(trigger)
        await session.flush()
        return trigger


async def _coupons(loyal: Loyal, consumer_id: int | None = None) -> list[Coupon]:
    async with loyal.db.sessionmaker() as session:
        query = select(Coupon).order_by(Coupon.id)
        if consumer_id is not None:
            query = query.where(Coupon.consumer_id == consumer_id)
        return list((await session.scalars(query)).all())


async def _born(loyal: Loyal, consumer_id: int, birthday: date) -> None:
    async with loyal.db.sessionmaker() as session, session.begin():
        await ledger.ensure_profile(session, loyal.company_id, consumer_id)
        await session.execute(update(LoyaltyProfile).where(
            LoyaltyProfile.consumer_id == consumer_id).values(birthday=birthday))


async def _visit(loyal: Loyal, consumer_id: int, at: datetime | None = None) -> TicketRecorded:
    sale = loyal.sale(consumer_id, 500, sold_at=at)
    await loyal.record(sale)
    return sale


async def _sweep(loyal: Loyal, now: datetime) -> int:
    return await coupon_sweep.sweep_once(loyal.db.sessionmaker, loyal.bus, now)


async def test_every_10_visits_gives_a_coupon_on_the_10th_and_20th_visit_only(
    loyal: Loyal,
) -> None:
    await loyal.rules(points_per_unit=1)
    trigger = await _trigger(loyal, "visits", 10, valid_days=14)
    zoe = await loyal.customer()
    counts = []
    for _ in range(21):
        await _visit(loyal, zoe)
        counts.append(len(await _coupons(loyal, zoe)))
    assert counts == [0] * 9 + [1] * 10 + [2] * 2
    coupons = await _coupons(loyal, zoe)
    assert [c.key for c in coupons] == [f"visits:{trigger.id}:{zoe}:10",
                                        f"visits:{trigger.id}:{zoe}:20"]
    assert all(c.trigger == "visits" and c.used_at is None for c in coupons)
    for coupon in coupons:  # valid 14 days from when it was given
        assert coupon.expires_at - coupon.created_at == timedelta(days=14)
    # The till and the customer's space show them, to scan.
    card = await loyal.run(lambda tx: service.customer(tx, loyal.company_id, zoe))
    assert sorted(c.token for c in card.coupons) == sorted(c.token for c in coupons)


async def test_a_visit_under_the_delay_earns_nothing_and_counts_for_nothing(
    loyal: Loyal,
) -> None:
    await loyal.rules(points_per_unit=1, min_delay_minutes=60)
    await _trigger(loyal, "visits", 2)
    zoe = await loyal.customer()
    start = datetime(2026, 5, 4, 9, tzinfo=UTC)
    await _visit(loyal, zoe, start)
    await _visit(loyal, zoe, start + timedelta(minutes=10))  # too soon: no points
    assert await _coupons(loyal, zoe) == []
    await _visit(loyal, zoe, start + timedelta(hours=2))
    assert len(await _coupons(loyal, zoe)) == 1


async def test_a_replayed_visit_gives_nothing_more(loyal: Loyal) -> None:
    await loyal.rules(points_per_unit=1)
    await _trigger(loyal, "visits", 2)
    zoe = await loyal.customer()
    await _visit(loyal, zoe)
    second = await _visit(loyal, zoe)
    assert len(await _coupons(loyal, zoe)) == 1
    # The same sale synced twice (a new event), and the same event heard again.
    await loyal.record(second.model_copy(update={"id": uuid.uuid4()}))
    await loyal.run(lambda tx: hearing.ticket_recorded(tx, second))
    assert len(await _coupons(loyal, zoe)) == 1
    assert len(await loyal.entries(zoe)) == 2


async def test_two_issuers_of_one_occasion_at_once_make_one_coupon(loyal: Loyal) -> None:
    await loyal.rules(points_per_unit=1)
    trigger = await _trigger(loyal, "visits", 10)
    zoe = await loyal.customer()
    async with loyal.db.sessionmaker() as session:
        [live] = await issuing.live_triggers(session, loyal.company_id, [TriggerKind.VISITS])
    now = datetime.now(UTC)
    key = f"visits:{trigger.id}:{zoe}:10"
    results = await asyncio.gather(*(
        loyal.run(lambda tx: issuing.issue(tx, loyal.company_id, live, zoe, key, now))
        for _ in range(4)))
    assert len([r for r in results if r is not None]) == 1, results
    assert [c.key for c in await _coupons(loyal)] == [key]


async def test_the_birthday_coupon_comes_n_days_before_in_the_companys_time_zone(
    loyal: Loyal,
) -> None:
    await loyal.rules()
    async with loyal.db.sessionmaker() as session, session.begin():
        await session.execute(update(Company).where(
            Company.id == loyal.company_id).values(timezone="Pacific/Auckland"))
    trigger = await _trigger(loyal, "birthday", 7, valid_days=10)
    zoe = await loyal.customer()
    await _born(loyal, zoe, date(1990, 12, 20))
    # 13 December begins in Auckland (UTC+13) at 11:00 UTC on the 12th.
    assert await _sweep(loyal, datetime(2026, 12, 12, 10, 59, tzinfo=UTC)) == 0
    moment = datetime(2026, 12, 12, 11, 1, tzinfo=UTC)
    assert await _sweep(loyal, moment) == 1
    assert await _sweep(loyal, moment + timedelta(days=3)) == 0  # once
    assert await _sweep(loyal, datetime(2026, 12, 21, 11, 1, tzinfo=UTC)) == 0
    [coupon] = await _coupons(loyal, zoe)
    assert coupon.key == f"birthday:{trigger.id}:{zoe}:2026"
    assert coupon.trigger == "birthday"
    assert coupon.expires_at == moment + timedelta(days=10)
    # The next year's birthday gives the next year's coupon.
    assert await _sweep(loyal, datetime(2027, 12, 14, 12, tzinfo=UTC)) == 1
    assert (await _coupons(loyal, zoe))[-1].key == f"birthday:{trigger.id}:{zoe}:2027"


async def test_a_29_february_birthday_gets_its_coupon_in_a_year_without_one(
    loyal: Loyal,
) -> None:
    await loyal.rules()
    await _trigger(loyal, "birthday", 3)
    zoe = await loyal.customer()
    await _born(loyal, zoe, date(2004, 2, 29))
    assert await _sweep(loyal, datetime(2027, 2, 24, 12, tzinfo=UTC)) == 0
    assert await _sweep(loyal, datetime(2027, 2, 25, 12, tzinfo=UTC)) == 1
    assert await _sweep(loyal, datetime(2027, 2, 28, 12, tzinfo=UTC)) == 0


async def test_absence_gives_one_coupon_per_absence_and_again_after_a_new_one(
    loyal: Loyal,
) -> None:
    await loyal.rules(points_per_unit=1)
    trigger = await _trigger(loyal, "absence", 30)
    zoe = await loyal.customer()
    never = await loyal.customer("Jamais venu")
    day0 = datetime(2026, 3, 2, 10, tzinfo=UTC)
    await _visit(loyal, zoe, day0)
    assert await _sweep(loyal, day0 + timedelta(days=29)) == 0
    assert await _sweep(loyal, day0 + timedelta(days=30)) == 1
    assert await _sweep(loyal, day0 + timedelta(days=31)) == 0
    assert await _sweep(loyal, day0 + timedelta(days=45)) == 0
    back = day0 + timedelta(days=50)
    await _visit(loyal, zoe, back)
    assert await _sweep(loyal, back + timedelta(days=29)) == 0
    assert await _sweep(loyal, back + timedelta(days=30)) == 1
    assert await _sweep(loyal, back + timedelta(days=60)) == 0
    assert [c.key for c in await _coupons(loyal, zoe)] == [
        f"absence:{trigger.id}:{zoe}:2026-03-02", f"absence:{trigger.id}:{zoe}:2026-04-21"]
    assert await _coupons(loyal, never) == []


async def test_two_sweeps_at_once_give_one_coupon_per_occasion(loyal: Loyal) -> None:
    await loyal.rules()
    await _trigger(loyal, "birthday", 5)
    await _trigger(loyal, "absence", 10)
    people = [await loyal.customer(f"Client {n}") for n in range(6)]
    day0 = datetime(2026, 6, 1, 10, tzinfo=UTC)
    for consumer_id in people:
        await _born(loyal, consumer_id, date(1990, 6, 25))
        await _visit(loyal, consumer_id, day0)
    moment = day0 + timedelta(days=20)
    made = await asyncio.gather(*(_sweep(loyal, moment) for _ in range(3)))
    assert sum(made) == 12, made
    coupons = await _coupons(loyal)
    assert len(coupons) == len({c.key for c in coupons}) == 12


async def test_a_sweep_works_in_bounded_batches_and_the_next_one_goes_on(
    loyal: Loyal, monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(occasions, "BATCH", 2)
    monkeypatch.setattr(coupon_sweep, "MAX_BATCHES", 2)
    await loyal.rules()
    await _trigger(loyal, "birthday", 5)
    for n in range(7):
        await _born(loyal, await loyal.customer(f"Client {n}"), date(1990, 6, 25))
    moment = datetime(2026, 6, 22, 10, tzinfo=UTC)
    assert [await _sweep(loyal, moment) for _ in range(3)] == [4, 3, 0]


async def test_a_trigger_off_an_archived_reward_or_the_programme_off_give_nothing(
    loyal: Loyal,
) -> None:
    await loyal.rules(points_per_unit=1)
    off = await _trigger(loyal, "visits", 1)
    archived = await _trigger(loyal, "absence", 1)
    async with loyal.db.sessionmaker() as session, session.begin():
        await session.execute(update(CouponTrigger).where(CouponTrigger.id == off.id)
                              .values(active=False))
        await session.execute(update(Reward).where(Reward.id == archived.reward_id)
                              .values(active=False))
    zoe = await loyal.customer()
    day0 = datetime(2026, 6, 1, 10, tzinfo=UTC)
    await _visit(loyal, zoe, day0)
    assert await _sweep(loyal, day0 + timedelta(days=5)) == 0
    await _trigger(loyal, "visits", 1)  # on, with its reward: gives
    await loyal.rules(enabled=False, points_per_unit=1)
    await _visit(loyal, zoe, day0 + timedelta(days=6))
    assert await _coupons(loyal) == []
    await loyal.rules(points_per_unit=1)
    await _visit(loyal, zoe, day0 + timedelta(days=7))
    assert len(await _coupons(loyal)) == 1


async def test_another_companys_customers_and_triggers_are_untouched(loyal: Loyal) -> None:
    await loyal.rules(points_per_unit=1)
    other = await loyal.other_company()
    theirs = await loyal.customer("Ailleurs", company_id=other)
    async with loyal.db.sessionmaker() as session, session.begin():
        await ledger.ensure_profile(session, other, theirs)
        await session.execute(update(LoyaltyProfile).where(
            LoyaltyProfile.consumer_id == theirs).values(birthday=date(1990, 6, 25)))
    await _trigger(loyal, "birthday", 5)
    await _trigger(loyal, "visits", 1)
    # Their sale names our company by mistake: not our customer, nothing given.
    await loyal.record(loyal.sale(theirs, 500))
    assert await _sweep(loyal, datetime(2026, 6, 22, 10, tzinfo=UTC)) == 0
    assert await _coupons(loyal) == []
    # Their own trigger (their programme is off) gives nothing either.
    their_reward = Reward(company_id=other, name="Ailleurs", cost_points=5,
                          effect="amount_off", amount=100)
    async with loyal.db.sessionmaker() as session, session.begin():
        session.add(their_reward)
        await session.flush()
        session.add(CouponTrigger(company_id=other, kind="birthday", every=5,
                                  reward_id=their_reward.id, valid_days=5))
    assert await _sweep(loyal, datetime(2026, 6, 22, 10, tzinfo=UTC)) == 0
    assert await _coupons(loyal) == []

