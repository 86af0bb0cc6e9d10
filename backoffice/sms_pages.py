"""The SMS page of the campaigns: the provider and its key (masked), the sender name, the
STOP line and the regional holidays; the URL Brevo sends delivery reports to, with a
button that renews it; the credits left; the SMS waiting (queued, held for
quiet hours, blocked for want of credits) with a button that retries the blocked ones; and
the campaign editor's length counter (an htmx fragment).

A refused form comes back (422) with its field's message and nothing changed; a change
sends the browser back to the page, which says what was done.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import Field
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from accounts.roles import Permission
from accounts.service import StaffIdentity
from backoffice.forms import Confirmed, Errors, done, member_for, read_form, refused
from domain import audit
from errors import InvalidInput
from loyalty import sms_dispatch, sms_reports, sms_settings
from loyalty.sms_settings import SUBDIVISIONS, SmsForm
from loyalty.sms_text import commercial
from realtime.events import Tx
from web.commands import Command, Id, Text, command
from web.i18n import gettext, typed_decimal
from web.redirects import safe_path
from web.state import app_state, locale_of, run_tx
from web.templating import page

SMS = "/backoffice/campaigns/sms"
SAID = frozenset({"saved", "retried", "renewed"})
MAX_TEXT = 1600


class Retry(Command):
    """Retry the blocked SMS: of one campaign (`campaign_id`), or all; then back to `back`."""

    campaign_id: Id | None = None
    back: Annotated[Text, Field(max_length=300)] = SMS


async def _member(request: Request) -> StaffIdentity | Response:
    return await member_for(request, Permission.CAMPAIGNS)


async def _page(request: Request, staff: StaffIdentity, status: int = 200,
                values: dict[str, Any] | None = None, errors: Errors | None = None) -> Response:
    settings = app_state(request).settings

    async def read(tx: Tx) -> tuple[sms_settings.SmsConfig, dict[str, int]]:
        await sms_reports.ensure_token(tx, staff.company_id)  # settings saved before it
        config = await sms_settings.config_for(tx, staff.company_id, settings)
        return config, await sms_dispatch.counts(tx.session, staff.company_id)

    config, waiting = await run_tx(request, read)
    credits = await sms_settings.credits_of(config, settings)
    current = sms_settings.view(config, settings.public_url)
    said = request.query_params.get("said", "")
    retried = request.query_params.get("n", "")
    return page(request, "backoffice/campaigns_sms.html", status=status, staff=staff,
                said=said if said in SAID else "",
                retried=int(retried) if retried.isdecimal() and len(retried) < 7 else 0,
                current=current, values=values or current, errors=errors or {},
                credits=None if credits is None else typed_decimal(
                    format(credits.normalize(), "f"), locale_of(request)),
                waiting=waiting, subdivisions=[
                    (code, gettext(locale_of(request), label))
                    for code, label in SUBDIVISIONS.items()])


async def sms_page(request: Request) -> Response:
    staff = await _member(request)
    if isinstance(staff, Response):
        return staff
    return await _page(request, staff)


async def save_sms(request: Request) -> Response:
    staff = await _member(request)
    if isinstance(staff, Response):
        return staff
    form, typed, errors = await read_form(request, SmsForm)
    typed.pop("api_key", None)  # a key typed is never sent back to the browser
    if form is not None:
        sealer = sms_settings.box(app_state(request).settings)
        try:
            await run_tx(request, lambda tx: sms_settings.save(
                tx, staff, form, datetime.now(UTC), sealer))
        except InvalidInput as error:
            errors = refused(error, locale_of(request))
        else:
            return done(request, f"{SMS}?said=saved")
    return await _page(request, staff, 422, typed, errors)


async def retry(request: Request) -> Response:
    """The blocked SMS queued again (the next dispatch sends them if credits allow)."""
    staff = await _member(request)
    if isinstance(staff, Response):
        return staff
    asked = await command(request, Retry)

    async def act(tx: Tx) -> int:
        count = await sms_dispatch.retry_blocked(tx, staff.company_id, asked.campaign_id)
        if count:
            changes: dict[str, object] = {"sms_requeued": count}
            if asked.campaign_id is not None:
                changes["sms_campaign"] = asked.campaign_id
            await audit.record(tx, staff.id, staff.company_id, "sms.retried", "sms", changes)
        return count

    count = await run_tx(request, act)
    back = safe_path(asked.back, SMS)
    joiner = "&" if "?" in back else "?"
    return done(request, f"{back}{joiner}said=retried&n={count}")


async def renew_report_url(request: Request) -> Response:
    """A new URL for the delivery reports; the old one answers 404 from now on."""
    staff = await _member(request)
    if isinstance(staff, Response):
        return staff
    await command(request, Confirmed)  # else the Unconfirmed page
    await run_tx(request, lambda tx: sms_reports.renew_token(tx, staff, datetime.now(UTC)))
    return done(request, f"{SMS}?said=renewed")


async def length(request: Request) -> Response:
    """The campaign editor's counter: the text (`text`, or `sms_text` as the editor's field
    is named) with the company's STOP line, measured."""
    staff = await _member(request)
    if isinstance(staff, Response):
        return staff
    settings = app_state(request).settings
    config = await run_tx(request, lambda tx: sms_settings.config_for(
        tx, staff.company_id, settings))
    asked = request.query_params
    text = asked.get("text", asked.get("sms_text", ""))  # the editor's field, as included
    sms = commercial(text[:MAX_TEXT], config.stop_mention)
    return page(request, "backoffice/_sms_length.html", length=sms.length,
                stop_mention=config.stop_mention)


routes = [
    Route(SMS, sms_page),
    Route(SMS, save_sms, methods=["POST"]),
    Route(SMS + "/retry", retry, methods=["POST"]),
    Route(SMS + "/report-url", renew_report_url, methods=["POST"]),
    Route(SMS + "/length", length),
]
