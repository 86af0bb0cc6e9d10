"""The loyalty settings page: the company's rules for earning and redeeming points, and
the sign-up fields it asks its customers for, in one form.

A refused form comes back (422) with each bad field's message and nothing saved; a saved
one sends the browser back to the page, which says so. Every change is audited.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from accounts.roles import Permission
from backoffice.forms import done, member_for, read_form
from backoffice.loyalty_forms import (
    RulesForm,
    rules_audit,
    rules_command,
    rules_problems,
    rules_values,
)
from domain import audit
from loyalty import setup
from loyalty.models import LoyaltyRules
from realtime.events import Tx
from web.i18n import gettext
from web.state import app_state, locale_of, run_tx
from web.templating import page

SETTINGS = "/backoffice/loyalty/settings"


def _settings(request: Request, status: int = 200, **context: Any) -> Response:
    return page(request, "backoffice/loyalty_settings.html", status=status,
                saved=request.query_params.get("saved") == "1", **context)


async def settings_page(request: Request) -> Response:
    staff = await member_for(request, Permission.LOYALTY)
    if isinstance(staff, Response):
        return staff
    async with app_state(request).sessionmaker() as session:
        rules = await session.get(LoyaltyRules, staff.company_id)
    return _settings(request, staff=staff, values=rules_values(rules), errors={})


async def save_settings(request: Request) -> Response:
    staff = await member_for(request, Permission.LOYALTY)
    if isinstance(staff, Response):
        return staff
    form, typed, errors = await read_form(request, RulesForm)
    if form is not None:
        locale = locale_of(request)
        errors = {field: gettext(locale, message)
                  for field, message in rules_problems(form).items()}
    if form is None or errors:
        return _settings(request, 422, staff=staff, values=typed, errors=errors)
    command = rules_command(form)

    async def op(tx: Tx) -> None:
        before = rules_audit(await tx.session.get(LoyaltyRules, staff.company_id))
        after = rules_audit(await setup.set_rules(tx, staff.company_id, command))
        changes = audit.diff(before, after)
        if changes:
            await audit.record(tx, staff.id, staff.company_id, "loyalty.rules", "loyalty",
                               changes)

    await run_tx(request, op)
    return done(request, f"{SETTINGS}?saved=1")


routes = [
    Route(SETTINGS, settings_page),
    Route(SETTINGS, save_settings, methods=["POST"]),
]
