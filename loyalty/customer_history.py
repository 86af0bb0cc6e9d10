"""A customer's history as a manager reads it, and the customers' list as exported: read
only, within the sites the member may use.

A visit is an entry that earned (a ticket, a table, a brew: `earn`) or one added by hand
as a visit (`by_hand` with its visit's time). Its spend, less what refunds gave back
(`take_back`), is what the customer spent; the orders are the visits, the average basket
their spend over their number. Rewards taken are the redemptions with points and the
coupons used. A member limited to some sites sees what happened at those sites only: a
visit on no site (or another) is not theirs, and neither is a coupon used elsewhere; a
redemption with points names no site (the customer's balance is the company's), so it is
shown to every member.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import ColumnElement, and_, func, or_, select, true
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import InstrumentedAttribute

from accounts.models import Site
from accounts.service import StaffIdentity
from customers.models import Consumer
from loyalty.customer_admin import viewer
from loyalty.ledger import Kind
from loyalty.models import Coupon, LoyaltyProfile, PointsEntry, Reward
from loyalty.service import matching, searched

SHOWN = 50  # the latest visits and rewards a page lists (the figures count them all)
BATCH = 500  # customers read at a time for an export


@dataclass(frozen=True)
class Visit:
    at: datetime
    site: str | None
    spent: int
    points: int
    by_hand: bool
    note: str


@dataclass(frozen=True)
class Taken:
    """A reward taken: with points (`points` > 0), or by a coupon (0)."""

    at: datetime
    name: str
    points: int
    coupon: bool


@dataclass(frozen=True)
class Entry:
    at: datetime
    kind: str
    points: int
    balance_after: int
    note: str


@dataclass(frozen=True)
class History:
    orders: int
    spend: int
    average: int  # minor units; 0 without orders
    last_visit: datetime | None
    visits: Sequence[Visit]
    rewards: Sequence[Taken]
    rewards_count: int
    entries: Sequence[Entry]  # the latest points moves, every kind


def _visits() -> ColumnElement[bool]:
    return or_(PointsEntry.kind == Kind.EARN,
               and_(PointsEntry.kind == Kind.BY_HAND, PointsEntry.visit_at.is_not(None)))


def _spends() -> ColumnElement[bool]:
    return or_(_visits(), PointsEntry.kind == Kind.TAKE_BACK)


def _at_sites(staff: StaffIdentity, column: InstrumentedAttribute[int | None]
              ) -> ColumnElement[bool]:
    if staff.sites is None:
        return true()
    return column.in_(sorted(staff.sites))


async def history(session: AsyncSession, staff: StaffIdentity, consumer_id: int) -> History:
    """The customer's visits, spend and rewards at the member's sites (see the module)."""
    viewer(staff)
    mine = and_(PointsEntry.consumer_id == consumer_id,
                PointsEntry.company_id == staff.company_id)
    orders, last = (await session.execute(
        select(func.count(), func.max(func.coalesce(PointsEntry.visit_at,
                                                    PointsEntry.created_at)))
        .where(mine, _visits(), _at_sites(staff, PointsEntry.site_id)))).one()
    spend = int(await session.scalar(
        select(func.coalesce(func.sum(PointsEntry.spent), 0))
        .where(mine, _spends(), _at_sites(staff, PointsEntry.site_id))) or 0)
    when = func.coalesce(PointsEntry.visit_at, PointsEntry.created_at)
    visits = [Visit(at, site, spent, points, kind == Kind.BY_HAND, note)
              for at, site, spent, points, kind, note in await session.execute(
                  select(when, Site.name, PointsEntry.spent, PointsEntry.points,
                         PointsEntry.kind, PointsEntry.note)
                  .outerjoin(Site, Site.id == PointsEntry.site_id)
                  .where(mine, _visits(), _at_sites(staff, PointsEntry.site_id))
                  .order_by(when.desc(), PointsEntry.id.desc()).limit(SHOWN))]
    redeemed = (await session.execute(
        select(PointsEntry.created_at, func.coalesce(Reward.name, PointsEntry.note),
               -PointsEntry.points)
        .outerjoin(Reward, Reward.id == PointsEntry.reward_id)
        .where(mine, PointsEntry.kind == Kind.REDEEM,
               or_(PointsEntry.site_id.is_(None), _at_sites(staff, PointsEntry.site_id)))
    )).all()
    coupons = (await session.execute(
        select(Coupon.used_at, Reward.name)
        .join(Reward, Reward.id == Coupon.reward_id)
        .where(Coupon.consumer_id == consumer_id, Coupon.company_id == staff.company_id,
               Coupon.used_at.is_not(None), _at_sites(staff, Coupon.used_site_id))
    )).all()
    rewards = sorted([Taken(at, name, points, False) for at, name, points in redeemed]
                     + [Taken(at, name, 0, True) for at, name in coupons if at is not None],
                     key=lambda taken: taken.at, reverse=True)
    entries = [Entry(*row) for row in await session.execute(
        select(PointsEntry.created_at, PointsEntry.kind, PointsEntry.points,
               PointsEntry.balance_after, PointsEntry.note)
        .where(mine, PointsEntry.points != 0)
        .order_by(PointsEntry.id.desc()).limit(SHOWN))]
    return History(orders, spend, round(spend / orders) if orders else 0, last, visits,
                   rewards[:SHOWN], len(rewards), entries)


@dataclass(frozen=True)
class ExportRow:
    name: str
    email: str
    phone: str | None
    birthday: date | None
    postcode: str | None
    email_consent_at: datetime | None
    sms_consent_at: datetime | None
    balance: int
    visits: int
    spend: int
    last_visit: datetime | None


async def exported(sessions: async_sessionmaker[AsyncSession], staff: StaffIdentity, text: str
                   ) -> AsyncIterator[list[ExportRow]]:
    """The customers the list's search finds, by name, `BATCH` at a time, each batch read
    in a session of its own (`sessions`: a sessionmaker), so that a long export holds no
    transaction open; visits and spend within the member's sites."""
    viewer(staff)
    text = searched(text)
    after: tuple[str, int] | None = None
    while True:
        async with sessions() as session:
            batch = await _batch(session, staff, text, after)
        if not batch:
            return
        yield [row for _, row in batch]
        if len(batch) < BATCH:
            return
        after = batch[-1][0]


async def _batch(session: AsyncSession, staff: StaffIdentity, text: str,
                 after: tuple[str, int] | None) -> list[tuple[tuple[str, int], ExportRow]]:
    query = (select(Consumer.id, Consumer.name, Consumer.email, LoyaltyProfile.phone,
                    LoyaltyProfile.birthday, LoyaltyProfile.postcode,
                    LoyaltyProfile.email_consent_at, LoyaltyProfile.sms_consent_at,
                    LoyaltyProfile.balance)
             .outerjoin(LoyaltyProfile, LoyaltyProfile.consumer_id == Consumer.id)
             .where(Consumer.company_id == staff.company_id))
    if text:
        query = query.where(matching(text))
    if after is not None:
        query = query.where(or_(Consumer.name > after[0],
                                and_(Consumer.name == after[0], Consumer.id > after[1])))
    rows = (await session.execute(query.order_by(Consumer.name, Consumer.id)
                                  .limit(BATCH))).all()
    ids = [row[0] for row in rows]
    figures: dict[int, tuple[int, int, datetime | None]] = {}
    if ids:
        is_visit = _visits()
        for consumer_id, visits, spend, last in await session.execute(
            select(PointsEntry.consumer_id,
                   func.count(PointsEntry.id).filter(is_visit),
                   func.coalesce(func.sum(PointsEntry.spent), 0),
                   func.max(PointsEntry.visit_at).filter(is_visit))
            .where(PointsEntry.consumer_id.in_(ids), PointsEntry.company_id == staff.company_id,
                   _spends(), _at_sites(staff, PointsEntry.site_id))
            .group_by(PointsEntry.consumer_id)
        ):
            figures[consumer_id] = (int(visits), int(spend), last)
    out = []
    for cid, name, email, phone, birthday, postcode, by_mail, by_sms, balance in rows:
        visits, spend, last = figures.get(cid, (0, 0, None))
        out.append(((name, cid), ExportRow(name, email, phone, birthday, postcode, by_mail,
                                           by_sms, balance or 0, visits, spend, last)))
    return out
