"""The staff pages: the searched, sorted list, invitations (mailed), roles, sites and
sections, PIN resets, deactivation; the invited member's page to choose a password, and
everyone's own page to set their personal PIN."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from accounts import staff_admin, staff_limits
from accounts.models import Site, Staff
from accounts.roles import Permission
from accounts.sections import LABELS, opens_sections
from accounts.service import StaffIdentity
from accounts.tenant import owned_by
from backoffice.forms import (
    Errors,
    confirmed,
    done,
    member_for,
    read_form,
    refused,
    scoped,
    search_of,
    signed_in,
)
from customers import mail
from errors import N_, InvalidInput
from realtime.events import Tx
from web.i18n import gettext
from web.state import app_state, locale_of, run_tx
from web.templating import page

INVITE_SUBJECT = N_("You are invited to work on Comptoir")
INVITE_BODY = N_(
    "Hello %(name)s,\n\n%(by)s invites you to work on Comptoir. Choose your password here "
    "(the link works for 7 days, once):\n%(link)s\n")


def assignment_form(data: Mapping[str, str]) -> dict[str, Any]:
    """A form's checkboxes (`all_sites`, `site-<id>`; the `sections` choice, all or only,
    and `section-<name>`) as the assignment's fields. An unknown choice or section stays
    as sent, for the command to refuse."""
    shaped: dict[str, Any] = dict(data)
    shaped["all_sites"] = data.get("all_sites") in ("1", "on", "true")
    shaped["sites"] = [int(key[5:]) for key in data
                       if key.startswith("site-") and key[5:].isdecimal() and len(key) < 24]
    choice = data.get("sections", "all")
    shaped["all_sections"] = {"all": True, "only": False}.get(choice, choice)
    shaped["sections"] = [key[8:] for key in data if key.startswith("section-")][:10]
    return shaped


def _choices(staff: StaffIdentity) -> dict[str, Any]:
    """What the role, sites and sections fields offer: the roles this member gives, those
    that open a section (the sections' fieldset is for them) and the sections' names."""
    roles = [role for role in staff_admin.ROLE_ORDER
             if staff_admin.may_give(staff.role, role)]
    return {"roles": roles, "sectioned_roles": [r for r in roles if opens_sections(r)],
            "section_labels": LABELS}


async def _sites(tx: Tx, staff: StaffIdentity) -> list[Site]:
    found = (await tx.session.scalars(select(Site).where(
        owned_by(staff, Site.company_id)).order_by(Site.id))).all()
    return [site for site in found if staff.may_use(site.id)]


async def staff_list(request: Request) -> Response:
    staff = await member_for(request)
    if isinstance(staff, Response):
        return staff
    params = request.query_params
    search, wanted = search_of(request)
    sort = params.get("sort", "name")
    sort = sort if sort in staff_admin.SORTS else "name"
    descending = params.get("desc") == "1"
    async with app_state(request).sessionmaker() as session:
        found = await staff_admin.listing(session, staff, search, sort, descending, wanted)
        limits = await staff_limits.limits_of(session, found.rows)
    return page(request, "backoffice/staff.html", staff=staff, listing=found, q=search,
                sort=sort, desc=descending, limits=limits, section_labels=LABELS)


async def _invite_page(
    request: Request, staff: StaffIdentity, status: int = 200,
    errors: Errors | None = None, form: Mapping[str, Any] | None = None,
) -> Response:
    staff.require(Permission.CONFIGURE)
    sites = await run_tx(request, lambda tx: _sites(tx, staff))
    return page(request, "backoffice/staff_invite.html", status=status, staff=staff,
                sites=sites, errors=errors or {}, **_choices(staff),
                form=form or {"all_sites": True, "role": "cashier", "sites": [],
                              "all_sections": True, "sections": []})


async def invite_page(request: Request) -> Response:
    staff = await member_for(request)
    if isinstance(staff, Response):
        return staff
    return await _invite_page(request, staff)


async def invite(request: Request) -> Response:
    staff = await signed_in(request)
    base = app_state(request).settings.public_url
    locale = locale_of(request)
    new, typed, errors = await read_form(request, staff_admin.Invitation, assignment_form)

    async def op(tx: Tx) -> None:
        assert new is not None
        member, token = await staff_admin.invite(tx, staff, new)
        body = gettext(locale, INVITE_BODY) % {
            "name": member.name, "by": staff.name, "link": f"{base}/staff/invite/{token}"}
        mail.queue(tx.session, None, member.email, gettext(locale, INVITE_SUBJECT), body)

    if new is not None:
        try:
            await run_tx(request, op)
        except InvalidInput as error:
            errors = refused(error, locale)
    if errors:
        return await _invite_page(request, staff, 422, scoped("invite", errors),
                                  assignment_form(typed))
    return done(request, "/backoffice/staff")


async def _member_page(
    request: Request, staff: StaffIdentity, status: int = 200,
    errors: Errors | None = None,
) -> Response:
    async def op(tx: Tx) -> dict[str, Any]:
        member = await staff_admin.member(tx.session, staff, request.path_params["staff_id"])
        return {"member": member,
                "member_sites": await staff_limits.sites_of(tx.session, member.id),
                "member_sections": await staff_limits.sections_of(tx.session, member.id),
                "sites": await _sites(tx, staff)}

    context = await run_tx(request, op)
    return page(request, "backoffice/staff_member.html", status=status, staff=staff,
                errors=errors or {}, **_choices(staff), **context)


async def member_page(request: Request) -> Response:
    staff = await member_for(request)
    if isinstance(staff, Response):
        return staff
    return await _member_page(request, staff)


async def assign(request: Request) -> Response:
    staff = await signed_in(request)
    member_id = request.path_params["staff_id"]
    async with app_state(request).sessionmaker() as session:
        await staff_admin.member(session, staff, member_id)  # another company's: not found
    given, _, errors = await read_form(request, staff_admin.Assignment, assignment_form)
    if given is not None:
        try:
            await run_tx(request, lambda tx: staff_admin.assign(tx, staff, member_id, given))
        except InvalidInput as error:
            errors = refused(error, locale_of(request))
    if errors:
        return await _member_page(request, staff, 422, scoped("assign", errors))
    return done(request, f"/backoffice/staff/{member_id}")


async def reset_pin(request: Request) -> Response:
    staff = await signed_in(request)
    member_id = request.path_params["staff_id"]
    async with app_state(request).sessionmaker() as session:
        await staff_admin.member(session, staff, member_id)
    return await confirmed(request, lambda tx: staff_admin.reset_pin(tx, staff, member_id),
                           f"/backoffice/staff/{member_id}")


async def _set_active(request: Request, active: bool) -> Response:
    staff = await signed_in(request)
    member_id = request.path_params["staff_id"]
    async with app_state(request).sessionmaker() as session:
        await staff_admin.member(session, staff, member_id)
    return await confirmed(
        request, lambda tx: staff_admin.set_active(tx, staff, member_id, active),
        f"/backoffice/staff/{member_id}")


async def deactivate(request: Request) -> Response:
    return await _set_active(request, False)


async def activate(request: Request) -> Response:
    return await _set_active(request, True)


async def accept_page(request: Request) -> Response:
    """The invited member's page: their name, and a password to choose."""
    async with app_state(request).sessionmaker() as session:
        member = await staff_admin.invited(session, request.path_params["token"])
    return page(request, "backoffice/staff_accept.html", member=member, errors={})


async def accept(request: Request) -> Response:
    token = request.path_params["token"]
    given, _, errors = await read_form(request, staff_admin.Acceptance)
    if given is None:
        async with app_state(request).sessionmaker() as session:
            member = await staff_admin.invited(session, token)
        return page(request, "backoffice/staff_accept.html", status=422, member=member,
                    errors=scoped("accept", errors))
    accepted = await run_tx(request, lambda tx: staff_admin.accept(tx, token, given))
    request.session["staff_id"] = accepted.id  # signed in: on to choose their PIN
    return done(request, "/backoffice/pin")


async def pin_page(request: Request) -> Response:
    staff = await member_for(request)
    if isinstance(staff, Response):
        return staff
    async with app_state(request).sessionmaker() as session:
        member = await session.get(Staff, staff.id)
    has_pin = member is not None and member.pin_hash is not None
    return page(request, "backoffice/pin.html", staff=staff, has_pin=has_pin, errors={},
                saved=request.query_params.get("saved") == "1")


async def set_pin(request: Request) -> Response:
    staff = await signed_in(request)
    choice, _, errors = await read_form(request, staff_admin.PinChoice)
    if choice is None:
        return page(request, "backoffice/pin.html", status=422, staff=staff, has_pin=False,
                    errors=scoped("pin", errors), saved=False)
    await run_tx(request, lambda tx: staff_admin.set_own_pin(tx, staff, choice))
    return done(request, "/backoffice/pin?saved=1")


routes = [
    Route("/backoffice/staff", staff_list),
    Route("/backoffice/staff", invite, methods=["POST"]),
    Route("/backoffice/staff/new", invite_page),
    Route("/backoffice/staff/{staff_id:id}", member_page),
    Route("/backoffice/staff/{staff_id:id}", assign, methods=["POST"]),
    Route("/backoffice/staff/{staff_id:id}/pin-reset", reset_pin, methods=["POST"]),
    Route("/backoffice/staff/{staff_id:id}/deactivate", deactivate, methods=["POST"]),
    Route("/backoffice/staff/{staff_id:id}/activate", activate, methods=["POST"]),
    Route("/backoffice/pin", pin_page),
    Route("/backoffice/pin", set_pin, methods=["POST"]),
    Route("/staff/invite/{token}", accept_page),
    Route("/staff/invite/{token}", accept, methods=["POST"]),
]
