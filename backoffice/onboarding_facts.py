"""What the onboarding checklist reads of a company: its open sites (with their tables,
products, mode and printed QR codes), its active staff, the payment provider, the launch.

`site_missing` is the check app.py hands to ordering/readiness.py: a site sells only once
the blocking steps are done.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from accounts.company_service import today_at
from accounts.models import Company, Site, Staff
from backoffice import onboarding
from backoffice.onboarding import Facts, SiteFacts, StaffFacts
from ordering.models import DiningTable, Product
from payments import provider_settings
from settings import Settings


def has_pin(staff: Staff) -> bool:
    """Has this member of staff a personal PIN? Until staff carry one (a `pin_hash`
    column, to come with the staff pages), nobody can lack it: the step is then done."""
    if not hasattr(Staff, "pin_hash"):
        return True
    return bool(getattr(staff, "pin_hash", None))


async def _counts(
    session: AsyncSession, model: type[DiningTable] | type[Product], site_ids: list[int]
) -> dict[int, int]:
    rows = await session.execute(
        select(model.site_id, func.count()).where(model.site_id.in_(site_ids))
        .group_by(model.site_id)
    )
    return {site_id: count for site_id, count in rows}


async def facts_of(
    session: AsyncSession, company_id: int, settings: Settings | None = None
) -> Facts:
    """The company's facts; without `settings`, the payment provider is not looked up (it
    blocks nothing) and counts as not connected."""
    company = await session.get(Company, company_id)
    assert company is not None
    sites = (await session.scalars(
        select(Site).where(Site.company_id == company_id, Site.archived_at.is_(None))
        .order_by(Site.id)
    )).all()
    ids = [site.id for site in sites]
    tables = await _counts(session, DiningTable, ids)
    products = await _counts(session, Product, ids)
    staff = (await session.scalars(
        select(Staff).where(Staff.company_id == company_id, Staff.active.is_(True))
    )).all()
    connected = False
    if settings is not None:
        config = await provider_settings.config_for(session, company_id, settings)
        connected = config.provider != "none" and not config.unreadable
    return Facts(
        sites=tuple(
            SiteFacts(site.id, site.name, site.address, tables.get(site.id, 0),
                      products.get(site.id, 0), site.mode_chosen_at is not None,
                      site.qr_printed_at is not None)
            for site in sites
        ),
        staff=tuple(StaffFacts(s.role, has_pin(s)) for s in staff),
        payment_connected=connected,
        launch_on=company.launch_on,
        today=today_at(company.timezone, datetime.now(UTC)),
    )


async def site_missing(session: AsyncSession, site_id: int) -> list[str]:
    """The blocking steps this site still misses before its POS may sell."""
    company_id = await session.scalar(select(Site.company_id).where(Site.id == site_id))
    if company_id is None:
        return [onboarding.STEPS[onboarding.StepCode.SITE][1]]
    return onboarding.site_missing(await facts_of(session, company_id), site_id)
