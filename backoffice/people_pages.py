"""The people pages: the company's consumers searched and paged, the approval queue (ticked
and approved at once, with the role and group they get), inviting a consumer by e-mail and
the invited person's page to choose a password, a consumer's name and groups, and deleting
an account after a page that says what goes with it (customers/people_admin.py and
customers/invitations.py hold the rules)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from accounts.roles import Permission
from accounts.service import StaffIdentity
from backoffice.forms import (
    Confirmed,
    Errors,
    done,
    member_for,
    read_form,
    refused,
    scoped,
    search_of,
    signed_in,
)
from customers import invitations, people_admin
from errors import InvalidInput
from realtime.events import Tx
from web.sessions import CONSUMER_ID, renew
from web.state import app_state, locale_of, run_tx
from web.templating import page


def _ticked(data: Mapping[str, str], prefix: str) -> list[int]:
    return [int(key[len(prefix):]) for key in data
            if key.startswith(prefix) and key[len(prefix):].isdecimal() and len(key) < 30]


def edit_form(data: Mapping[str, str]) -> dict[str, Any]:
    """Checkboxes `group-<id>` as the edit's `groups`."""
    shaped: dict[str, Any] = dict(data)
    shaped["groups"] = _ticked(data, "group-")
    return shaped


def approval_form(data: Mapping[str, str]) -> dict[str, Any]:
    """Checkboxes `consumer-<id>` as the approval's `consumers`, the role chosen, and the
    group (none: an empty choice)."""
    shaped: dict[str, Any] = {"consumers": _ticked(data, "consumer-")}
    if "role" in data:
        shaped["role"] = data["role"]
    if data.get("group"):
        shaped["group"] = data["group"]
    return shaped


async def _list_page(request: Request, staff: StaffIdentity, status: int = 200,
                     errors: Errors | None = None) -> Response:
    search, wanted = search_of(request)
    waiting = request.query_params.get("waiting") == "1"
    async with app_state(request).sessionmaker() as session:
        found = await people_admin.listing(session, staff, search, waiting, wanted)
        groups = await people_admin.groups(session, staff.company_id)
    return page(request, "backoffice/people.html", status=status, staff=staff, listing=found,
                q=search, waiting=waiting, errors=errors or {}, groups=groups,
                may_change=staff.may(Permission.MANAGE_PEOPLE))


async def people_list(request: Request) -> Response:
    staff = await member_for(request)
    if isinstance(staff, Response):
        return staff
    return await _list_page(request, staff)


async def approve(request: Request) -> Response:
    staff = await signed_in(request)
    given, _, errors = await read_form(request, people_admin.Approval, approval_form)
    if given is None:
        return await _list_page(request, staff, 422, scoped("approve", errors))
    try:
        await run_tx(request, lambda tx: people_admin.approve_many(tx, staff, given))
    except InvalidInput as error:
        return await _list_page(request, staff, 422,
                                scoped("approve", refused(error, locale_of(request))))
    return done(request, "/backoffice/people?waiting=1")


async def _invite_page(request: Request, staff: StaffIdentity, status: int = 200,
                       errors: Errors | None = None,
                       form: Mapping[str, Any] | None = None) -> Response:
    people_admin.manager(staff)
    return page(request, "backoffice/people_invite.html", status=status, staff=staff,
                errors=errors or {}, form=form or {"role": "consumer"})


async def invite_page(request: Request) -> Response:
    staff = await member_for(request)
    if isinstance(staff, Response):
        return staff
    return await _invite_page(request, staff)


async def invite(request: Request) -> Response:
    """Sends the invitation, and on to the person's page, which says what became of it."""
    staff = await signed_in(request)
    base = app_state(request).settings.public_url
    given, typed, errors = await read_form(request, invitations.ConsumerInvitation)
    if given is None:
        return await _invite_page(request, staff, 422, scoped("invite", errors), typed)
    now = datetime.now(UTC)
    outcome = await run_tx(request, lambda tx: invitations.invite(
        tx, staff, given, base, locale_of(request), now))
    said = "member" if not outcome.sent else "again" if outcome.again else "sent"
    return done(request, f"/backoffice/people/{outcome.consumer.id}?invited={said}")


async def accept_page(request: Request) -> Response:
    """The invited person's page: who they are, and a password to choose."""
    async with app_state(request).sessionmaker() as session:
        person = await invitations.invited(session, request.path_params["token"],
                                           datetime.now(UTC))
    return page(request, "backoffice/people_accept.html", person=person, errors={})


async def accept(request: Request) -> Response:
    """The password chosen: signed in to their account (a new session id), on to it."""
    token = request.path_params["token"]
    given, _, errors = await read_form(request, invitations.FirstPassword)
    if given is None:
        async with app_state(request).sessionmaker() as session:
            person = await invitations.invited(session, token, datetime.now(UTC))
        return page(request, "backoffice/people_accept.html", status=422, person=person,
                    errors=scoped("accept", errors))
    now = datetime.now(UTC)
    person = await run_tx(request, lambda tx: invitations.accept(tx, token, given, now))
    request.session[CONSUMER_ID] = person.id
    renew(request)
    return done(request, invitations.LANDING)


async def _person_page(request: Request, staff: StaffIdentity, status: int = 200,
                       errors: Errors | None = None) -> Response:
    async def op(tx: Tx) -> dict[str, Any]:
        person = await people_admin.person(tx.session, staff, request.path_params["consumer_id"])
        return {"person": person,
                "person_groups": await people_admin.groups_of(tx.session, person.id),
                "groups": await people_admin.groups(tx.session, staff.company_id),
                "removal": await people_admin.removal(tx.session, person)}

    context = await run_tx(request, op)
    invited = request.query_params.get("invited")
    return page(request, "backoffice/people_person.html", status=status, staff=staff,
                errors=errors or {}, may_change=staff.may(Permission.MANAGE_PEOPLE),
                invited=invited if invited in ("sent", "again", "member") else None,
                **context)


async def person_page(request: Request) -> Response:
    staff = await member_for(request)
    if isinstance(staff, Response):
        return staff
    return await _person_page(request, staff)


async def edit(request: Request) -> Response:
    staff = await signed_in(request)
    consumer_id = request.path_params["consumer_id"]
    async with app_state(request).sessionmaker() as session:
        await people_admin.person(session, staff, consumer_id)  # another company's: not found
    given, _, errors = await read_form(request, people_admin.ConsumerEdit, edit_form)
    if given is None:
        return await _person_page(request, staff, 422, scoped("edit", errors))
    try:
        await run_tx(request, lambda tx: people_admin.edit(tx, staff, consumer_id, given))
    except InvalidInput as error:
        return await _person_page(request, staff, 422,
                                  scoped("edit", refused(error, locale_of(request))))
    return done(request, f"/backoffice/people/{consumer_id}")


async def _delete_page(request: Request, staff: StaffIdentity, status: int = 200,
                       errors: Errors | None = None) -> Response:
    async def op(tx: Tx) -> dict[str, Any]:
        person = await people_admin.person(tx.session, staff, request.path_params["consumer_id"])
        return {"person": person, "removal": await people_admin.removal(tx.session, person)}

    context = await run_tx(request, op)
    return page(request, "backoffice/people_delete.html", status=status, staff=staff,
                errors=errors or {}, **context)


async def delete_page(request: Request) -> Response:
    staff = await member_for(request)
    if isinstance(staff, Response):
        return staff
    return await _delete_page(request, staff)


async def delete(request: Request) -> Response:
    staff = await signed_in(request)
    consumer_id = request.path_params["consumer_id"]
    async with app_state(request).sessionmaker() as session:
        await people_admin.person(session, staff, consumer_id)
    yes, _, errors = await read_form(request, Confirmed)
    if yes is None:
        return await _delete_page(request, staff, 422, scoped("delete", errors))
    await run_tx(request, lambda tx: people_admin.remove(tx, staff, consumer_id))
    return done(request, "/backoffice/people")


routes = [
    Route("/backoffice/people", people_list),
    Route("/backoffice/people/approve", approve, methods=["POST"]),
    Route("/backoffice/people/invite", invite_page),
    Route("/backoffice/people/invite", invite, methods=["POST"]),
    Route("/backoffice/people/{consumer_id:id}", person_page),
    Route("/backoffice/people/{consumer_id:id}", edit, methods=["POST"]),
    Route("/backoffice/people/{consumer_id:id}/delete", delete_page),
    Route("/backoffice/people/{consumer_id:id}/delete", delete, methods=["POST"]),
    Route("/account/invite/{token}", accept_page),
    Route("/account/invite/{token}", accept, methods=["POST"]),
]
