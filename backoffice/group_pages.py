"""The groups page's forms: a group's name and regular recharge, and the amounts consumers
may top up, with prices typed as people write them ("2,50" or "2.50").

Each form is checked whole on the server; a refusal shows the groups page again (422) with
each field's message next to it and nothing changed; a change goes to the audit log
(machines/admin_service.py) and back to the page.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BeforeValidator, Field
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from accounts.roles import Permission
from accounts.service import StaffIdentity
from backoffice.forms import Errors, check, done, message_of, signed_in, typed_of
from customers.ledger import MAX_AMOUNT
from errors import N_, DomainError, InvalidInput
from machines import admin_service
from machines.commands import GroupSettings, SetPolicy
from machines.errors import GroupNameTaken
from machines.staff_pages import render_groups
from web.commands import Collapsed, Command, Invalid, Money, Text, form_money
from web.i18n import gettext
from web.state import locale_of, run_tx

AMOUNT_ERROR = N_("Give an amount such as 2.50: more than zero, at most two decimals, "
                  "up to 1000.")
TOPUP_FIELDS = 6  # how many amounts the form offers
# Minor units: the ledger's limit for one entry.
Amount = Annotated[Annotated[Money, Field(ge=1, le=MAX_AMOUNT)] | None,
                   Invalid(InvalidInput, AMOUNT_ERROR)]


class RechargeForm(Command):
    name: Annotated[Collapsed, Field(min_length=1, max_length=120),
                    Invalid(InvalidInput, N_("Give a name of 1 to 120 characters."))]
    recharge_every: Annotated[
        Literal["day", "week", "month"] | None,
        BeforeValidator(lambda v: None if v == "" else v),
        Invalid(InvalidInput, N_("Choose how often, or none.")),
    ] = None
    recharge_at: Annotated[
        Text, Field(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$"),
        BeforeValidator(lambda v: v.strip() or "07:00" if isinstance(v, str) else v),
        Invalid(InvalidInput, N_("Give a time such as 07:00.")),
    ] = "07:00"
    recharge_amount: Amount = None


async def _configurer(request: Request) -> StaffIdentity:
    staff = await signed_in(request)
    staff.require(Permission.MANAGE_PEOPLE)
    return staff


async def save_group(request: Request) -> Response:
    staff = await _configurer(request)
    group_id = request.path_params["group_id"]
    await run_tx(request, lambda tx: admin_service.group_for(tx, staff, group_id))
    locale = locale_of(request)
    typed = await typed_of(request)
    form, errors = check(RechargeForm, typed, locale)
    if form is not None and form.recharge_every is not None and form.recharge_amount is None:
        errors = {"recharge_amount": gettext(locale, AMOUNT_ERROR)}
    if form is not None and not errors:
        settings = GroupSettings.model_validate({
            "name": form.name, "recharge_every": form.recharge_every,
            "recharge_at": form.recharge_at, "recharge_amount": form.recharge_amount})
        try:
            await run_tx(request, lambda tx: admin_service.update_group(
                tx, staff, group_id, settings))
        except GroupNameTaken as taken:
            errors = {"name": message_of(taken, locale)}
        else:
            return done(request, f"/staff/groups?saved={group_id}")
    return await render_groups(request, staff, 422, {str(group_id): errors},
                               {str(group_id): typed})


def _amounts(typed: dict[str, str], locale: str) -> tuple[list[int], Errors]:
    """The amounts typed in the form's boxes (blank ones left out), each checked."""
    amounts: list[int] = []
    errors: Errors = {}
    for index in range(TOPUP_FIELDS):
        raw = typed.get(f"topup-{index}", "").strip()
        if not raw:
            continue
        value = form_money(raw)
        if not isinstance(value, int) or not 1 <= value <= MAX_AMOUNT:
            errors[f"topup-{index}"] = gettext(locale, AMOUNT_ERROR)
        else:
            amounts.append(value)
    if not amounts and not errors:
        errors["topup-0"] = gettext(locale, N_("Give at least one amount."))
    return amounts, errors


async def save_topups(request: Request) -> Response:
    staff = await _configurer(request)
    locale = locale_of(request)
    typed = await typed_of(request)
    amounts, errors = _amounts(typed, locale)
    if not errors:
        change = SetPolicy.model_validate({"topup_amounts": amounts})
        try:
            await run_tx(request, lambda tx: admin_service.set_policy(tx, staff, change))
        except DomainError as refused:
            if refused.status != 422:
                raise
            errors = {"topup-0": message_of(refused, locale)}
        else:
            return done(request, "/staff/groups?saved=topups")
    return await render_groups(request, staff, 422, {"topups": errors}, {"topups": typed})


routes = [
    Route("/backoffice/groups/topups", save_topups, methods=["POST"]),
    Route("/backoffice/groups/{group_id:id}", save_group, methods=["POST"]),
]
