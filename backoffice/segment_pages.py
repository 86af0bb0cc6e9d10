"""The segments of the campaigns section: the list with each one's count, and the editor
(criteria rows added and removed, all / any, the best N) whose count and first members
follow the form as it changes (htmx posts it to /preview, debounced); save, copy, delete.

A refused form comes back (422) with each bad field's message and nothing changed; the
services are loyalty's (loyalty/segment_admin.py), which audit each change.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from accounts.models import Company, Site
from accounts.roles import Permission
from accounts.service import StaffIdentity
from backoffice import segment_forms as forms
from backoffice.forms import Errors, confirmed, done, member_for, message_of, typed_of
from errors import N_, InvalidInput
from loyalty import segment_admin, segment_query
from loyalty.models import Reward
from loyalty.segments import Definition, parse
from realtime.events import Tx
from web.i18n import gettext
from web.state import locale_of, run_tx
from web.templating import page

SEGMENTS = "/backoffice/campaigns/segments"
SAID = frozenset({"added", "saved", "copied", "deleted"})
SHOWN = 20
NEW = {"name": "", "match": "all", "best_n": "10", "best_by": "visits", "best_months": "12"}


async def _member(request: Request) -> StaffIdentity | Response:
    return await member_for(request, Permission.CAMPAIGNS)


async def _now(tx: Tx, company_id: int) -> tuple[datetime, Company]:
    """Now in the venue's time zone (its date is "today" for birthdays), and the company."""
    company = await tx.session.get(Company, company_id)
    assert company is not None
    return datetime.now(ZoneInfo(company.timezone)), company


async def _choices(tx: Tx, company_id: int) -> dict[str, Any]:
    sites = await tx.session.execute(
        select(Site.id, Site.name).where(Site.company_id == company_id).order_by(Site.name))
    rewards = await tx.session.execute(
        select(Reward.id, Reward.name).where(Reward.company_id == company_id)
        .order_by(Reward.name))
    return {"sites": [(str(i), n) for i, n in sites],
            "rewards": [(str(i), n) for i, n in rewards]}


async def _live(tx: Tx, company_id: int, definition: Definition | None) -> dict[str, Any]:
    """The count and first members of a definition (none when it is refused)."""
    now, company = await _now(tx, company_id)
    shown = {"currency": company.currency, "timezone": company.timezone}
    if definition is None:
        return {"count": None, "members": [], **shown}
    return {"count": await segment_query.count(tx.session, company_id, definition, now),
            "members": await segment_query.members(tx.session, company_id, definition, now,
                                                   SHOWN), **shown}


def _errors(error: InvalidInput, locale: str) -> Errors:
    return {forms.field_of(error.field or "_"): message_of(error, locale)}


async def _editor(request: Request, staff: StaffIdentity, typed: Mapping[str, str],
                  segment_id: int | None, status: int = 200, errors: Errors | None = None,
                  template: str = "backoffice/segment.html") -> Response:
    """The editor page (or its form alone), with the live count of what is typed."""
    errors = dict(errors or {})

    async def read(tx: Tx) -> dict[str, Any]:
        segment = None
        if segment_id is not None:
            segment = await segment_admin.segment_of(tx.session, staff.company_id, segment_id)
        definition = None
        try:
            definition = await segment_admin.checked(
                tx.session, staff.company_id, forms.definition_of(typed))
        except InvalidInput as error:
            errors.update({k: v for k, v in _errors(error, locale_of(request)).items()
                           if k not in errors})
        return {"segment": segment, **await _choices(tx, staff.company_id),
                **await _live(tx, staff.company_id, definition)}

    context = await run_tx(request, read)
    return page(request, template, status=status, staff=staff, values=typed,
                rows=forms.rows_of(typed), errors=errors, kinds=forms.KIND_NAMES,
                fields=forms.FIELDS, said=_said(request), **context)


def _said(request: Request) -> str:
    said = request.query_params.get("said", "")
    return said if said in SAID else ""


async def list_page(request: Request) -> Response:
    staff = await _member(request)
    if isinstance(staff, Response):
        return staff

    async def read(tx: Tx) -> dict[str, Any]:
        now, _company = await _now(tx, staff.company_id)
        listed = []
        for segment in await segment_admin.segments(tx.session, staff.company_id):
            try:
                counted: int | None = await segment_query.count(
                    tx.session, staff.company_id, parse(segment.definition), now)
            except InvalidInput:
                counted = None
            listed.append((segment, counted))
        return {"segments": listed}

    return page(request, "backoffice/segments.html", staff=staff, said=_said(request),
                **await run_tx(request, read))


async def new_page(request: Request) -> Response:
    staff = await _member(request)
    if isinstance(staff, Response):
        return staff
    return await _editor(request, staff, NEW, None)


async def segment_page(request: Request) -> Response:
    staff = await _member(request)
    if isinstance(staff, Response):
        return staff
    segment_id = request.path_params["segment_id"]

    async def read(tx: Tx) -> dict[str, str]:
        segment = await segment_admin.segment_of(tx.session, staff.company_id, segment_id)
        company = await tx.session.get(Company, staff.company_id)
        assert company is not None
        return forms.typed_of(segment.name, segment.definition, company.currency,
                              locale_of(request))

    return await _editor(request, staff, await run_tx(request, read), segment_id)


async def preview(request: Request) -> Response:
    """The live count and first members of the form as it is now (a fragment)."""
    staff = await _member(request)
    if isinstance(staff, Response):
        return staff
    typed = await typed_of(request)
    return await _editor(request, staff, typed, None, template="backoffice/_segment_live.html")


async def rows(request: Request) -> Response:
    """The editor's form again with a row added (`op` "add:<kind>"), removed
    ("remove:<i>") or of another kind ("kind:<i>")."""
    staff = await _member(request)
    if isinstance(staff, Response):
        return staff
    typed = await typed_of(request)
    action, _sep, arg = typed.pop("op", "").partition(":")
    if action == "add":
        typed = forms.with_row(typed, arg or typed.get("new_kind", ""))
    elif action == "remove" and arg.isdecimal():
        typed = forms.without_row(typed, int(arg))
    elif action == "kind" and arg.isdecimal():
        typed = forms.retyped(typed, int(arg), typed.get(f"c{arg}_kind", ""))
    segment_id = typed.get("segment_id", "")
    return await _editor(request, staff, typed,
                         int(segment_id) if segment_id.isdecimal() else None,
                         template="backoffice/_segment_form.html")


async def _save(request: Request, staff: StaffIdentity, segment_id: int | None) -> Response:
    typed = await typed_of(request)
    data = forms.definition_of(typed)
    name = typed.get("name", "")
    try:
        if segment_id is None:
            segment = await run_tx(request, lambda tx: segment_admin.add(tx, staff, name, data))
        else:
            segment = await run_tx(request, lambda tx: segment_admin.edit(
                tx, staff, segment_id, name, data))
    except InvalidInput as error:
        return await _editor(request, staff, typed, segment_id, 422,
                             _errors(error, locale_of(request)))
    said = "added" if segment_id is None else "saved"
    return done(request, f"{SEGMENTS}/{segment.id}?said={said}")


async def add_segment(request: Request) -> Response:
    staff = await _member(request)
    if isinstance(staff, Response):
        return staff
    return await _save(request, staff, None)


async def save_segment(request: Request) -> Response:
    staff = await _member(request)
    if isinstance(staff, Response):
        return staff
    return await _save(request, staff, request.path_params["segment_id"])


async def duplicate_segment(request: Request) -> Response:
    staff = await _member(request)
    if isinstance(staff, Response):
        return staff
    copy_name = gettext(locale_of(request), N_("Copy of %(name)s"))
    copy = await run_tx(request, lambda tx: segment_admin.duplicate(
        tx, staff, request.path_params["segment_id"], copy_name))
    return done(request, f"{SEGMENTS}/{copy.id}?said=copied")


async def delete_segment(request: Request) -> Response:
    staff = await _member(request)
    if isinstance(staff, Response):
        return staff
    return await confirmed(request, lambda tx: segment_admin.delete(
        tx, staff, request.path_params["segment_id"]), f"{SEGMENTS}?said=deleted")


routes = [
    Route(SEGMENTS, list_page),
    Route(SEGMENTS + "/new", new_page),
    Route(SEGMENTS + "/new", add_segment, methods=["POST"]),
    Route(SEGMENTS + "/preview", preview, methods=["POST"]),
    Route(SEGMENTS + "/rows", rows, methods=["POST"]),
    Route(SEGMENTS + "/{segment_id:id}", segment_page),
    Route(SEGMENTS + "/{segment_id:id}", save_segment, methods=["POST"]),
    Route(SEGMENTS + "/{segment_id:id}/duplicate", duplicate_segment, methods=["POST"]),
    Route(SEGMENTS + "/{segment_id:id}/delete", delete_segment, methods=["POST"]),
]
