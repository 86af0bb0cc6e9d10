"""The back office's home: the onboarding checklist, and its progress for every page's
navigation (templates/backoffice/layout.html fetches it); the day, live (backoffice/live_day.py),
whose fragment the page fetches again at each change of the topics it watches; this week's
loyalty figures (backoffice/loyalty_stats.py), for those who read the statistics."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from accounts.context import staff_of
from accounts.models import Company
from accounts.roles import Permission
from accounts.service import StaffIdentity
from accounts.tenant import site_for
from backoffice import onboarding
from backoffice.forms import member_for, signed_in
from backoffice.live_day import LiveDay, live_day, topics_of
from backoffice.loyalty_stats import this_week
from backoffice.onboarding_facts import facts_of
from web.state import app_state, locale_of
from web.templating import page


async def _checklist(
    request: Request, staff: StaffIdentity
) -> tuple[onboarding.Facts, list[onboarding.Step]]:
    state = app_state(request)
    async with state.sessionmaker() as session:
        facts = await facts_of(session, staff.company_id, state.settings)
    # A site-limited member's checklist names their sites only (the rest is company-wide).
    facts = replace(facts, sites=tuple(s for s in facts.sites if staff.may_use(s.id)))
    return facts, onboarding.checklist(facts)


async def _day(request: Request, staff: StaffIdentity) -> LiveDay:
    """The day as this member may see it, of the site asked (`?site=`), else of all theirs."""
    raw = request.query_params.get("site", "")
    async with app_state(request).sessionmaker() as session:
        site = await site_for(session, staff, int(raw) if raw.isdecimal() and len(raw) < 19
                              else raw) if raw else None
        return await live_day(session, staff, site.id if site else None)


async def home(request: Request) -> Response:
    """The day, live, as far as the role sees it; the checklist (what is done, what is left,
    each step a link to its page) for those who set the venue up; the sections of the
    navigation for everyone else."""
    staff = await member_for(request)
    if isinstance(staff, Response):
        return staff
    async with app_state(request).sessionmaker() as session:
        company = await session.get(Company, staff.company_id)
    assert company is not None  # a staff row refers to its company
    day = await _day(request, staff)
    async with app_state(request).sessionmaker() as session:
        week = await this_week(session, staff, day.site_id, locale_of(request))
    live: dict[str, Any] = {"day": day, "topics": topics_of(day), "loyalty": week}
    if not staff.may(Permission.CONFIGURE):
        return page(request, "backoffice/home.html", staff=staff, steps=None, company=company,
                    **live)
    facts, steps = await _checklist(request, staff)
    return page(request, "backoffice/home.html", staff=staff, steps=steps, company=company,
                progress=onboarding.progress(steps), launched=onboarding.launched(facts),
                launch_on=facts.launch_on, **live)


async def home_live(request: Request) -> Response:
    """The day's fragment alone, which the home fetches again when something moved."""
    staff = await signed_in(request)
    return page(request, "backoffice/_live_day.html", day=await _day(request, staff))


async def progress(request: Request) -> Response:
    """The checklist's progress, for the navigation of every back-office page; nothing once
    the venue has launched (or for a role that does not set it up)."""
    staff = await staff_of(request)
    if staff is None or not staff.may(Permission.CONFIGURE):
        return HTMLResponse("")
    facts, steps = await _checklist(request, staff)
    if onboarding.launched(facts):
        return HTMLResponse("")
    return page(request, "backoffice/_progress.html", progress=onboarding.progress(steps))


routes = [
    Route("/backoffice", home),
    Route("/backoffice/home/live", home_live),
    Route("/backoffice/progress", progress),
]
