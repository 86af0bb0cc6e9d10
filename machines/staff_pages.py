"""Managers' pages: one machine, the selections editor and the groups.

Their forms post to /api/v1 (machines/api.py, machines/staff_api.py) through htmx; the
pages only read. A refused change answers 4xx and leaves the form as it was typed.
"""

from __future__ import annotations

from typing import Any

from babel.numbers import get_currency_symbol
from sqlalchemy import func, select
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from accounts.context import staff_of, viewer_of
from accounts.models import Company, Site
from accounts.roles import Permission
from accounts.service import StaffIdentity
from accounts.tenant import owned_by
from customers.models import Consumer, GroupMember, UserGroup
from customers.policy import policy
from customers.schedule import EVERY
from machines import admin_service, recipes, selection_service, views
from machines.access import Mode
from machines.live import MachineTopic
from machines.models import Brew, Machine, MachineGroup, Selection
from realtime.events import Tx
from realtime.models import current_version
from web.redirects import redirect
from web.state import app_state, locale_of, run_tx
from web.templating import page


async def _company(tx: Tx, staff: StaffIdentity) -> Company:
    company = await tx.session.get(Company, staff.company_id)
    assert company is not None
    return company


def _money_context(request: Request, company: Company) -> dict[str, Any]:
    return {"currency": company.currency,
            "symbol": get_currency_symbol(company.currency, locale_of(request))}


async def machine_page(request: Request) -> Response:
    """One machine: live status and recent brews, mode, selection, groups, PINs, secret,
    deletion."""
    staff = await staff_of(request)
    if staff is None:
        return redirect("/staff/login")
    staff.require(Permission.MACHINES)
    viewer = await viewer_of(request)
    kind = MachineTopic()

    async def op(tx: Tx) -> dict[str, Any]:
        machine = await admin_service.machine_for(tx, staff, request.path_params["machine_id"])
        topic = views.machine_topic(machine.id)
        view = await views.machine_view(tx.session, machine.id)
        view["version"] = await current_version(tx.session, topic)
        view = kind.present(view, kind.audience(view, viewer))  # who brewed: for some roles
        selections = (
            await tx.session.scalars(
                select(Selection)
                .where(owned_by(staff, Selection.company_id))
                .order_by(Selection.model, Selection.name)
            )
        ).all()
        links = (
            await tx.session.execute(
                select(UserGroup, MachineGroup.selection_id)
                .join(MachineGroup, MachineGroup.group_id == UserGroup.id)
                .where(MachineGroup.machine_id == machine.id)
                .order_by(UserGroup.name)
            )
        ).all()
        groups = (
            await tx.session.scalars(
                select(UserGroup).where(owned_by(staff, UserGroup.company_id))
                .order_by(UserGroup.name)
            )
        ).all()
        brews = await tx.session.scalar(
            select(func.count()).select_from(Brew).where(Brew.machine_id == machine.id)
        )
        return {
            "machine": machine, "view": view, "topics": [topic],
            "selections": selections,
            "own_model": [s for s in selections if s.model == machine.model],
            "names": {s.id: s.name for s in selections},
            "links": links, "groups": groups, "brews": brews or 0,
            "modes": [m.value for m in Mode],
        }

    context = await run_tx(request, op)
    return page(request, "machines/staff_machine.html", staff=staff,
                configure=staff.may(Permission.RUN_MACHINES), **context)


async def selections_page(request: Request) -> Response:
    staff = await staff_of(request)
    if staff is None:
        return redirect("/staff/login")
    staff.require_any(Permission.PRODUCTS, Permission.MACHINES)  # read only: machines

    async def op(tx: Tx) -> dict[str, Any]:
        models = await tx.session.scalars(
            select(Machine.model).distinct()
            .join(Site, Site.id == Machine.site_id)
            .where(owned_by(staff, Site.company_id))
            .order_by(Machine.model)
        )
        return {"selections": await selection_service.company_selections(tx, staff),
                "models": list(models)}

    context = await run_tx(request, op)
    return page(request, "machines/staff_selections.html", staff=staff,
                configure=staff.may(Permission.PRODUCTS), **context)


async def _editor(request: Request, staff: StaffIdentity) -> dict[str, Any]:
    staff.require_any(Permission.PRODUCTS, Permission.MACHINES)  # read only: machines

    async def op(tx: Tx) -> dict[str, Any]:
        view = await selection_service.editor_view(
            tx, staff, request.path_params["selection_id"]
        )
        return {**view, **_money_context(request, await _company(tx, staff))}

    return {**await run_tx(request, op), "types": list(recipes.TYPES),
            "limits": recipes.RECIPE_LIMITS, "configure": staff.may(Permission.PRODUCTS)}


async def selection_page(request: Request) -> Response:
    """The editor: every drink with its price, type, recipe and state, in order."""
    staff = await staff_of(request)
    if staff is None:
        return redirect("/staff/login")
    return page(request, "machines/staff_selection.html", staff=staff,
                public_url=app_state(request).settings.public_url,
                **await _editor(request, staff))


async def selection_drinks(request: Request) -> Response:
    """The editor's drink list alone, fetched again after each change."""
    staff = await staff_of(request)
    if staff is None:
        return redirect("/staff/login")
    return page(request, "machines/_selection_drinks.html", **await _editor(request, staff))


async def groups_page(request: Request) -> Response:
    """Groups: their members, adding and removing consumers, their regular recharge; the
    amounts consumers may top up."""
    staff = await staff_of(request)
    if staff is None:
        return redirect("/staff/login")
    staff.require_any(Permission.PEOPLE, Permission.MACHINES)  # names: people only
    return await render_groups(request, staff)


async def render_groups(
    request: Request, staff: StaffIdentity, status: int = 200,
    errors: dict[str, dict[str, str]] | None = None,
    typed: dict[str, dict[str, str]] | None = None,
) -> Response:
    """The groups page; `errors` and `typed`: a refused form's (by form key: the group's id,
    or "topups"), shown again with each field's message next to it (backoffice/)."""

    async def op(tx: Tx) -> dict[str, Any]:
        groups = (
            await tx.session.scalars(
                select(UserGroup).where(owned_by(staff, UserGroup.company_id))
                .order_by(UserGroup.name)
            )
        ).all()
        # Members' names and e-mails: for the roles that see people; others, their count.
        people = (
            await tx.session.scalars(
                select(Consumer).where(owned_by(staff, Consumer.company_id))
                .order_by(Consumer.name, Consumer.id)
            )
        ).all() if staff.may(Permission.PEOPLE) else []
        rows = await tx.session.execute(
            select(GroupMember.group_id, GroupMember.consumer_id)
            .join(UserGroup, UserGroup.id == GroupMember.group_id)
            .where(owned_by(staff, UserGroup.company_id))
        )
        members: dict[int, set[int]] = {g.id: set() for g in groups}
        for group_id, consumer_id in rows:
            members[group_id].add(consumer_id)
        rules = await policy(tx.session, staff.company_id)
        return {"groups": groups, "people": people, "members": members,
                "topups": list(rules.topup_amounts),
                **_money_context(request, await _company(tx, staff))}

    context = await run_tx(request, op)
    return page(request, "machines/staff_groups.html", status=status, staff=staff,
                every=EVERY, configure=staff.may(Permission.MANAGE_PEOPLE),
                sees_people=staff.may(Permission.PEOPLE), errors=errors or {},
                typed=typed or {}, **context)


routes = [
    Route("/staff/machines/{machine_id:id}", machine_page),
    Route("/staff/selections", selections_page),
    Route("/staff/selections/{selection_id:id}", selection_page),
    Route("/staff/selections/{selection_id:id}/drinks", selection_drinks),
    Route("/staff/groups", groups_page),
]
