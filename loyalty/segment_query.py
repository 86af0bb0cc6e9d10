"""A segment's definition as ONE select of the company's customers' ids, counted and listed.

A customer is a consumer with a loyalty profile in the company; every criterion is a
condition on that profile (birthday, consents) or an `IN` / `NOT EXISTS` of a subquery
of the company's ledger and coupons, so that the database answers for 100,000 customers
in one statement; the rules (month-day ranges wrapping the year's end, calendar months,
"never") are computed here in Python and the SQL is the same on SQLite and PostgreSQL.

What counts, as loyalty's statistics count it (loyalty/figures.py):
- a visit is an EARN entry or a visit added by hand (BY_HAND with a visit time and no
  reward), at its `visit_at`;
- spend is what visits spent less what refunds (TAKE_BACK, negative `spent`) gave back,
  at their `visit_at` (else when they were written);
- a reward taken is one taken with points (REDEEM, or BY_HAND naming a reward), when it
  was written, or a coupon used, when it was used.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    exists,
    extract,
    false,
    func,
    or_,
    select,
    true,
)
from sqlalchemy.ext.asyncio import AsyncSession

from customers.models import Consumer
from loyalty.ledger import Kind
from loyalty.models import Coupon, LoyaltyProfile, PointsEntry
from loyalty.segments import (
    Best,
    BirthdayBetween,
    BirthdaySoon,
    Consent,
    Criterion,
    Definition,
    LastVisit,
    RewardTaken,
    SiteVisited,
    Spent,
    Visits,
)

PROFILE_ID = LoyaltyProfile.consumer_id
WHEN = func.coalesce(PointsEntry.visit_at, PointsEntry.created_at)


def months_ago(now: datetime, months: int) -> datetime:
    """The same instant `months` calendar months earlier (31 March less one month is
    the last day of February)."""
    index = now.year * 12 + now.month - 1 - months
    year, month = divmod(index, 12)
    first_of_next = date(year + (month + 1) // 12, (month + 1) % 12 + 1, 1)
    last_day = (first_of_next - timedelta(days=1)).day
    return now.replace(year=year, month=month + 1, day=min(now.day, last_day))


def _is_visit() -> ColumnElement[bool]:
    return or_(PointsEntry.kind == Kind.EARN.value,
               and_(PointsEntry.kind == Kind.BY_HAND.value, PointsEntry.reward_id.is_(None),
                    PointsEntry.visit_at.is_not(None)))


def _is_spend() -> ColumnElement[bool]:
    return or_(_is_visit(), PointsEntry.kind == Kind.TAKE_BACK.value)


def _absent(ids: Select[Any]) -> ColumnElement[bool]:
    """The customer is not among `ids`: NOT EXISTS, which PostgreSQL runs as an anti-join
    (a NOT IN of a large subquery that does not fit in memory is checked row by row)."""
    found = ids.subquery()
    return ~exists(select(found.c.consumer_id).where(found.c.consumer_id == PROFILE_ID))


def _entries(company_id: int, *where: ColumnElement[bool]) -> Select[Any]:
    return select(PointsEntry.consumer_id).where(PointsEntry.company_id == company_id, *where)


def _visits_since(company_id: int, since: datetime | None,
                  *where: ColumnElement[bool]) -> Select[Any]:
    after = [] if since is None else [PointsEntry.visit_at >= since]
    return _entries(company_id, _is_visit(), *after, *where)


def _month_day(column: Any) -> ColumnElement[int]:
    return extract("month", column) * 100 + extract("day", column)


def _between(start: int, end: int) -> ColumnElement[bool]:
    """A birthday from month-day `start` to `end` (as MMDD), both in, wrapping the year."""
    day = _month_day(LoyaltyProfile.birthday)
    if start <= end:
        return and_(day >= start, day <= end)
    return or_(day >= start, day <= end)


def _md(text: str) -> int:
    month, day = text.split("-")
    return int(month) * 100 + int(day)


def _birthday_soon(rule: BirthdaySoon, today: date) -> ColumnElement[bool]:
    if rule.days >= 365:
        return LoyaltyProfile.birthday.is_not(None)
    last = today + timedelta(days=rule.days)
    return and_(LoyaltyProfile.birthday.is_not(None),
                _between(today.month * 100 + today.day, last.month * 100 + last.day))


def _visits(company_id: int, rule: Visits, now: datetime) -> ColumnElement[bool]:
    since = months_ago(now, rule.months)
    counted = _visits_since(company_id, since).group_by(PointsEntry.consumer_id)
    where: list[ColumnElement[bool]] = []
    if rule.at_least:
        where.append(PROFILE_ID.in_(counted.having(func.count() >= rule.at_least)))
    if rule.at_most is not None:
        where.append(_absent(counted.having(func.count() > rule.at_most)))
    return and_(true(), *where)


def _spent(company_id: int, rule: Spent, now: datetime) -> ColumnElement[bool]:
    since = months_ago(now, rule.months)
    spent = (_entries(company_id, _is_spend(), WHEN >= since)
             .group_by(PointsEntry.consumer_id)
             .having(func.sum(PointsEntry.spent) > rule.amount))
    return PROFILE_ID.in_(spent)


def _last_visit(company_id: int, rule: LastVisit, now: datetime) -> ColumnElement[bool]:
    if rule.when == "never":
        return _absent(_visits_since(company_id, None))
    recent = _visits_since(company_id, now - timedelta(days=rule.days))
    if rule.when == "after":
        return PROFILE_ID.in_(recent)
    return and_(PROFILE_ID.in_(_visits_since(company_id, None)), _absent(recent))


def _site(company_id: int, rule: SiteVisited, now: datetime) -> ColumnElement[bool]:
    since = months_ago(now, rule.months) if rule.months else None
    return PROFILE_ID.in_(_visits_since(company_id, since, PointsEntry.site_id == rule.site_id))


def _reward_taken(company_id: int, rule: RewardTaken, now: datetime) -> ColumnElement[bool]:
    since = months_ago(now, rule.months)
    entry = [PointsEntry.reward_id.is_not(None) if rule.reward_id is None
             else PointsEntry.reward_id == rule.reward_id]
    coupon = [] if rule.reward_id is None else [Coupon.reward_id == rule.reward_id]
    with_points = _entries(company_id, PointsEntry.kind.in_(
        [Kind.REDEEM.value, Kind.BY_HAND.value]), PointsEntry.created_at >= since, *entry)
    by_coupon = select(Coupon.consumer_id).where(
        Coupon.company_id == company_id, Coupon.consumer_id.is_not(None),
        Coupon.used_at >= since, *coupon)
    return or_(PROFILE_ID.in_(with_points), PROFILE_ID.in_(by_coupon))


def condition(company_id: int, rule: Criterion, now: datetime) -> ColumnElement[bool]:
    """One criterion as a condition on the customer's profile row."""
    if isinstance(rule, BirthdayBetween):
        return and_(LoyaltyProfile.birthday.is_not(None),
                    _between(_md(rule.start), _md(rule.end)))
    if isinstance(rule, BirthdaySoon):
        return _birthday_soon(rule, now.date())
    if isinstance(rule, Spent):
        return _spent(company_id, rule, now)
    if isinstance(rule, Visits):
        return _visits(company_id, rule, now)
    if isinstance(rule, LastVisit):
        return _last_visit(company_id, rule, now)
    if isinstance(rule, SiteVisited):
        return _site(company_id, rule, now)
    if isinstance(rule, RewardTaken):
        return _reward_taken(company_id, rule, now)
    assert isinstance(rule, Consent)
    column = LoyaltyProfile.email_consent_at if rule.channel == "email" \
        else LoyaltyProfile.sms_consent_at
    return column.is_not(None)


def _metric(company_id: int, best: Best, now: datetime) -> Any:
    """Each customer's visits or spend over the best's period, as a subquery."""
    since = months_ago(now, best.months)
    value: Any
    if best.by == "visits":
        value = func.count()
        where = [_is_visit(), PointsEntry.visit_at >= since]
    else:
        value = func.sum(PointsEntry.spent)
        where = [_is_spend(), WHEN >= since]
    return (select(PointsEntry.consumer_id.label("consumer_id"), value.label("value"))
            .where(PointsEntry.company_id == company_id, *where)
            .group_by(PointsEntry.consumer_id).subquery())


def matching(company_id: int, definition: Definition, now: datetime) -> Select[Any]:
    """The company's customers the definition takes, as one select of their ids (the best
    N ordered by their visits or spend, ties by the oldest customer first).

    `now`: an aware instant; its date is "today" for birthdays (give it in the venue's
    time zone)."""
    conditions = [condition(company_id, rule, now) for rule in definition.criteria]
    combined = (true() if not conditions
                else and_(*conditions) if definition.match == "all"
                else or_(false(), *conditions))
    chosen = select(PROFILE_ID.label("consumer_id")).where(
        LoyaltyProfile.company_id == company_id, combined)
    if definition.best is None:
        return chosen
    metric = _metric(company_id, definition.best, now)
    return (chosen.outerjoin(metric, metric.c.consumer_id == PROFILE_ID)
            .order_by(func.coalesce(metric.c.value, 0).desc(), PROFILE_ID)
            .limit(definition.best.n))


async def count(session: AsyncSession, company_id: int, definition: Definition,
                now: datetime) -> int:
    ids = matching(company_id, definition, now).subquery()
    return int(await session.scalar(select(func.count()).select_from(ids)) or 0)


@dataclass(frozen=True)
class Member:
    """A customer of the segment as its page lists them: all their visits and spend."""

    consumer_id: int
    name: str
    email: str
    phone: str | None
    visits: int
    spent: int
    last_visit: datetime | None


async def members(session: AsyncSession, company_id: int, definition: Definition,
                  now: datetime, limit: int = 20, offset: int = 0) -> list[Member]:
    """A page of the segment's customers: the best first when it keeps the best N, else
    by name."""
    ids = matching(company_id, definition, now).subquery()
    page = select(Consumer.id.label("consumer_id")).join(ids, ids.c.consumer_id == Consumer.id)
    if definition.best is not None:
        metric = _metric(company_id, definition.best, now)
        rank: list[Any] = [func.coalesce(metric.c.value, 0).desc(), Consumer.id]
        page = page.outerjoin(metric, metric.c.consumer_id == Consumer.id)
    else:
        rank = [Consumer.name, Consumer.id]
    chosen = list(await session.scalars(page.order_by(*rank).limit(limit).offset(offset)))
    if not chosen:
        return []
    visits = (select(PointsEntry.consumer_id, func.count(), func.max(PointsEntry.visit_at))
              .where(PointsEntry.company_id == company_id, _is_visit(),
                     PointsEntry.consumer_id.in_(chosen))
              .group_by(PointsEntry.consumer_id))
    spent = (select(PointsEntry.consumer_id, func.sum(PointsEntry.spent))
             .where(PointsEntry.company_id == company_id, _is_spend(),
                    PointsEntry.consumer_id.in_(chosen))
             .group_by(PointsEntry.consumer_id))
    people = await session.execute(
        select(Consumer.id, Consumer.name, Consumer.email, LoyaltyProfile.phone)
        .join(LoyaltyProfile, LoyaltyProfile.consumer_id == Consumer.id)
        .where(Consumer.id.in_(chosen)))
    seen = {who: (int(n), last) for who, n, last in await session.execute(visits)}
    paid = {who: int(total or 0) for who, total in await session.execute(spent)}
    found = {}
    for who, name, email, phone in people:
        times, last = seen.get(who, (0, None))
        found[who] = Member(who, name, email, phone, times, paid.get(who, 0), last)
    return [found[who] for who in chosen if who in found]
