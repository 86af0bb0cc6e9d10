"""The automatic sends' pages (a tab of the campaigns): the list, each with its trigger,
its state and a switch, and one send's page: its trigger and its message (the campaign
editor's fields and blocks, previewed as it will arrive), switch on or off, a test to the
member's own address, a copy, delete (refused once it sent), and its results.

The services are loyalty's (loyalty/automatic.py), which audit each change; the editor's
helpers are the campaigns' (backoffice/campaign_pages.py).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from accounts.models import Staff
from accounts.service import StaffIdentity
from backoffice.campaign_pages import (
    FIELDS,
    Editing,
    act,
    choices,
    member,
    preview_query,
    remove,
    save,
)
from backoffice.forms import Errors, done, refused
from errors import Conflict, InvalidInput
from loyalty import automatic, campaign_send
from loyalty.automatic import AutomaticForm
from loyalty.campaign_results import results_of
from loyalty.campaigns import KINDS
from loyalty.models import Campaign
from realtime.events import Tx
from web.body import read_body
from web.state import app_state, locale_of, run_tx
from web.templating import page

LIST = "/backoffice/campaigns/automatic"
SAID = frozenset({"saved", "on", "off", "tested", "copied", "deleted"})
AUTO_FIELDS = (*FIELDS, "trigger_kind", "trigger_every")
NEW = {"name": "", "channel": "email", "subject": "", "coupon_valid_days": "30",
       "trigger_kind": "visits", "trigger_every": "10",
       "blocks": [{"kind": "logo"}, {"kind": "title", "text": ""}, {"kind": "text", "text": ""},
                  {"kind": "coupon"}]}


def _said(request: Request) -> str:
    said = request.query_params.get("said", "")
    return said if said in SAID else ""


def _values_of(campaign: Campaign) -> dict[str, Any]:
    return {"name": campaign.name, "channel": campaign.channel, "subject": campaign.subject,
            "sms_text": campaign.sms_text, "reward_id": str(campaign.reward_id or ""),
            "coupon_valid_days": str(campaign.coupon_valid_days),
            "trigger_kind": campaign.trigger_kind or "visits",
            "trigger_every": str(campaign.trigger_every), "blocks": list(campaign.blocks)}


async def _editor(request: Request, staff: StaffIdentity, campaign_id: int | None,
                  values: dict[str, Any] | None = None, errors: Errors | None = None,
                  status: int = 200) -> Response:
    async def read(tx: Tx) -> dict[str, Any]:
        context = await choices(tx, staff.company_id)
        campaign = (await automatic.automatic_of(tx, staff.company_id, campaign_id)
                    if campaign_id is not None else None)
        shown = values or (_values_of(campaign) if campaign else NEW)
        context.update(campaign=campaign, values=shown, preview=preview_query(shown))
        if campaign is not None:
            context["results"] = await results_of(tx.session, campaign.id, campaign.channel)
        return context

    return page(request, "backoffice/automatic.html", status=status, staff=staff,
                errors=errors or {}, said=_said(request), kinds=KINDS,
                **await run_tx(request, read))


async def _list(request: Request, staff: StaffIdentity, errors: Errors | None = None,
                status: int = 200) -> Response:
    async def read(tx: Tx) -> dict[str, Any]:
        rows = list(await tx.session.scalars(
            select(Campaign).where(Campaign.company_id == staff.company_id,
                                   Campaign.automatic)
            .order_by(Campaign.created_at.desc(), Campaign.id.desc()).limit(200)))
        return {"rows": [(c, await results_of(tx.session, c.id, c.channel)) for c in rows]}

    return page(request, "backoffice/automatic_list.html", status=status, staff=staff,
                errors=errors or {}, said=_said(request), **await run_tx(request, read))


async def list_page(request: Request) -> Response:
    staff = await member(request)
    if isinstance(staff, Response):
        return staff
    return await _list(request, staff)


async def new_page(request: Request) -> Response:
    staff = await member(request)
    if isinstance(staff, Response):
        return staff
    return await _editor(request, staff, None)


async def send_page(request: Request) -> Response:
    staff = await member(request)
    if isinstance(staff, Response):
        return staff
    return await _editor(request, staff, request.path_params["campaign_id"])


EDITING = Editing(LIST, AUTO_FIELDS, AutomaticForm, automatic.create, automatic.edit, _editor,
                  (InvalidInput, Conflict))


async def create_send(request: Request) -> Response:
    return await save(EDITING, request, None)


async def save_send(request: Request) -> Response:
    return await save(EDITING, request, request.path_params["campaign_id"])


async def switch(request: Request) -> Response:
    body = await read_body(request)
    on = body.data.get("on") == "yes"
    said = "on" if on else "off"
    if request.query_params.get("from") != "list":
        return await act(EDITING, request, lambda tx, staff, campaign_id: automatic.switch(
            tx, staff, campaign_id, on), said)
    staff = await member(request)
    if isinstance(staff, Response):
        return staff
    campaign_id = request.path_params["campaign_id"]
    try:
        await run_tx(request, lambda tx: automatic.switch(tx, staff, campaign_id, on))
    except (InvalidInput, Conflict) as error:
        return await _list(request, staff, refused(error, locale_of(request)), 422)
    return done(request, f"{LIST}?said={said}")


async def test_send(request: Request) -> Response:
    settings = app_state(request).settings

    async def send_test(tx: Tx, staff: StaffIdentity, campaign_id: int) -> int:
        campaign = await automatic.automatic_of(tx, staff.company_id, campaign_id)
        member_row = await tx.session.get(Staff, staff.id)
        assert member_row is not None
        return await campaign_send.test_send(tx, staff, campaign, member_row.email, settings)
    return await act(EDITING, request, send_test, "tested")


async def duplicate(request: Request) -> Response:
    return await act(EDITING, request, automatic.duplicate, "copied")


async def delete(request: Request) -> Response:
    return await remove(EDITING, request, automatic.delete)


ONE = LIST + "/{campaign_id:id}"
routes = [
    Route(LIST, list_page),
    Route(LIST + "/new", new_page),
    Route(LIST + "/new", create_send, methods=["POST"]),
    Route(ONE, send_page),
    Route(ONE, save_send, methods=["POST"]),
    Route(ONE + "/switch", switch, methods=["POST"]),
    Route(ONE + "/test", test_send, methods=["POST"]),
    Route(ONE + "/duplicate", duplicate, methods=["POST"]),
    Route(ONE + "/delete", delete, methods=["POST"]),
]
