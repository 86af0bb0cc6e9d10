"""The archives Comptoir keeps: each year's, made once after the year ends (the first sweep
on or after 1 January in the company's time zone), stored and never changed nor removed.

Every process sweeps: the company is locked, then the year looked for, so that of two
processes sweeping at once one makes the archive and the other finds it made (the unique
constraint on company and period stands behind it). Archives of other periods are made on
demand (the back office) and downloaded, not kept.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from accounts.models import Company
from payments.secret_box import SecretBox
from pos import clock
from pos.archive import make_archive
from pos.journal import lock_company, to_the_second
from pos.models import StoredArchive, Till
from pos.periods import bounds, local_day, year_span, zone_of
from realtime.bus import Bus
from realtime.events import Tx, run

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ArchiveRow:
    """A kept archive as listed (without its bytes)."""

    id: int
    period_start: date
    period_end: date
    created_at: datetime
    name: str
    sha256: str
    size: int
    scheduled: bool


async def keep_year(tx: Tx, box: SecretBox, company_id: int, year: int) -> StoredArchive | None:
    """The company's archive of `year`, made and kept unless it already is (then None)."""
    first, last = year_span(year)
    await lock_company(tx, company_id)  # a second sweeper waits here, then finds it made
    made = await tx.session.scalar(select(StoredArchive.id).where(
        StoredArchive.company_id == company_id, StoredArchive.period_start == first,
        StoredArchive.period_end == last))
    if made is not None:
        return None
    archive = await make_archive(tx, box, company_id, first, last, None)
    kept = StoredArchive(
        company_id=company_id, period_start=first, period_end=last,
        created_at=to_the_second(clock.now()), staff_id=None, name=archive.name,
        sha256=hashlib.sha256(archive.data).hexdigest(), size=len(archive.data),
        data=archive.data)
    tx.session.add(kept)
    await tx.session.flush()
    return kept


async def years_due(session: AsyncSession, now: datetime) -> list[tuple[int, int]]:
    """(company, year) whose year is over in the company's calendar, that had a till before
    it ended, and whose archive is not kept yet: the previous year only (a company that
    began with Comptoir this year has none to make)."""
    due: list[tuple[int, int]] = []
    companies = (await session.execute(
        select(Company.id, func.min(Till.created_at))
        .join(Till, Till.company_id == Company.id).group_by(Company.id).order_by(Company.id)
    )).all()
    for company_id, first_till in companies:
        zone = await zone_of(session, company_id)
        year = local_day(now, zone).year - 1
        first, last = year_span(year)
        _, year_end = bounds(first, last, zone)
        if clock.aware(first_till) >= year_end:
            continue
        kept = await session.scalar(select(StoredArchive.id).where(
            StoredArchive.company_id == company_id, StoredArchive.period_start == first,
            StoredArchive.period_end == last))
        if kept is None:
            due.append((company_id, year))
    return due


async def sweep_once(
    sessionmaker: async_sessionmaker[AsyncSession], bus: Bus, box: SecretBox,
    now: datetime | None = None,
) -> int:
    """Make the yearly archives that are due; how many this process made."""
    moment = now or clock.now()
    async with sessionmaker() as session:
        due = await years_due(session, moment)
    made = 0
    for company_id, year in due:

        async def keep(tx: Tx, company_id: int = company_id, year: int = year
                       ) -> StoredArchive | None:
            return await keep_year(tx, box, company_id, year)

        try:
            kept = await run(sessionmaker, bus, keep)
        except IntegrityError:  # another process kept it first
            continue
        if kept is not None:
            made += 1
            log.info("archive of %s kept for company %s", year, company_id)
    return made


async def kept_archives(session: AsyncSession, company_id: int) -> list[ArchiveRow]:
    rows = (await session.execute(
        select(StoredArchive.id, StoredArchive.period_start, StoredArchive.period_end,
               StoredArchive.created_at, StoredArchive.name, StoredArchive.sha256,
               StoredArchive.size, StoredArchive.staff_id)
        .where(StoredArchive.company_id == company_id)
        .order_by(StoredArchive.period_start.desc(), StoredArchive.id.desc())
    )).all()
    return [ArchiveRow(r.id, r.period_start, r.period_end, r.created_at, r.name, r.sha256,
                       r.size, r.staff_id is None) for r in rows]
