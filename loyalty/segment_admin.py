"""A company's segments, as its managers keep them: add, rename and change the definition,
copy, delete. Every change is audited; a definition naming another company's site or
reward is refused as a bad field. Campaigns keep their segment's id (SET NULL on delete).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from accounts.models import Site
from accounts.service import StaffIdentity
from db.base import utcnow
from domain import audit
from errors import N_
from loyalty.campaigns import Status
from loyalty.errors import SegmentInUse, UnknownSegment
from loyalty.models import Campaign, Reward, Segment
from loyalty.segments import Definition, RewardTaken, SiteVisited, parse, refusal, stored
from realtime.events import Tx

NAME_LENGTH = 120


def checked_name(name: str) -> str:
    cleaned = " ".join(name.split())
    if not cleaned or len(cleaned) > NAME_LENGTH:
        raise refusal("name", N_("Give the segment a name of 1 to 120 characters."))
    return cleaned


async def checked(session: AsyncSession, company_id: int, data: Any) -> Definition:
    """`data` as a definition whose sites and rewards are the company's."""
    definition = parse(data)
    sites = set(await session.scalars(select(Site.id).where(Site.company_id == company_id)))
    rewards = set(await session.scalars(
        select(Reward.id).where(Reward.company_id == company_id)))
    for index, rule in enumerate(definition.criteria):
        if isinstance(rule, SiteVisited) and rule.site_id not in sites:
            raise refusal(f"criteria.{index}.site_id",
                          N_("Choose one of the company's sites."))
        if isinstance(rule, RewardTaken) and rule.reward_id is not None \
                and rule.reward_id not in rewards:
            raise refusal(f"criteria.{index}.reward_id",
                          N_("Choose one of the company's rewards."))
    return definition


async def segment_of(session: AsyncSession, company_id: int, segment_id: int) -> Segment:
    """One of the company's segments; another company's is not found."""
    segment = await session.get(Segment, segment_id)
    if segment is None or segment.company_id != company_id:
        raise UnknownSegment()
    return segment


async def segments(session: AsyncSession, company_id: int) -> list[Segment]:
    return list(await session.scalars(
        select(Segment).where(Segment.company_id == company_id)
        .order_by(Segment.name, Segment.id)))


def _target(segment: Segment) -> str:
    return f"segment:{segment.id}"


def _shown(segment: Segment) -> dict[str, Any]:
    return {"name": segment.name, "definition": segment.definition}


async def add(tx: Tx, staff: StaffIdentity, name: str, data: Any,
              now: datetime | None = None) -> Segment:
    name = checked_name(name)
    definition = await checked(tx.session, staff.company_id, data)
    at = now or utcnow()
    segment = Segment(company_id=staff.company_id, name=name, definition=stored(definition),
                      created_at=at, updated_at=at)
    tx.session.add(segment)
    await tx.session.flush()
    await audit.record(tx, staff.id, staff.company_id, "segment.added", _target(segment),
                       _shown(segment))
    return segment


async def edit(tx: Tx, staff: StaffIdentity, segment_id: int, name: str, data: Any,
               now: datetime | None = None) -> Segment:
    """A new name and definition; nothing is written if either is refused."""
    segment = await segment_of(tx.session, staff.company_id, segment_id)
    name = checked_name(name)
    definition = stored(await checked(tx.session, staff.company_id, data))
    before = _shown(segment)
    segment.name, segment.definition = name, definition
    changes = audit.diff(before, _shown(segment))
    if changes:
        segment.updated_at = now or utcnow()
        await tx.session.flush()
        await audit.record(tx, staff.id, staff.company_id, "segment.changed",
                           _target(segment), changes)
    return segment


async def duplicate(tx: Tx, staff: StaffIdentity, segment_id: int, copy_name: str,
                    now: datetime | None = None) -> Segment:
    """A copy named `copy_name` % the source's name ("Copy of %(name)s", translated by the
    caller), cut to the column's length."""
    source = await segment_of(tx.session, staff.company_id, segment_id)
    at = now or utcnow()
    copy = Segment(company_id=source.company_id,
                   name=(copy_name % {"name": source.name})[:NAME_LENGTH],
                   definition=dict(source.definition), created_at=at, updated_at=at)
    tx.session.add(copy)
    await tx.session.flush()
    await audit.record(tx, staff.id, staff.company_id, "segment.duplicated", _target(copy),
                       {**_shown(copy), "copy_of_segment": source.id})
    return copy


async def delete(tx: Tx, staff: StaffIdentity, segment_id: int) -> None:
    """Refused while a campaign not yet sent names the segment: deleting it would leave
    that campaign with no segment, which means every customer."""
    segment = await segment_of(tx.session, staff.company_id, segment_id)
    waiting = await tx.session.scalar(select(Campaign.name).where(
        Campaign.segment_id == segment.id,
        Campaign.status.in_((Status.DRAFT, Status.SCHEDULED, Status.SENDING))).limit(1))
    if waiting is not None:
        raise SegmentInUse(campaign=waiting)
    await audit.record(tx, staff.id, staff.company_id, "segment.deleted", _target(segment),
                       _shown(segment))
    await tx.session.delete(segment)
    await tx.session.flush()
