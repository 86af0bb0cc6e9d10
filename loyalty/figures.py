"""Loyalty's statistics, read from its own ledger and coupons: visits of identified
customers, new and returning ones, what they spent, what the rewards they took cost the
venue, the rewards most chosen, the last customers and rewards, the busiest hours.

A window is a span of instants [start, end) of one company, over some sites or all. What
counts, and when:
- a visit is an EARN entry (recorded even for 0 points while the programme is on) or a
  visit added by hand (BY_HAND with a visit time and no reward), at its `visit_at`;
- a refund (TAKE_BACK, negative `spent`) counts when it happened (its `visit_at`, else
  when it was heard), so the revenue is net of the refunds made in the window;
- a reward is taken with points (REDEEM, or BY_HAND naming a reward) when it was posted,
  or by a coupon when it was used (`used_at`, at `used_site_id`); points given back for an
  abandoned ticket or bill (GIVEN_BACK naming its reward) take one back;
- a new customer is one whose first visit ever at the window's sites falls in it.
An entry without a site counts only when no site is chosen.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from accounts.models import Site
from customers.models import Consumer
from db.engine import on_postgresql
from loyalty.ledger import Kind
from loyalty.models import Coupon, PointsEntry, Reward

LAST_CUSTOMERS = 20
LAST_REWARDS = 10
TOP_REWARDS = 10


@dataclass(frozen=True)
class Window:
    company_id: int
    start: datetime  # included
    end: datetime  # excluded
    sites: frozenset[int] | None  # None: every site (and entries kept on none)
    tz: str  # the company's: the weekdays and hours of the heat map


def window(company_id: int, first: date, last: date, sites: frozenset[int] | None,
           tz: str) -> Window:
    """The instants of whole local days, `first` to `last` included: from the first's
    midnight to the midnight after the last, in the company's time zone."""
    zone = ZoneInfo(tz)
    return Window(company_id,
                  datetime.combine(first, time(), zone).astimezone(UTC),
                  datetime.combine(last + timedelta(days=1), time(), zone).astimezone(UTC),
                  sites, tz)


@dataclass(frozen=True)
class Totals:
    """Money in minor units."""

    visits: int
    customers: int
    new_customers: int
    revenue: int  # net of the window's refunds
    cost: int  # what the rewards taken cost the venue
    rewards_taken: int

    @property
    def returning(self) -> int:
        return self.customers - self.new_customers

    @property
    def basket(self) -> int:
        """Revenue per visit, to the nearest unit (halves up)."""
        return _ratio(self.revenue, self.visits)

    @property
    def cost_share(self) -> float | None:
        """The cost of loyalty against what the identified customers spent; None over
        nothing spent."""
        return self.cost / self.revenue if self.revenue > 0 else None


@dataclass(frozen=True)
class RewardCount:
    reward_id: int
    name: str
    count: int
    cost: int


@dataclass(frozen=True)
class LastCustomer:
    consumer_id: int
    name: str
    at: datetime  # their last visit in the window
    site: str  # its site's name ("" when none)
    spent: int  # what that visit spent
    visits: int  # their visits in the window


@dataclass(frozen=True)
class LastReward:
    at: datetime
    consumer_id: int | None  # None: a coupon of nobody's
    customer: str
    reward: str
    site: str
    by_coupon: bool


@dataclass(frozen=True)
class Figures:
    totals: Totals
    rewards: list[RewardCount]  # most chosen first
    last_customers: list[LastCustomer]
    last_rewards: list[LastReward]
    heat: dict[tuple[int, int], int] = field(default_factory=dict)  # (ISO weekday, hour)

    @property
    def empty(self) -> bool:
        return not self.totals.visits and not self.totals.rewards_taken \
            and not self.totals.revenue


def _ratio(numerator: int, denominator: int) -> int:
    return (2 * numerator + denominator) // (2 * denominator) if denominator > 0 else 0


def _in_sites(column: InstrumentedAttribute[int | None],
              window: Window) -> list[ColumnElement[bool]]:
    return [] if window.sites is None else [column.in_(sorted(window.sites))]


def _is_visit() -> ColumnElement[bool]:
    return or_(PointsEntry.kind == Kind.EARN.value,
               and_(PointsEntry.kind == Kind.BY_HAND.value, PointsEntry.reward_id.is_(None),
                    PointsEntry.visit_at.is_not(None)))


def _visits(window: Window, *, anytime: bool = False) -> list[ColumnElement[bool]]:
    where = [PointsEntry.company_id == window.company_id, _is_visit(),
             *_in_sites(PointsEntry.site_id, window)]
    if not anytime:
        where += [PointsEntry.visit_at >= window.start, PointsEntry.visit_at < window.end]
    return where


TAKEN = (Kind.REDEEM.value, Kind.BY_HAND.value)


def _taken_with_points(window: Window, kinds: tuple[str, ...] = (*TAKEN, Kind.GIVEN_BACK.value)
                       ) -> list[ColumnElement[bool]]:
    """Rewards taken with points (or given back: counted -1 by the caller) in the window."""
    return [PointsEntry.company_id == window.company_id, PointsEntry.reward_id.is_not(None),
            PointsEntry.kind.in_(kinds),
            PointsEntry.created_at >= window.start, PointsEntry.created_at < window.end,
            *_in_sites(PointsEntry.site_id, window)]


def _taken_by_coupon(window: Window) -> list[ColumnElement[bool]]:
    return [Coupon.company_id == window.company_id, Coupon.used_at >= window.start,
            Coupon.used_at < window.end, *_in_sites(Coupon.used_site_id, window)]


async def totals(session: AsyncSession, window: Window,
                 rewards: list[RewardCount] | None = None) -> Totals:
    """`rewards`: every reward taken in the window, when the caller has them already."""
    visits, customers, spent = (await session.execute(
        select(func.count(), func.count(func.distinct(PointsEntry.consumer_id)),
               func.coalesce(func.sum(PointsEntry.spent), 0)).where(*_visits(window))
    )).one()
    when = func.coalesce(PointsEntry.visit_at, PointsEntry.created_at)
    refunded = await session.scalar(
        select(func.coalesce(func.sum(PointsEntry.spent), 0).label("refunded")).where(
            PointsEntry.company_id == window.company_id,
            PointsEntry.kind == Kind.TAKE_BACK.value, when >= window.start, when < window.end,
            *_in_sites(PointsEntry.site_id, window)))
    seen = select(PointsEntry.consumer_id).where(*_visits(window)).distinct()
    first_visits = (select(PointsEntry.consumer_id)
                    .where(*_visits(window, anytime=True), PointsEntry.consumer_id.in_(seen))
                    .group_by(PointsEntry.consumer_id)
                    .having(func.min(PointsEntry.visit_at) >= window.start))
    new = await session.scalar(select(func.count()).select_from(first_visits.subquery()))
    if rewards is None:
        rewards = await rewards_chosen(session, window, top=None)
    return Totals(int(visits), int(customers), int(new or 0), int(spent) + int(refunded or 0),
                  sum(r.cost for r in rewards), sum(r.count for r in rewards))


async def rewards_chosen(session: AsyncSession, window: Window,
                         top: int | None = TOP_REWARDS) -> list[RewardCount]:
    """Each reward taken in the window: how often (net of those given back) and what it
    cost the venue (at its cost today), the most chosen first."""
    counts: Counter[int] = Counter()
    points = await session.execute(
        select(PointsEntry.reward_id, PointsEntry.kind, func.count())
        .where(*_taken_with_points(window))
        .group_by(PointsEntry.reward_id, PointsEntry.kind))
    for reward_id, kind, count in points:
        if reward_id is not None:
            counts[reward_id] += -count if kind == Kind.GIVEN_BACK.value else count
    coupons = await session.execute(
        select(Coupon.reward_id, func.count()).where(*_taken_by_coupon(window))
        .group_by(Coupon.reward_id))
    for reward_id, count in coupons:
        counts[int(reward_id)] += count
    if not counts:
        return []
    rewards = {r.id: r for r in await session.scalars(
        select(Reward).where(Reward.id.in_(sorted(counts))))}
    found = [RewardCount(i, rewards[i].name, n, n * rewards[i].venue_cost)
             for i, n in counts.items() if n and i in rewards]
    found.sort(key=lambda r: (-r.count, -r.cost, r.name, r.reward_id))
    return found[:top] if top is not None else found


async def _site_names(session: AsyncSession, company_id: int) -> dict[int, str]:
    rows = await session.execute(select(Site.id, Site.name).where(Site.company_id == company_id))
    return {i: name for i, name in rows}


async def _names(session: AsyncSession, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    rows = await session.execute(select(Consumer.id, Consumer.name)
                                 .where(Consumer.id.in_(sorted(ids))))
    return {i: name for i, name in rows}


async def last_customers(session: AsyncSession, window: Window,
                         sites: dict[int, str]) -> list[LastCustomer]:
    """The customers seen last in the window, each with their last visit there."""
    latest = (select(PointsEntry.consumer_id, func.max(PointsEntry.visit_at).label("at"),
                     func.count().label("visits"))
              .where(*_visits(window)).group_by(PointsEntry.consumer_id)
              .order_by(func.max(PointsEntry.visit_at).desc(), PointsEntry.consumer_id)
              .limit(LAST_CUSTOMERS)).subquery()
    rows = (await session.execute(
        select(PointsEntry.consumer_id, PointsEntry.visit_at, PointsEntry.site_id,
               PointsEntry.spent, latest.c.visits)
        .join(latest, and_(latest.c.consumer_id == PointsEntry.consumer_id,
                           latest.c.at == PointsEntry.visit_at))
        .where(*_visits(window)).order_by(PointsEntry.visit_at.desc(), PointsEntry.id.desc())
    )).all()
    names = await _names(session, {row[0] for row in rows})
    found: dict[int, LastCustomer] = {}
    for consumer_id, at, site_id, spent, visits in rows:
        if consumer_id not in found:  # two visits at the same instant: the later entry
            found[consumer_id] = LastCustomer(consumer_id, names.get(consumer_id, ""), at,
                                              sites.get(site_id, ""), spent, visits)
    return list(found.values())


async def last_rewards(session: AsyncSession, window: Window,
                       sites: dict[int, str]) -> list[LastReward]:
    """The last rewards taken in the window, with points or by coupon."""
    taken: list[tuple[datetime, int | None, int, int | None, bool]] = []
    for at, who, reward_id, site_id in await session.execute(
        select(PointsEntry.created_at, PointsEntry.consumer_id, PointsEntry.reward_id,
               PointsEntry.site_id).where(*_taken_with_points(window, TAKEN))
        .order_by(PointsEntry.created_at.desc(), PointsEntry.id.desc()).limit(LAST_REWARDS)
    ):
        if reward_id is not None:
            taken.append((at, who, reward_id, site_id, False))
    for used_at, owner, coupon_reward, used_site in await session.execute(
        select(Coupon.used_at, Coupon.consumer_id, Coupon.reward_id, Coupon.used_site_id)
        .where(*_taken_by_coupon(window))
        .order_by(Coupon.used_at.desc(), Coupon.id.desc()).limit(LAST_REWARDS)
    ):
        if used_at is not None:
            taken.append((used_at, owner, coupon_reward, used_site, True))
    taken.sort(key=lambda row: row[0], reverse=True)
    del taken[LAST_REWARDS:]
    names = await _names(session, {row[1] for row in taken if row[1] is not None})
    rewards: dict[int, str] = {}
    if taken:
        rewards = {i: name for i, name in await session.execute(
            select(Reward.id, Reward.name).where(Reward.id.in_(sorted({r[2] for r in taken}))))}
    return [LastReward(at, who, names.get(who, "") if who is not None else "",
                       rewards.get(reward_id, ""),
                       sites.get(site_id, "") if site_id is not None else "", by_coupon)
            for at, who, reward_id, site_id, by_coupon in taken]


def _utc_hour(session: AsyncSession) -> ColumnElement[str]:
    """A visit's UTC hour as text ("2026-03-10 09"), the same on both databases."""
    if on_postgresql(session):
        return func.to_char(func.timezone("UTC", PointsEntry.visit_at), "YYYY-MM-DD HH24")
    return func.substr(PointsEntry.visit_at, 1, 13)


async def busiest(session: AsyncSession, window: Window) -> dict[tuple[int, int], int]:
    """Visits by (ISO weekday 1-7, local hour 0-23), every cell; counted by UTC hour in
    the database, then placed in the company's time zone (a zone whose offset is not whole
    hours puts each UTC hour in the local hour it starts in)."""
    hour = _utc_hour(session)
    query = select(hour, func.count()).where(*_visits(window)).group_by(hour)
    zone = ZoneInfo(window.tz)
    grid = {(day, h): 0 for day in range(1, 8) for h in range(24)}
    for text, count in await session.execute(query):
        local = datetime.strptime(text, "%Y-%m-%d %H").replace(tzinfo=UTC).astimezone(zone)
        grid[local.isoweekday(), local.hour] += count
    return grid


async def figures(session: AsyncSession, window: Window) -> Figures:
    sites = await _site_names(session, window.company_id)
    rewards = await rewards_chosen(session, window, top=None)
    return Figures(await totals(session, window, rewards), rewards[:TOP_REWARDS],
                   await last_customers(session, window, sites),
                   await last_rewards(session, window, sites), await busiest(session, window))
