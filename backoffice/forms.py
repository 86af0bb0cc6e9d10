"""The back office's one way of handling a form: who is signed in, the form read as a typed
`Command` with every bad field's message at once, a service's refusal of a field, and done.

Unlike an API call that stops at the first bad field (web/commands.py), a page's form shows
each bad field's message next to it (templates/backoffice/_fields.html); nothing is written
until all are right. Forms post through htmx and swap the page's <main> (or the form) with
the answer's: a refused form answers 422 with the page again (static/backoffice.js lets htmx
swap a 422); a change that went through sends the browser on (HX-Redirect), so that a reload
never posts it twice.

A page holding several forms keys each one's errors by the form (`scoped`): "invite.email".
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Annotated, Any, Literal, TypeVar

from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from accounts.context import staff_of
from accounts.roles import Permission
from accounts.service import NotSignedIn, StaffIdentity
from errors import N_, DomainError
from ordering.menu_rules import Problem
from realtime.events import Tx
from web.body import read_body
from web.commands import Command, FormShape, Invalid, command
from web.htmx import is_htmx
from web.i18n import gettext
from web.redirects import redirect, safe_path
from web.state import locale_of, run_tx

C = TypeVar("C", bound=Command)

Errors = dict[str, str]  # field → its message, translated


class Unconfirmed(DomainError):
    """A destructive action was sent without `confirm: "yes"`."""

    code = "unconfirmed"
    status = 422
    message = N_("Confirm this action.")


class Confirmed(Command):
    """What a destructive action's form sends once the person said yes."""

    confirm: Annotated[Literal["yes"], Invalid(Unconfirmed)]


async def signed_in(request: Request) -> StaffIdentity:
    staff = await staff_of(request)
    if staff is None:
        raise NotSignedIn()
    return staff


async def member_for(request: Request, permission: Permission | None = None
                     ) -> StaffIdentity | Response:
    """Who a back-office page is for: the signed-in member, or the sign-in page for a
    visitor; a member whose role lacks `permission` gets the refusal page."""
    staff = await staff_of(request)
    if staff is None:
        return redirect("/staff/login")
    if permission is not None:
        staff.require(permission)
    return staff


def done(request: Request, where: str) -> Response:
    """The change went through: on to `where` (a page of this site)."""
    path = safe_path(where, "/backoffice/tables")
    if is_htmx(request):
        return Response(status_code=200, headers={"HX-Redirect": path})
    return RedirectResponse(path, status_code=303)


def message_of(error: DomainError, locale: str) -> str:
    text = gettext(locale, error.message)
    return text % error.params if error.params else text


def refused(error: DomainError, locale: str) -> Errors:
    """A service's refusal, shown next to its field (the form's own slot, "_", if none)."""
    return {error.field or "_": message_of(error, locale)}


def problems_of(problems: Iterable[Problem], locale: str) -> Errors:
    """Rules' problems (ordering/menu_rules.py), each field's first, translated."""
    errors: Errors = {}
    for problem in problems:
        text = gettext(locale, problem.message)
        errors.setdefault(problem.field, text % dict(problem.params) if problem.params else text)
    return errors


def scoped(form: str, errors: Errors) -> Errors:
    """One form's errors on a page of several: under "form.field", and which form it was."""
    if not errors:
        return {}
    return {**{f"{form}.{field}": text for field, text in errors.items()}, "form": form}


def _invalid_of(model: type[Command], field: str) -> Invalid:
    info = model.model_fields.get(field)
    metadata = info.metadata if info is not None else []
    return next((m for m in metadata if isinstance(m, Invalid)), model.invalid)


def field_errors(model: type[Command], failure: ValidationError, locale: str) -> Errors:
    """Each bad field's message, translated, the first failure of each field."""
    errors: Errors = {}
    for problem in failure.errors():
        field = str(problem["loc"][0]) if problem["loc"] else "_"
        if field not in errors:
            errors[field] = message_of(_invalid_of(model, field)(field), locale)
    return errors


def check(model: type[C], data: Mapping[str, Any], locale: str, *,
          form: bool = True) -> tuple[C | None, Errors]:
    """`data` as `model`, or every bad field's message."""
    try:
        return model.model_validate(data, context={"form": form}), {}
    except ValidationError as failure:
        return None, field_errors(model, failure, locale)


async def typed_of(request: Request) -> dict[str, str]:
    """What was typed in the form (its text fields), to show again."""
    return {k: v for k, v in (await read_body(request)).data.items() if isinstance(v, str)}


async def read_form(
    request: Request, model: type[C], shape: FormShape | None = None
) -> tuple[C | None, dict[str, Any], Errors]:
    """The form as `model`, what was typed (to show again), and the errors by field.
    `shape` reshapes a form's fields (some named after ids, e.g. `site-3`) into the
    model's."""
    body = await read_body(request)
    typed = {key: value for key, value in body.data.items() if isinstance(value, str)}
    data: Mapping[str, Any] = body.data
    if body.is_form and shape is not None:
        data = shape(typed)
    form, errors = check(model, data, locale_of(request), form=body.is_form)
    return form, typed, errors


def search_of(request: Request) -> tuple[str, int]:
    """A listing's search (`q`, at most 100 characters) and page number (`page`, from 1)."""
    params = request.query_params
    number = params.get("page", "1")
    return params.get("q", "")[:100], int(number) if number.isdecimal() and len(number) < 7 else 1


async def confirmed(request: Request, act: Callable[[Tx], Awaitable[object]],
                    where: str) -> Response:
    """A destructive action, once the person said yes (else the Unconfirmed page): run it,
    then on to `where`."""
    await command(request, Confirmed)
    await run_tx(request, act)
    return done(request, where)
