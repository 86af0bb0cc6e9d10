"""Adding a machine with a wizard (model, serial, site and mode, then its secret shown once),
editing one, moving it to another site.

The wizard's steps post to one address; each answer carries the earlier ones as hidden
fields and all are checked again. The last answer shows the device secret: it is never
stored (only its hash) and never shown again, so reloading or coming back shows the first
step; a new secret is the machine page's "New device secret".
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from accounts.models import Site
from accounts.roles import Permission
from accounts.service import StaffIdentity
from backoffice.forms import (
    Errors,
    check,
    done,
    member_for,
    message_of,
    read_form,
)
from backoffice.machine_forms import (
    MODEL_ERROR,
    SITE_ERROR,
    STEPS,
    MachineEdit,
    MachineMove,
    PlaceStep,
)
from errors import DomainError
from machines import admin_service, machine_setup
from machines.access import Mode
from machines.commands import AddMachine
from machines.errors import SerialTaken
from machines.models import Machine
from machines.pages import machine_url, qr
from realtime.events import Tx
from web.body import read_body
from web.i18n import gettext
from web.state import app_state, locale_of, run_tx
from web.templating import page

MODES = [mode.value for mode in Mode]
NO_STORE = {"Cache-Control": "no-store"}  # the secret's page: no copy in any cache


async def _choices(staff: StaffIdentity, request: Request) -> dict[str, Any]:
    async with app_state(request).sessionmaker() as session:
        return {"models": await machine_setup.models_offered(session, staff),
                "sites": await machine_setup.open_sites(session, staff), "modes": MODES}


def _wizard(request: Request, staff: StaffIdentity, step: str, values: dict[str, str],
            errors: Errors, choices: dict[str, Any], status: int = 200) -> Response:
    number = [name for name, _, _ in STEPS].index(step) + 1
    response = page(request, "backoffice/machine_new.html", status=status, staff=staff,
                    step=step, number=number, steps=len(STEPS) + 1, values=values,
                    errors=errors, **choices)
    response.headers.update(NO_STORE)
    return response


async def new_page(request: Request) -> Response:
    """The first step: the model."""
    staff = await member_for(request, Permission.RUN_MACHINES)
    if isinstance(staff, Response):
        return staff
    return _wizard(request, staff, "model", {}, {}, await _choices(staff, request))


async def _database_errors(request: Request, staff: StaffIdentity, asked: set[str],
                           values: dict[str, str], choices: dict[str, Any]) -> Errors:
    """What only the database can say of the answers given so far."""
    locale = locale_of(request)
    errors: Errors = {}
    if "model" in asked and values.get("model", "").strip() not in choices["models"]:
        errors["model"] = gettext(locale, MODEL_ERROR)
    if "serial" in asked:
        try:
            async with app_state(request).sessionmaker() as session:
                await machine_setup.serial_free(session, " ".join(values["serial"].split()))
        except SerialTaken as taken:
            errors["serial"] = message_of(taken, locale)
    if "site_id" in asked and values.get("site_id") not in {str(s.id) for s in choices["sites"]}:
        errors["site_id"] = gettext(locale, SITE_ERROR)
    return errors


async def wizard_step(request: Request) -> Response:
    """One answer: the earlier steps' fields again (hidden) and this step's. The first step
    with a wrong field is shown again with its errors; else the next step, or the machine
    added and its secret."""
    staff = await member_for(request, Permission.RUN_MACHINES)
    if isinstance(staff, Response):
        return staff
    locale = locale_of(request)
    body = await read_body(request)
    values = {k: v for k, v in body.data.items() if isinstance(v, str) and k != "step"}
    names = [name for name, _, _ in STEPS]
    current = names.index(body.data["step"]) if body.data.get("step") in names else 0
    _, shape, _ = STEPS[current]
    choices = await _choices(staff, request)
    form, errors = check(shape, values, locale)
    asked = {field for _, _, fields in STEPS[: current + 1] for field in fields}
    if not errors:
        errors = await _database_errors(request, staff, asked, values, choices)
    if errors:
        wrong = next(i for i, (_, _, fields) in enumerate(STEPS) if set(fields) & set(errors))
        return _wizard(request, staff, names[wrong], values, errors, choices, status=422)
    if current + 1 < len(STEPS):
        return _wizard(request, staff, names[current + 1], values, {}, choices)
    assert isinstance(form, PlaceStep)  # the last step's shape holds every answer
    new = AddMachine(site_id=form.site_id, name=form.name, model=form.model,
                     serial=form.serial, mode=form.mode)
    try:
        added = await run_tx(request, lambda tx: admin_service.add_machine(tx, staff, new))
    except SerialTaken as taken:  # added by someone else meanwhile
        return _wizard(request, staff, "serial", values, {"serial": message_of(taken, locale)},
                       choices, status=422)
    url = machine_url(request, added.machine.token)
    site = next(s for s in choices["sites"] if s.id == added.machine.site_id)
    response = page(request, "backoffice/machine_added.html", staff=staff,
                    machine=added.machine, site=site, secret=added.secret, url=url,
                    qr_svg=qr(url).svg_inline(scale=4, border=2), steps=len(STEPS) + 1)
    response.headers.update(NO_STORE)
    return response


async def _machine_page(
    request: Request, staff: StaffIdentity, status: int = 200,
    values: dict[str, str] | None = None, errors: Errors | None = None,
) -> Response:
    async def op(tx: Tx) -> tuple[Machine, Site, list[Site]]:
        machine = await admin_service.machine_for(tx, staff, request.path_params["machine_id"])
        site = await tx.session.get(Site, machine.site_id)
        assert site is not None
        return machine, site, await machine_setup.open_sites(tx.session, staff)

    machine, site, sites = await run_tx(request, op)
    shown = values or {"name": machine.name, "mode": machine.mode}
    return page(request, "backoffice/machine_edit.html", status=status, staff=staff,
                machine=machine, site=site, sites=[s for s in sites if s.id != site.id],
                modes=MODES, values=shown, errors=errors or {})


async def edit_page(request: Request) -> Response:
    staff = await member_for(request, Permission.RUN_MACHINES)
    if isinstance(staff, Response):
        return staff
    return await _machine_page(request, staff)


async def _machine_or_missing(request: Request, staff: StaffIdentity) -> int:
    """The machine's id, once it is known to be one staff may change (else not found)."""
    machine = await run_tx(request, lambda tx: admin_service.machine_for(
        tx, staff, request.path_params["machine_id"]))
    return machine.id


async def edit(request: Request) -> Response:
    staff = await member_for(request, Permission.RUN_MACHINES)
    if isinstance(staff, Response):
        return staff
    machine_id = await _machine_or_missing(request, staff)
    form, values, errors = await read_form(request, MachineEdit)
    if form is None:
        return await _machine_page(request, staff, 422, values, errors)
    await run_tx(request, lambda tx: machine_setup.edit_machine(
        tx, staff, machine_id, form.name, form.mode))
    return done(request, f"/backoffice/machines/{machine_id}?saved=1")


async def move(request: Request) -> Response:
    """To another open site of the company, once confirmed."""
    staff = await member_for(request, Permission.RUN_MACHINES)
    if isinstance(staff, Response):
        return staff
    machine_id = await _machine_or_missing(request, staff)
    form, _, errors = await read_form(request, MachineMove)
    if form is not None:
        try:
            await run_tx(request, lambda tx: machine_setup.move_machine(
                tx, staff, machine_id, form.site_id))
        except DomainError as refused:  # a site not offered: another company's, archived
            if refused.status != 404:
                raise
            errors = {"site_id": gettext(locale_of(request), SITE_ERROR)}
    if errors:
        return await _machine_page(request, staff, 422, errors=errors)
    return done(request, f"/backoffice/machines/{machine_id}?moved=1")


routes = [
    Route("/backoffice/machines/new", new_page),
    Route("/backoffice/machines/new", wizard_step, methods=["POST"]),
    Route("/backoffice/machines/{machine_id:id}", edit_page),
    Route("/backoffice/machines/{machine_id:id}", edit, methods=["POST"]),
    Route("/backoffice/machines/{machine_id:id}/move", move, methods=["POST"]),
]
