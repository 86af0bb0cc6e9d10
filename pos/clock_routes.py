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
from accounts.models import Company, Site
from accounts.roles import Permission
from accounts.service import StaffIdentity
from api.endpoint import SESSION, Endpoint, Reply
from errors import Forbidden, InvalidInput
from pos.device import at_till, page_at_till
from pos.errors import NotAtTill, NotClockedIn, NotPaired
from pos.models import Shift
from pos.shifts import Clocked, Clocking, clock_in, clock_out, clocked_in, open_shift
from realtime.events import Tx
from web.commands import ClientKey, Command, Invalid, command
from web.state import run_tx
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
    """The member of staff switched in on this till, who may clock, and the till's site."""
    at = await at_till(request, Permission.CLOCK)
    return AtSite(at.staff, at.till.site_id, at.till.id)


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
    at = await page_at_till(request, Permission.CLOCK)
    if isinstance(at, Response):
        return at
    return await _render(request, AtSite(at.staff, at.till.site_id, at.till.id))


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
             errors=[NotPaired, NotAtTill, Forbidden, NotClockedIn], security=SESSION),
]
