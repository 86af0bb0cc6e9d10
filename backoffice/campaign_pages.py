"""The campaigns pages: the company's campaigns with their status and results, and one
campaign's page: while a draft, its editor (name, channel, segment, subject, the e-mail's
blocks added, moved and removed, previewed live as they will arrive, the SMS text, the
coupon's reward); its test send to the member's own address, its send now (the count of
recipients asked to confirm), its schedule (a date and time in the venue's time zone), its
cancel, copy and delete; once gone, its results.

The block editor's buttons (`op`: add a block of a kind, move one up or down, remove one)
change the form, shown again, and save nothing: "save" saves the draft. The services are
loyalty's (loyalty/campaigns.py, campaign_send.py), which audit each change.

Recipients are resolved by `RESOLVE` (loyalty/campaign_send.py `segment_members`): the
members of the campaign's segment, or every customer with a profile when it names none.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import select
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from accounts.models import Company, Staff
from accounts.roles import Permission
from accounts.service import StaffIdentity
from backoffice.forms import Confirmed, Errors, check, confirmed, done, member_for, refused
from errors import DomainError, InvalidInput
from loyalty import campaign_send, campaigns
from loyalty.campaign_mail import render_mail
from loyalty.campaign_results import results_of
from loyalty.campaigns import KINDS, CampaignForm, Status
from loyalty.errors import CampaignNotNow, SendTimeInPast
from loyalty.models import Campaign, Reward, Segment
from realtime.events import Tx
from web.body import read_body
from web.commands import command
from web.state import app_state, locale_of, run_tx
from web.templating import page

LIST = "/backoffice/campaigns"
RESOLVE: campaign_send.Resolver = campaign_send.segment_members
SAID = frozenset({"saved", "tested", "sent", "scheduled", "cancelled", "copied", "deleted"})
FIELDS = ("name", "channel", "segment_id", "subject", "sms_text", "reward_id",
          "coupon_valid_days")
BLOCK_FIELD = re.compile(r"^b(\d{1,2})\.(kind|text|url|label|alt)$")
NEW = {"name": "", "channel": "email", "subject": "", "coupon_valid_days": "30",
       "blocks": [{"kind": "logo"}, {"kind": "title", "text": ""}, {"kind": "text", "text": ""}]}


async def member(request: Request) -> StaffIdentity | Response:
    return await member_for(request, Permission.CAMPAIGNS)


def typed(data: dict[str, str], fields: tuple[str, ...] = FIELDS) -> dict[str, Any]:
    """The form's fields, with its blocks as a list (in their order on the form)."""
    values: dict[str, Any] = {name: data.get(name, "") for name in fields}
    found: dict[int, dict[str, str]] = {}
    for name, value in data.items():
        match = BLOCK_FIELD.match(name)
        if match:
            found.setdefault(int(match.group(1)), {})[match.group(2)] = value
    values["blocks"] = [found[i] for i in sorted(found) if found[i].get("kind") in KINDS]
    return values


def edited(values: dict[str, Any], op: str) -> dict[str, Any]:
    """The editor's button: add a block of a kind, move one, remove one."""
    blocks = list(values["blocks"])
    verb, _, arg = op.partition(":")
    if verb == "add" and arg in KINDS and len(blocks) < campaigns.MAX_BLOCKS:
        blocks.append({"kind": arg})
    elif arg.isdecimal() and int(arg) < len(blocks):
        at = int(arg)
        if verb == "remove":
            blocks.pop(at)
        elif verb in ("up", "down"):
            to = at - 1 if verb == "up" else at + 1
            if 0 <= to < len(blocks):
                blocks[at], blocks[to] = blocks[to], blocks[at]
    return {**values, "blocks": blocks}


def form_data(values: dict[str, Any]) -> dict[str, Any]:
    """What the editor typed, as CampaignForm reads it (blank ids: none)."""
    data = {k: v for k, v in values.items() if k != "blocks" and v != ""}
    data["blocks"] = [{k: v for k, v in b.items() if v != "" or k == "text"}
                      for b in values["blocks"]]
    return data


def _values_of(campaign: Campaign) -> dict[str, Any]:
    return {"name": campaign.name, "channel": campaign.channel,
            "segment_id": str(campaign.segment_id or ""), "subject": campaign.subject,
            "sms_text": campaign.sms_text, "reward_id": str(campaign.reward_id or ""),
            "coupon_valid_days": str(campaign.coupon_valid_days),
            "blocks": list(campaign.blocks)}


async def choices(tx: Tx, company_id: int) -> dict[str, Any]:
    segments = (await tx.session.execute(
        select(Segment.id, Segment.name).where(Segment.company_id == company_id)
        .order_by(Segment.name))).all()
    rewards = (await tx.session.execute(
        select(Reward.id, Reward.name).where(Reward.company_id == company_id, Reward.active)
        .order_by(Reward.name))).all()
    company = await tx.session.get(Company, company_id)
    assert company is not None
    return {"segments": [(str(i), n) for i, n in segments],
            "rewards": [(str(i), n) for i, n in rewards], "company": company,
            "timezone": company.timezone}


async def _preview(tx: Tx, company: Company, values: dict[str, Any]) -> str:
    """The mail as it will arrive, from what is typed (the blocks that are not right yet
    are left out), with a sample coupon."""
    form, _errors = check(CampaignForm, {**form_data(values), "name": "-"}, company.locale)
    blocks = []
    for block in values["blocks"]:
        try:
            blocks.extend(campaigns.blocks_of([{k: v for k, v in block.items() if v != ""}]))
        except DomainError:
            continue
    probe = Campaign(company_id=company.id, channel=values.get("channel") or "email",
                     blocks=[b.model_dump() for b in blocks],
                     reward_id=form.reward_id if form else None,
                     coupon_valid_days=form.coupon_valid_days if form else 30)
    coupon = await campaign_send.sample_coupon(tx.session, probe, company)
    return render_mail(subject=values.get("subject", ""), blocks=probe.blocks,
                       venue=company.name, locale=company.locale,
                       unsubscribe_url="#unsubscribe", coupon=coupon).html


async def _editor(request: Request, staff: StaffIdentity, campaign_id: int | None,
                  values: dict[str, Any] | None = None, errors: Errors | None = None,
                  status: int = 200) -> Response:
    async def read(tx: Tx) -> dict[str, Any]:
        context = await choices(tx, staff.company_id)
        campaign = (await campaigns.campaign_of(tx, staff.company_id, campaign_id)
                    if campaign_id is not None else None)
        shown = values or (_values_of(campaign) if campaign else NEW)
        context.update(campaign=campaign, values=shown, preview=preview_query(shown))
        if campaign is not None and campaign.status != Status.DRAFT:
            context["results"] = await results_of(tx.session, campaign.id, campaign.channel)
        if campaign is not None and campaign.status == Status.DRAFT:
            context["reach"] = await campaign_send.reach(tx.session, campaign, RESOLVE,
                                                         datetime.now(UTC))
        return context

    said = request.query_params.get("said", "")
    return page(request, "backoffice/campaign.html", status=status, staff=staff,
                errors=errors or {}, said=said if said in SAID else "", kinds=KINDS,
                **await run_tx(request, read))


async def list_page(request: Request) -> Response:
    staff = await member(request)
    if isinstance(staff, Response):
        return staff

    async def read(tx: Tx) -> dict[str, Any]:
        rows = list(await tx.session.scalars(
            select(Campaign).where(Campaign.company_id == staff.company_id,
                                   Campaign.automatic.is_(False))
            .order_by(Campaign.created_at.desc(), Campaign.id.desc()).limit(200)))
        company = await tx.session.get(Company, staff.company_id)
        assert company is not None
        return {"rows": [(c, await results_of(tx.session, c.id, c.channel)
                          if c.status not in ("draft", "scheduled", "cancelled") else None)
                         for c in rows], "timezone": company.timezone}

    said = request.query_params.get("said", "")
    return page(request, "backoffice/campaigns.html", staff=staff,
                said=said if said in SAID else "", **await run_tx(request, read))


@dataclass(frozen=True)
class Editing:
    """What an editor's handlers need (campaigns here, automatic sends in
    backoffice/automatic_pages.py): its list, its fields and form, its services, its page,
    and the refusals it shows on that page."""

    list_path: str
    fields: tuple[str, ...]
    form: type[CampaignForm]
    create: Callable[[Tx, StaffIdentity, Any], Awaitable[Campaign]]
    edit: Callable[[Tx, StaffIdentity, int, Any], Awaitable[Campaign]]
    show: Callable[..., Awaitable[Response]]  # (request, staff, id, values, errors, status)
    refusals: tuple[type[DomainError], ...]


async def save(editing: Editing, request: Request, campaign_id: int | None) -> Response:
    """The editor's form: a block button changes the form and saves nothing; "save"
    creates or edits, or shows what is wrong (422) with nothing changed."""
    staff = await member(request)
    if isinstance(staff, Response):
        return staff
    body = await read_body(request)
    data = {k: v for k, v in body.data.items() if isinstance(v, str)}
    values, op = typed(data, editing.fields), data.get("op", "save")
    if op != "save":
        return await editing.show(request, staff, campaign_id, edited(values, op))
    form, errors = check(editing.form, form_data(values), locale_of(request), form=True)
    if form is not None:
        try:
            saved = await run_tx(request, lambda tx: (
                editing.create(tx, staff, form) if campaign_id is None
                else editing.edit(tx, staff, campaign_id, form)))
        except editing.refusals as error:
            errors = refused(error, locale_of(request))
        else:
            return done(request, f"{editing.list_path}/{saved.id}?said=saved")
    return await editing.show(request, staff, campaign_id, values, errors, 422)


async def act(editing: Editing, request: Request, action: Any, said: str) -> Response:
    """An action on one campaign; a refusal shows on its page (422) with nothing changed."""
    staff = await member(request)
    if isinstance(staff, Response):
        return staff
    campaign_id = request.path_params["campaign_id"]
    try:
        result = await run_tx(request, lambda tx: action(tx, staff, campaign_id))
    except editing.refusals as error:
        return await editing.show(request, staff, campaign_id, None,
                                  refused(error, locale_of(request)), 422)
    target = result.id if isinstance(result, Campaign) and said == "copied" else campaign_id
    return done(request, f"{editing.list_path}/{target}?said={said}")


async def remove(editing: Editing, request: Request,
                 service: Callable[[Tx, StaffIdentity, int], Awaitable[None]]) -> Response:
    """Delete, once confirmed; a refusal shows on its page with nothing changed."""
    staff = await member(request)
    if isinstance(staff, Response):
        return staff
    campaign_id = request.path_params["campaign_id"]
    try:
        return await confirmed(request, lambda tx: service(tx, staff, campaign_id),
                               f"{editing.list_path}?said=deleted")
    except editing.refusals as error:
        return await editing.show(request, staff, campaign_id, None,
                                  refused(error, locale_of(request)), 422)


EDITING = Editing(LIST, FIELDS, CampaignForm, campaigns.create, campaigns.edit, _editor,
                  (InvalidInput, CampaignNotNow))


async def _save(request: Request, campaign_id: int | None) -> Response:
    return await save(EDITING, request, campaign_id)


async def new_page(request: Request) -> Response:
    staff = await member(request)
    if isinstance(staff, Response):
        return staff
    return await _editor(request, staff, None)


async def create_campaign(request: Request) -> Response:
    return await _save(request, None)


async def campaign_page(request: Request) -> Response:
    staff = await member(request)
    if isinstance(staff, Response):
        return staff
    return await _editor(request, staff, request.path_params["campaign_id"])


async def save_campaign(request: Request) -> Response:
    return await _save(request, request.path_params["campaign_id"])


# The preview is the mail itself, in a frame: its inline styles (as mail clients want
# them) are allowed there only, by a policy of its own; nothing else loads or runs.
PREVIEW_POLICY = ("default-src 'none'; style-src 'unsafe-inline'; img-src https: 'self'; "
                  "frame-ancestors 'self'; sandbox")


async def preview(request: Request) -> Response:
    """The mail from the form as typed (its fields in the query: a GET changes nothing),
    shown in the editor's frame; backoffice.js points the frame here as one types."""
    staff = await member(request)
    if isinstance(staff, Response):
        return staff
    values = typed(dict(request.query_params))

    async def read(tx: Tx) -> str:
        company = await tx.session.get(Company, staff.company_id)
        assert company is not None
        return await _preview(tx, company, values)

    response = HTMLResponse(await run_tx(request, read))
    response.headers["content-security-policy"] = PREVIEW_POLICY
    response.headers["cache-control"] = "no-store"
    return response


def preview_query(values: dict[str, Any]) -> str:
    """The editor's values as the preview's query."""
    pairs = [(k, str(v)) for k, v in values.items() if k != "blocks" and v not in ("", None)]
    for i, block in enumerate(values.get("blocks", [])):
        pairs.extend((f"b{i}.{k}", str(v)) for k, v in block.items())
    return urlencode(pairs)


async def _act(request: Request, action: Any, said: str) -> Response:
    return await act(EDITING, request, action, said)


async def test_send(request: Request) -> Response:
    settings = app_state(request).settings

    async def act(tx: Tx, staff: StaffIdentity, campaign_id: int) -> int:
        member = await tx.session.get(Staff, staff.id)
        assert member is not None
        campaign = await campaigns.campaign_of(tx, staff.company_id, campaign_id)
        return await campaign_send.test_send(tx, staff, campaign, member.email, settings)
    return await _act(request, act, "tested")


async def send_now(request: Request) -> Response:
    await command(request, Confirmed)  # else the Unconfirmed page
    return await _act(request, lambda tx, staff, campaign_id: campaign_send.send_now(
        tx, staff, campaign_id, RESOLVE), "sent")


async def schedule(request: Request) -> Response:
    body = await read_body(request)
    typed = str(body.data.get("send_at", ""))
    try:
        local = datetime.fromisoformat(typed)
    except ValueError:
        local = None

    async def act(tx: Tx, staff: StaffIdentity, campaign_id: int) -> Campaign:
        if local is None or local.tzinfo is not None:
            raise SendTimeInPast()
        return await campaigns.schedule(tx, staff, campaign_id, local)
    return await _act(request, act, "scheduled")


async def cancel(request: Request) -> Response:
    return await _act(request, campaigns.cancel, "cancelled")


async def duplicate(request: Request) -> Response:
    return await _act(request, campaigns.duplicate, "copied")


async def delete(request: Request) -> Response:
    return await remove(EDITING, request, campaigns.delete)


ONE = LIST + "/{campaign_id:id}"
routes = [
    Route(LIST, list_page),
    Route(LIST + "/new", new_page),
    Route(LIST + "/new", create_campaign, methods=["POST"]),
    Route(LIST + "/preview", preview),
    Route(ONE, campaign_page),
    Route(ONE, save_campaign, methods=["POST"]),
    Route(ONE + "/test", test_send, methods=["POST"]),
    Route(ONE + "/send", send_now, methods=["POST"]),
    Route(ONE + "/schedule", schedule, methods=["POST"]),
    Route(ONE + "/cancel", cancel, methods=["POST"]),
    Route(ONE + "/duplicate", duplicate, methods=["POST"]),
    Route(ONE + "/delete", delete, methods=["POST"]),
]
