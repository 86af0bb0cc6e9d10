"""Setting up the company and its sites: name, currency, time zone, language, launch
date; each site's brand, address, opening hours and the minutes after which a ticket waiting
on its kitchen and bar displays turns amber, then red; archiving a site (it keeps its
history).

Every change is written to the audit log with what changed. Callers check the form's
shapes (backoffice/site_forms.py); the rules that need the data are here.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from accounts.models import Company, Site
from accounts.roles import Permission
from accounts.service import StaffIdentity
from accounts.tenant import site_for
from domain import audit
from errors import N_, InvalidInput
from realtime.events import Tx

# The checklist this follows asks for the launch to be planned at least five days ahead.
LAUNCH_NOTICE = timedelta(days=5)


class LaunchTooSoon(InvalidInput):
    """The planned launch date is less than five days ahead."""

    code = "launch_too_soon"
    message = N_("Plan the launch at least five days ahead (on %(earliest)s or later).")


class ThresholdsOutOfOrder(InvalidInput):
    """A ticket would turn red before (or as) it turns amber."""

    code = "wait_thresholds_out_of_order"
    message = N_("Red comes after amber: give more minutes than for amber (%(amber)s).")


@dataclass(frozen=True)
class CompanyDetails:
    name: str
    currency: str
    timezone: str
    locale: str
    launch_on: date | None


@dataclass(frozen=True)
class SiteDetails:
    name: str
    address: str
    opening_hours: str
    # Minutes a ticket waits on a display before it shows amber, then red; None: unchanged
    # (a new site starts at the model's defaults).
    ticket_amber_min: int | None = None
    ticket_red_min: int | None = None
    # The till's: the largest discount a cashier gives alone (percent), and after how many
    # hours offline a till warns; None: unchanged.
    discount_limit_percent: int | None = None
    offline_warn_hours: int | None = None


def check_thresholds(amber_min: int, red_min: int) -> None:
    """Amber comes first: the red threshold is more minutes than the amber one."""
    if red_min <= amber_min:
        error = ThresholdsOutOfOrder(amber=amber_min)
        error.field = "ticket_red_min"
        raise error


def _given(new: SiteDetails) -> dict[str, object]:
    return {key: value for key, value in asdict(new).items() if value is not None}


def today_at(timezone: str, now: datetime) -> date:
    """The company's calendar day at `now` (the server's clock, in its time zone)."""
    return now.astimezone(ZoneInfo(timezone)).date()


def earliest_launch(today: date) -> date:
    return today + LAUNCH_NOTICE


def check_launch(launch_on: date | None, today: date) -> None:
    """A launch date, when set, is at least five days after `today`."""
    if launch_on is not None and launch_on < earliest_launch(today):
        error = LaunchTooSoon(earliest=earliest_launch(today).isoformat())
        error.field = "launch_on"
        raise error


def _company_fields(company: Company) -> dict[str, object]:
    return {"name": company.name, "currency": company.currency, "timezone": company.timezone,
            "locale": company.locale,
            "launch_on": company.launch_on.isoformat() if company.launch_on else None}


async def update_company(tx: Tx, staff: StaffIdentity, new: CompanyDetails) -> Company:
    staff.require(Permission.CONFIGURE)
    company = await tx.session.get(Company, staff.company_id)
    assert company is not None  # a staff member's company exists
    if new.launch_on != company.launch_on:  # a date kept as it was is not checked again
        check_launch(new.launch_on, today_at(new.timezone, datetime.now(UTC)))
    before = _company_fields(company)
    company.name, company.currency, company.timezone = new.name, new.currency, new.timezone
    company.locale, company.launch_on = new.locale, new.launch_on
    changes = audit.diff(before, _company_fields(company))
    if changes:
        await audit.record(tx, staff.id, company.id, "company.updated", company.name, changes)
    await tx.session.flush()
    return company


def _site_target(site: Site) -> str:
    return f"{site.name} (#{site.id})"


def _site_fields(site: Site) -> dict[str, object]:
    return {"name": site.name, "address": site.address, "opening_hours": site.opening_hours,
            "ticket_amber_min": site.ticket_amber_min, "ticket_red_min": site.ticket_red_min,
            "discount_limit_percent": site.discount_limit_percent,
            "offline_warn_hours": site.offline_warn_hours}


async def add_site(tx: Tx, staff: StaffIdentity, new: SiteDetails, table_mode: str) -> Site:
    """A new site, its ordering mode chosen with it (it has no tables yet to tell)."""
    staff.require(Permission.CONFIGURE)
    site = Site(company_id=staff.company_id, table_mode=table_mode,
                mode_chosen_at=datetime.now(UTC), **_given(new))
    tx.session.add(site)
    await tx.session.flush()
    check_thresholds(site.ticket_amber_min, site.ticket_red_min)
    await audit.record(tx, staff.id, staff.company_id, "site.added", _site_target(site),
                       {**_site_fields(site), "table_mode": table_mode})
    return site


async def update_site(tx: Tx, staff: StaffIdentity, site_id: object, new: SiteDetails) -> Site:
    staff.require(Permission.CONFIGURE)
    site = await site_for(tx.session, staff, site_id)
    check_thresholds(
        site.ticket_amber_min if new.ticket_amber_min is None else new.ticket_amber_min,
        site.ticket_red_min if new.ticket_red_min is None else new.ticket_red_min,
    )
    before = _site_fields(site)
    after = {**before, **_given(new)}
    changes = audit.diff(before, after)
    if changes:
        for key, value in after.items():
            setattr(site, key, value)
        await tx.session.flush()
        await audit.record(tx, staff.id, staff.company_id, "site.updated", _site_target(site),
                           changes)
    return site


async def archive_site(tx: Tx, staff: StaffIdentity, site_id: object, archived: bool) -> Site:
    """Archive a site (it leaves the lists and the POS, its history stays), or bring it
    back. Idempotent."""
    staff.require(Permission.CONFIGURE)
    site = await site_for(tx.session, staff, site_id)
    if (site.archived_at is not None) != archived:
        site.archived_at = datetime.now(UTC) if archived else None
        await tx.session.flush()
        await audit.record(tx, staff.id, staff.company_id,
                           "site.archived" if archived else "site.restored",
                           _site_target(site), {})
    return site
