"""A segment's definition as ONE select of the company's customers' ids, counted and listed.

A customer is a consumer with a loyalty profile in the company; every criterion is a
condition on that profile (birthday, consents) or on a column of one grouped scan of the
company's ledger (and one of its used coupons) outer-joined to it, so that the database
answers for 100,000 customers in one statement, as fast with "any" as with "all"; the
rules (month-day ranges wrapping the year's end, calendar months, "never") are computed
here in Python and the SQL is the same on SQLite and PostgreSQL.

What counts, as loyalty's statistics count it (loyalty/figures.py):
- a visit is an EARN entry or a visit added by hand (BY_HAND with a visit time and no
  reward), at its `visit_at`;
- spend is what visits spent less what refunds (TAKE_BACK, negative `spent`) gave back,
  at their `visit_at` (else when they were written);
- a reward taken is one taken with points (REDEEM, or BY_HAND naming a reward), when it
  was written, or a coupon used, when it was used.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    case,
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


def _count_if(*where: ColumnElement[bool]) -> Any:
    return func.sum(case((and_(*where), 1), else_=0))


class _Facts:
    """What the ledger criteria need of each customer, as the columns of ONE grouped scan
    of the company's ledger (and one of its used coupons), outer-joined to the profiles:
    every criterion is then a condition on a column, fast under "all" as under "any"
    (an IN or NOT EXISTS under an OR is checked customer by customer)."""

    def __init__(self, company_id: int, now: datetime) -> None:
        self.company_id, self.now = company_id, now
        self.entries: list[Any] = []
        self.coupons: list[Any] = []
        self._entry_table: Any = None
        self._coupon_table: Any = None

    def entry(self, value: Any) -> Callable[[], Any]:
        name = f"e{len(self.entries)}"
        self.entries.append(value.label(name))
        return lambda: self._entry_table.c[name]

    def coupon(self, value: Any) -> Callable[[], Any]:
        name = f"k{len(self.coupons)}"
        self.coupons.append(value.label(name))
        return lambda: self._coupon_table.c[name]

    def joined(self, chosen: Select[Any]) -> Select[Any]:
        """`chosen` (of the profiles) with the columns asked for outer-joined."""
        if self.entries:
            self._entry_table = (
                select(PointsEntry.consumer_id.label("consumer_id"), *self.entries)
                .where(PointsEntry.company_id == self.company_id)
                .group_by(PointsEntry.consumer_id).subquery("entry_facts"))
            chosen = chosen.outerjoin(self._entry_table,
                                      self._entry_table.c.consumer_id == PROFILE_ID)
        if self.coupons:
            self._coupon_table = (
                select(Coupon.consumer_id.label("consumer_id"), *self.coupons)
                .where(Coupon.company_id == self.company_id, Coupon.consumer_id.is_not(None),
                       Coupon.used_at.is_not(None))
                .group_by(Coupon.consumer_id).subquery("coupon_facts"))
            chosen = chosen.outerjoin(self._coupon_table,
                                      self._coupon_table.c.consumer_id == PROFILE_ID)
        return chosen


Condition = Callable[[], ColumnElement[bool]]  # built once the facts' tables are


def _zero(column: Callable[[], Any]) -> Callable[[], Any]:
    return lambda: func.coalesce(column(), 0)


def _visits(facts: _Facts, rule: Visits) -> Condition:
    since = months_ago(facts.now, rule.months)
    visits = _zero(facts.entry(_count_if(_is_visit(), PointsEntry.visit_at >= since)))
    at_least, at_most = rule.at_least or 0, rule.at_most
    return lambda: and_(visits() >= at_least,
                        true() if at_most is None else visits() <= at_most)


def _spent(facts: _Facts, rule: Spent) -> Condition:
    since = months_ago(facts.now, rule.months)
    spent = _zero(facts.entry(func.sum(case((and_(_is_spend(), WHEN >= since),
                                              PointsEntry.spent), else_=0))))
    return lambda: spent() > rule.amount


def _last_visit(facts: _Facts, rule: LastVisit) -> Condition:
    last = facts.entry(func.max(case((_is_visit(), PointsEntry.visit_at), else_=None)))
    cutoff = facts.now - timedelta(days=rule.days)
    if rule.when == "never":
        return lambda: last().is_(None)
    if rule.when == "after":
        return lambda: last() >= cutoff
    return lambda: last() < cutoff


def _site(facts: _Facts, rule: SiteVisited) -> Condition:
    where = [_is_visit(), PointsEntry.site_id == rule.site_id]
    if rule.months:
        where.append(PointsEntry.visit_at >= months_ago(facts.now, rule.months))
    visits = _zero(facts.entry(_count_if(*where)))
    return lambda: visits() > 0


def _reward_taken(facts: _Facts, rule: RewardTaken) -> Condition:
    since = months_ago(facts.now, rule.months)
    entry = (PointsEntry.reward_id.is_not(None) if rule.reward_id is None
             else PointsEntry.reward_id == rule.reward_id)
    with_points = _zero(facts.entry(_count_if(
        PointsEntry.kind.in_([Kind.REDEEM.value, Kind.BY_HAND.value]),
        PointsEntry.created_at >= since, entry)))
    coupon = [] if rule.reward_id is None else [Coupon.reward_id == rule.reward_id]
    by_coupon = _zero(facts.coupon(_count_if(Coupon.used_at >= since, *coupon)))
    return lambda: or_(with_points() > 0, by_coupon() > 0)


def condition(facts: _Facts, rule: Criterion) -> Condition:
    """One criterion as a condition on the customer's profile row and facts."""
    if isinstance(rule, BirthdayBetween):
        return lambda: and_(LoyaltyProfile.birthday.is_not(None),
                            _between(_md(rule.start), _md(rule.end)))
    if isinstance(rule, BirthdaySoon):
        return lambda: _birthday_soon(rule, facts.now.date())
    if isinstance(rule, Spent):
        return _spent(facts, rule)
    if isinstance(rule, Visits):
        return _visits(facts, rule)
    if isinstance(rule, LastVisit):
        return _last_visit(facts, rule)
    if isinstance(rule, SiteVisited):
        return _site(facts, rule)
    if isinstance(rule, RewardTaken):
        return _reward_taken(facts, rule)
    assert isinstance(rule, Consent)
    column = LoyaltyProfile.email_consent_at if rule.channel == "email" \
        else LoyaltyProfile.sms_consent_at
    return lambda: column.is_not(None)


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


def _best_value(facts: _Facts, best: Best) -> Callable[[], Any]:
    since = months_ago(facts.now, best.months)
    if best.by == "visits":
        return _zero(facts.entry(_count_if(_is_visit(), PointsEntry.visit_at >= since)))
    return _zero(facts.entry(func.sum(case((and_(_is_spend(), WHEN >= since),
                                             PointsEntry.spent), else_=0))))


def matching(company_id: int, definition: Definition, now: datetime) -> Select[Any]:
    """The company's customers the definition takes, as one select of their ids (the best
    N ordered by their visits or spend, ties by the oldest customer first).

    `now`: an aware instant; its date is "today" for birthdays (give it in the venue's
    time zone)."""
    facts = _Facts(company_id, now)
    conditions = [condition(facts, rule) for rule in definition.criteria]
    value = None if definition.best is None else _best_value(facts, definition.best)
    chosen = facts.joined(select(PROFILE_ID.label("consumer_id")))
    built = [make() for make in conditions]
    combined = (true() if not built
                else and_(*built) if definition.match == "all"
                else or_(false(), *built))
    chosen = chosen.where(LoyaltyProfile.company_id == company_id, combined)
    if definition.best is None or value is None:
        return chosen
    return chosen.order_by(value().desc(), PROFILE_ID).limit(definition.best.n)


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
