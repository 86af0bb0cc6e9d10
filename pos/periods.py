"""Days, months and years in the company's calendar, and the closings that cover them."""

from __future__ import annotations

import calendar
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from accounts.models import Company
from pos.models import Closing


async def zone_of(session: AsyncSession, company_id: int) -> ZoneInfo:
    company = await session.get(Company, company_id)
    return ZoneInfo(company.timezone if company else "Europe/Paris")


def local_day(at: datetime, zone: ZoneInfo) -> date:
    return at.astimezone(zone).date()


def bounds(first: date, last: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """From the start of `first` to the start of the day after `last`, as moments."""
    start = datetime.combine(first, time(), zone)
    end = datetime.combine(last + timedelta(days=1), time(), zone)
    return start, end


def month_span(year: int, month: int) -> tuple[date, date]:
    return date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1])


def year_span(year: int) -> tuple[date, date]:
    return date(year, 1, 1), date(year, 12, 31)


async def closing_covering(session: AsyncSession, site_id: int, day: date) -> Closing | None:
    """A closing of the site whose period holds `day`: nothing may be recorded on it."""
    return await session.scalar(
        select(Closing).where(
            Closing.site_id == site_id, Closing.period_start <= day, Closing.period_end >= day
        ).order_by(Closing.id).limit(1)
    )
