"""The till's clock: who is clocked in at this site, a big button to clock in or out (the
page, /till/clock), and the same as JSON (POST /api/v1/till/clock)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel
from sqlalchemy import select
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from accounts.api import STAFF
from accounts.context import staff_of
from accounts.models import Company, Site
from accounts.roles import Permission, require
from accounts.service import NotSignedIn, StaffIdentity
from api.endpoint import SIGNED_IN, Endpoint, Reply
from errors import Forbidden, InvalidInput, NotFound
from pos.errors import NotClockedIn
from pos.models import Shift
from pos.shifts import Clocked, Clocking, clock_in, clock_out, clocked_in, open_shift
from realtime.events import Tx
from web.commands import ClientKey, Command, Invalid, command
from web.state import app_state, run_tx
from web.templating import page


class Action(StrEnum):
    IN = "in"
    OUT = "out"


class Clock(Command):
    """Clock in or out; `key` makes a retry change nothing."""

    action: Annotated[Literal["in", "out"], Invalid(InvalidInput)]
    key: ClientKey


class ShiftOut(BaseModel):
    id: int
    staff_id: int
    site_id: int
    till_id: int | None
    clocked_in_at: datetime
    clocked_out_at: datetime | None


class ClockResult(BaseModel):
    shift: ShiftOut
    clocked_in: bool  # after this action
    changed: bool  # False: a retry, or already so


@dataclass(frozen=True)
class AtSite:
    """Who clocks, and where."""

    staff: StaffIdentity
    site_id: int
    till_id: int | None


async def acting(request: Request) -> AtSite:
    """The member of staff acting at this till, who may clock.

    For now, the signed-in staff member at the first site they may use. Once the till's
    device lands (pos/device.py), the body becomes one line:
        at = await at_till(request, Permission.CLOCK)
        return AtSite(at.staff, at.till.site_id, at.till.id)
    """
    staff = await staff_of(request)
    if staff is None:
        raise NotSignedIn()
    require(staff.role, Permission.CLOCK)
    async with app_state(request).sessionmaker() as session:
        sites = (await session.scalars(select(Site.id).where(
            Site.company_id == staff.company_id, Site.archived_at.is_(None)
        ).order_by(Site.id))).all()
    site_id = next((s for s in sites if staff.may_use(s)), None)
    if site_id is None:
        raise NotFound()
    return AtSite(staff, site_id, None)


async def _clock(request: Request, at: AtSite, action: str, key: str) -> Clocked:
    move = clock_in if action == Action.IN else clock_out
    clocking = Clocking(at.staff.company_id, at.site_id, at.staff.id, at.till_id, key)
    return await run_tx(request, lambda tx: move(tx, clocking))


async def clock_api(request: Request) -> Response:
    """The acting member of staff clocks in (`in`) or out (`out`) at this till's site.
    Clocking in while clocked in answers the open shift; a retry with the same `key`
    answers the shift it made or closed (200, `changed` false). Needs the clock
    permission (every role that works at a site)."""
    at = await acting(request)
    body = await command(request, Clock)
    done = await _clock(request, at, body.action, body.key)
    shift = done.shift
    data = ClockResult(
        shift=ShiftOut(id=shift.id, staff_id=shift.staff_id, site_id=shift.site_id,
                       till_id=shift.till_id, clocked_in_at=shift.clocked_in_at,
                       clocked_out_at=shift.clocked_out_at),
        clocked_in=shift.clocked_out_at is None, changed=done.changed)
    return JSONResponse(data.model_dump(mode="json"), status_code=201 if done.changed else 200)


async def _render(request: Request, at: AtSite, done: Clocked | None = None,
                  refused: bool = False, status: int = 200) -> Response:
    async def op(tx: Tx) -> dict[str, Any]:
        site = await tx.session.get(Site, at.site_id)
        tz = await tx.session.scalar(select(Company.timezone).where(
            Company.id == at.staff.company_id))
        mine: Shift | None = await open_shift(tx, at.staff.id)
        return {"site": site, "tz": tz, "mine": mine,
                "present": await clocked_in(tx, [at.site_id])}

    context = await run_tx(request, op)
    return page(request, "till/clock.html", status=status, staff=at.staff, done=done,
                refused=refused, key=uuid.uuid4().hex, **context)


async def clock_page(request: Request) -> Response:
    return await _render(request, await acting(request))


async def clock_form(request: Request) -> Response:
    """The page's button: clocks, then shows the page again with what was done."""
    at = await acting(request)
    body = await command(request, Clock)
    try:
        done = await _clock(request, at, body.action, body.key)
    except NotClockedIn:  # clocked out meanwhile (another till): say so, show the state
        return await _render(request, at, refused=True, status=409)
    return await _render(request, at, done)


routes = [
    Route("/till/clock", clock_page, methods=["GET"]),
    Route("/till/clock", clock_form, methods=["POST"]),
]

api_routes = [
    Endpoint("/till/clock", clock_api, "POST", tag=STAFF, operation_id="clockInOrOut",
             summary="Clock in or out at the till", body=Clock,
             example={"action": "in", "key": "3f0c9a52-8d7e-4f4c-9d1e-2b6a7c0e5f11"},
             responses={201: Reply(ClockResult, "Clocked in or out."),
                        200: Reply(ClockResult, "Already so, or a retry: nothing changed.")},
             errors=[NotSignedIn, Forbidden, NotFound, NotClockedIn], security=SIGNED_IN),
]
