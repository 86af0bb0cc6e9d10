"""What every back-office form does: who is signed in, errors next to their field, done.

Forms post through htmx and swap the page's <main> with the answer's: a refused field
answers 422 with the page again, the error next to the field (static/backoffice.js lets
htmx swap a 422); a change that went through sends the browser on (HX-Redirect), so that a
reload never posts it twice.
"""

from __future__ import annotations

from typing import Annotated, Literal

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from accounts.context import staff_of
from accounts.service import NotSignedIn, StaffIdentity
from errors import N_, DomainError
from web.commands import Command, Invalid
from web.htmx import is_htmx
from web.i18n import gettext
from web.redirects import redirect, safe_path
from web.state import locale_of


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


async def to_sign_in(request: Request) -> Response | None:
    """A page's answer to a visitor who is not signed in: the sign-in page."""
    return redirect("/staff/login") if await staff_of(request) is None else None


def field_errors(request: Request, form: str, error: DomainError) -> dict[str, str]:
    """The error, translated, under "form.field" (the template shows it by its field)."""
    text = gettext(locale_of(request), error.message)
    if error.params:
        text = text % error.params
    return {f"{form}.{error.field or '_'}": text, "form": form}


def done(request: Request, where: str) -> Response:
    """The change went through: on to `where` (a page of this site)."""
    path = safe_path(where, "/backoffice/tables")
    if is_htmx(request):
        return Response(status_code=200, headers={"HX-Redirect": path})
    return RedirectResponse(path, status_code=303)
