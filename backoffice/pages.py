"""The back office's home: the onboarding checklist, and its progress for every page's
navigation (templates/backoffice/layout.html fetches it)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from accounts.context import staff_of
from accounts.models import Company
from accounts.roles import Permission, can
from accounts.service import StaffIdentity
from backoffice import onboarding
from backoffice.forms import member_for
from backoffice.onboarding_facts import facts_of
from web.state import app_state
from web.templating import page


async def _checklist(
    request: Request, staff: StaffIdentity
) -> tuple[onboarding.Facts, list[onboarding.Step]]:
    state = app_state(request)
    async with state.sessionmaker() as session:
        facts = await facts_of(session, staff.company_id, state.settings)
    return facts, onboarding.checklist(facts)


async def home(request: Request) -> Response:
    """The checklist (what is done, what is left, each step a link to its page) for those
    who set the venue up; the sections of the navigation for everyone else."""
    staff = await member_for(request)
    if isinstance(staff, Response):
        return staff
    async with app_state(request).sessionmaker() as session:
        company = await session.get(Company, staff.company_id)
    assert company is not None  # a staff row refers to its company
    if not can(staff.role, Permission.CONFIGURE):
        return page(request, "backoffice/home.html", staff=staff, steps=None, company=company)
    facts, steps = await _checklist(request, staff)
    return page(request, "backoffice/home.html", staff=staff, steps=steps, company=company,
                progress=onboarding.progress(steps), launched=onboarding.launched(facts),
                launch_on=facts.launch_on)


async def progress(request: Request) -> Response:
    """The checklist's progress, for the navigation of every back-office page; nothing once
    the venue has launched (or for a role that does not set it up)."""
    staff = await staff_of(request)
    if staff is None or not can(staff.role, Permission.CONFIGURE):
        return HTMLResponse("")
    facts, steps = await _checklist(request, staff)
    if onboarding.launched(facts):
        return HTMLResponse("")
    return page(request, "backoffice/_progress.html", progress=onboarding.progress(steps))


routes = [
    Route("/backoffice", home),
    Route("/backoffice/progress", progress),
]
