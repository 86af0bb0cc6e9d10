"""The coupons page of the loyalty settings: the company's coupon triggers (every N visits,
N days before the birthday, absent for N days), each added, changed, switched on or off,
copied or deleted, and the coupons they issued lately.

A refused form comes back (422) with each bad field's message and nothing changed; a
change sends the browser back to the page, which says what was done. The services are
loyalty's (loyalty/trigger_admin.py), which audit each change.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from accounts.models import Company
from accounts.roles import Permission
from accounts.service import StaffIdentity
from backoffice.forms import Errors, confirmed, done, member_for, read_form, refused
from errors import InvalidInput
from loyalty import trigger_admin
from loyalty.trigger_admin import TriggerForm
from realtime.events import Tx
from web.commands import Command, Flag, command
from web.state import locale_of, run_tx
from web.templating import page

COUPONS = "/backoffice/loyalty/coupons"
SAID = frozenset({"added", "saved", "on", "off", "copied", "deleted"})
NEW = {"kind": "visits", "every": "10", "valid_days": "30"}


class Switch(Command):
    active: Flag


async def _member(request: Request) -> StaffIdentity | Response:
    return await member_for(request, Permission.LOYALTY)


async def _common(tx: Tx, staff: StaffIdentity) -> dict[str, Any]:
    company = await tx.session.get(Company, staff.company_id)
    assert company is not None
    offered = await trigger_admin.rewards(tx.session, staff.company_id)
    return {"rewards": [(str(reward_id), name) for reward_id, name in offered],
            "timezone": company.timezone}


async def _list(request: Request, staff: StaffIdentity, status: int = 200,
                values: dict[str, Any] | None = None, errors: Errors | None = None) -> Response:
    async def read(tx: Tx) -> dict[str, Any]:
        return {**await _common(tx, staff),
                "triggers": await trigger_admin.triggers(tx.session, staff.company_id),
                "coupons": await trigger_admin.recent_coupons(tx.session, staff.company_id)}

    said = request.query_params.get("said", "")
    return page(request, "backoffice/loyalty_coupons.html", status=status, staff=staff,
                said=said if said in SAID else "", values=values or NEW, errors=errors or {},
                **await run_tx(request, read))


async def _edit(request: Request, staff: StaffIdentity, trigger_id: int, status: int = 200,
                values: dict[str, Any] | None = None, errors: Errors | None = None
                ) -> Response:
    async def read(tx: Tx) -> dict[str, Any]:
        trigger = await trigger_admin.trigger_of(tx.session, staff.company_id, trigger_id)
        return {**await _common(tx, staff), "trigger": trigger}

    context = await run_tx(request, read)
    trigger = context["trigger"]
    shown = values or {"kind": trigger.kind, "every": str(trigger.every),
                       "reward_id": str(trigger.reward_id),
                       "valid_days": str(trigger.valid_days)}
    return page(request, "backoffice/loyalty_trigger.html", status=status, staff=staff,
                values=shown, errors=errors or {}, **context)


async def coupons_page(request: Request) -> Response:
    staff = await _member(request)
    if isinstance(staff, Response):
        return staff
    return await _list(request, staff)


async def add_trigger(request: Request) -> Response:
    staff = await _member(request)
    if isinstance(staff, Response):
        return staff
    form, typed, errors = await read_form(request, TriggerForm)
    if form is not None:
        try:
            await run_tx(request, lambda tx: trigger_admin.add(tx, staff, form))
        except InvalidInput as error:
            errors = refused(error, locale_of(request))
        else:
            return done(request, f"{COUPONS}?said=added")
    return await _list(request, staff, 422, typed, errors)


async def trigger_page(request: Request) -> Response:
    staff = await _member(request)
    if isinstance(staff, Response):
        return staff
    return await _edit(request, staff, request.path_params["trigger_id"])


async def save_trigger(request: Request) -> Response:
    staff = await _member(request)
    if isinstance(staff, Response):
        return staff
    trigger_id = request.path_params["trigger_id"]
    form, typed, errors = await read_form(request, TriggerForm)
    if form is not None:
        try:
            await run_tx(request, lambda tx: trigger_admin.edit(tx, staff, trigger_id, form))
        except InvalidInput as error:
            errors = refused(error, locale_of(request))
        else:
            return done(request, f"{COUPONS}?said=saved#trigger-{trigger_id}")
    return await _edit(request, staff, trigger_id, 422, typed, errors)


async def switch_trigger(request: Request) -> Response:
    staff = await _member(request)
    if isinstance(staff, Response):
        return staff
    switch = await command(request, Switch)
    trigger_id = request.path_params["trigger_id"]
    await run_tx(request, lambda tx: trigger_admin.switch(tx, staff, trigger_id, switch.active))
    return done(request, f"{COUPONS}?said={'on' if switch.active else 'off'}#trigger-{trigger_id}")


async def duplicate_trigger(request: Request) -> Response:
    staff = await _member(request)
    if isinstance(staff, Response):
        return staff
    copy = await run_tx(request, lambda tx: trigger_admin.duplicate(
        tx, staff, request.path_params["trigger_id"]))
    return done(request, f"{COUPONS}?said=copied#trigger-{copy.id}")


async def delete_trigger(request: Request) -> Response:
    staff = await _member(request)
    if isinstance(staff, Response):
        return staff
    return await confirmed(request, lambda tx: trigger_admin.delete(
        tx, staff, request.path_params["trigger_id"]), f"{COUPONS}?said=deleted")


routes = [
    Route(COUPONS, coupons_page),
    Route(COUPONS, add_trigger, methods=["POST"]),
    Route(COUPONS + "/{trigger_id:id}", trigger_page),
    Route(COUPONS + "/{trigger_id:id}", save_trigger, methods=["POST"]),
    Route(COUPONS + "/{trigger_id:id}/switch", switch_trigger, methods=["POST"]),
    Route(COUPONS + "/{trigger_id:id}/duplicate", duplicate_trigger, methods=["POST"]),
    Route(COUPONS + "/{trigger_id:id}/delete", delete_trigger, methods=["POST"]),
]
