"""The daily Z with tills that sync: it waits for every paired till of the site that syncs,
until the till has synced since the Z was asked (`ask_to_close`, which also pushes "sync
now" to each till's live topic), unless a supervisor declared it out of service for the
day (`declare_out_of_service`, journalled). `sync_state` is pos/closings.py's hook.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from pos import clock
from pos.closings import TillSync
from pos.errors import UnknownTill
from pos.journal import JournalKind, write
from pos.models import CloseRequest, Till
from pos.periods import local_day, zone_of
from pos.till_topic import topic_of
from pos.tills import lock_till
from realtime.events import Tx

REASK_AFTER = timedelta(minutes=10)  # a Z asked longer ago than this is asked afresh


async def sync_state(session: AsyncSession, till: Till, day: date) -> TillSync:
    """pos/closings.py's hook: may the site's Z of `day` go without waiting for this till?"""
    if till.out_of_service_day == day:
        return TillSync.OUT_OF_SERVICE
    if till.revoked_at is not None or not till.credential_hash or till.synced_at is None:
        return TillSync.IN  # not a till that syncs: its records reach the server at once
    asked = await session.scalar(select(CloseRequest.requested_at).where(
        CloseRequest.site_id == till.site_id, CloseRequest.day == day))
    if asked is None or clock.aware(till.synced_at) < clock.aware(asked):
        return TillSync.WAITING
    return TillSync.IN


async def ask_to_close(tx: Tx, company_id: int, site_id: int, day: date | None) -> list[str]:
    """Note that the site's Z of `day` (today: None) was asked for, now (or keep an earlier
    ask from the last ten minutes), and push "sync now" to each till that has not synced
    since. Runs in its own transaction before the closing, which a refusal rolls back.
    Returns the prefixes of the tills asked."""
    zone = await zone_of(tx.session, company_id)
    now = clock.now()
    day = day or local_day(now, zone)
    asked = await tx.session.scalar(select(CloseRequest).where(
        CloseRequest.site_id == site_id, CloseRequest.day == day))
    if asked is None:
        asked = CloseRequest(company_id=company_id, site_id=site_id, day=day, requested_at=now)
        tx.session.add(asked)
    elif now - clock.aware(asked.requested_at) > REASK_AFTER:
        asked.requested_at = now
    await tx.session.flush()
    tills = (await tx.session.scalars(select(Till).where(
        Till.site_id == site_id, Till.company_id == company_id, Till.revoked_at.is_(None),
        Till.credential_hash.is_not(None)).order_by(Till.id))).all()
    pushed = []
    for till in tills:
        if till.out_of_service_day == day:
            continue
        if till.synced_at is not None and clock.aware(till.synced_at) >= clock.aware(
                asked.requested_at):
            continue
        view = {"till_id": till.id, "synced_at": None}

        async def snapshot(view: dict[str, Any] = view) -> dict[str, Any]:
            return view

        await tx.emit(topic_of(till), "sync_now", {"day": day.isoformat(),
                                                   "asked_at": now.isoformat()}, snapshot)
        pushed.append(till.prefix)
    return pushed


@dataclass(frozen=True)
class TillStatus:
    till: Till
    waiting: bool  # holds the Z back
    out_of_service: bool


async def tills_status(session: AsyncSession, company_id: int, site_id: int, day: date
                       ) -> list[TillStatus]:
    """The site's tills as the Z sees them: for the reports page."""
    tills = (await session.scalars(select(Till).where(
        Till.site_id == site_id, Till.company_id == company_id, Till.revoked_at.is_(None))
        .order_by(Till.prefix))).all()
    out = []
    for till in tills:
        state = await sync_state(session, till, day)
        out.append(TillStatus(till, state is TillSync.WAITING,
                              state is TillSync.OUT_OF_SERVICE))
    return out


async def declare_out_of_service(tx: Tx, company_id: int, site_id: int, till_id: int,
                                 staff_id: int, reason: str) -> Till:
    """A supervisor declares a silent till out of service for today: today's Z does not
    wait for it; its sales count in the period they arrive in. Journalled."""
    till = await lock_till(tx, till_id, company_id=company_id)
    if till.site_id != site_id:
        raise UnknownTill()
    zone = await zone_of(tx.session, company_id)
    day = local_day(clock.now(), zone)
    if till.out_of_service_day != day:
        till.out_of_service_day = day
        await write(tx, company_id, JournalKind.TILL_OUT_OF_SERVICE, {
            "prefix": till.prefix, "day": day.isoformat(),
            "reason": " ".join(reason.split())[:200],
            "acked_sequence": till.acked_sequence,
            "last_contact": till.last_seen_at.isoformat() if till.last_seen_at else None,
        }, site_id=site_id, till_id=till.id, staff_id=staff_id)
    return till
