"""A company's loyalty rules as the rules module takes them; a company that never set
them has the programme switched off."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from loyalty.models import LoyaltyRules
from loyalty.rules import EarnRules


@dataclass(frozen=True)
class Programme:
    enabled: bool = False
    earn: EarnRules = EarnRules()
    contactless_may_redeem: bool = False
    referrer_points: int = 0
    referred_points: int = 0
    profile_points: int = 0


async def programme_of(session: AsyncSession, company_id: int) -> Programme:
    row = await session.get(LoyaltyRules, company_id)
    if row is None:
        return Programme()
    return Programme(
        enabled=row.enabled,
        earn=EarnRules(
            points_per_visit=row.points_per_visit, points_per_unit=row.points_per_unit,
            cap_per_visit=row.cap_per_visit, min_delay=timedelta(minutes=row.min_delay_minutes),
        ),
        contactless_may_redeem=row.contactless_may_redeem,
        referrer_points=row.referrer_points, referred_points=row.referred_points,
        profile_points=row.profile_points,
    )
