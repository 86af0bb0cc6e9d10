"""One handler turns a DomainError into JSON for clients or a message for pages."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy.exc import IntegrityError
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response

from errors import N_, Conflict, DomainError, Messages
from web.headers import browser_headers
from web.htmx import is_htmx
from web.i18n import gettext
from web.redirects import is_safe_path
from web.state import locale_of
from web.templating import page

log = logging.getLogger(__name__)


def wants_json(request: Request) -> bool:
    return (
        request.url.path.startswith("/api/")
        or is_htmx(request)
        or "application/json" in request.headers.get("accept", "")
    )


def error_body(error: DomainError, locale: str) -> dict[str, Any]:
    text = gettext(locale, error.message)
    if error.params:
        text = text % {
            name: ", ".join(gettext(locale, m) for m in value)
            if isinstance(value, Messages) else value
            for name, value in error.params.items()
        }
    body: dict[str, object] = {"code": error.code, "message": text}
    if error.field:
        body["field"] = error.field
    if error.detail is not None:
        body["detail"] = dict(error.detail)
    return {"error": body}


# Where a refusal's page leads back to when the page before it is unknown or elsewhere:
# the staff's start for their pages, a consumer's account for theirs, else the home page.
_HOMES = (("/staff", "/staff"), ("/pos/", "/staff"), ("/backoffice", "/backoffice"),
          ("/account", "/account"))


def way_back(request: Request) -> str:
    """The page to go back to from an error page: the page the visitor came from, when it
    is one of ours (the Referer of this host) and not this one; else the start of the part
    of the site they were in."""
    referer = urlsplit(request.headers.get("referer", ""))
    here = request.url.path
    if referer.netloc == request.url.netloc and referer.path != here:
        back = referer.path + (f"?{referer.query}" if referer.query else "")
        if is_safe_path(back):
            return back
    for prefix, home in _HOMES:
        if here.startswith(prefix) and here != home:
            return home
    return "/"


def error_page(request: Request, status: int, message: str) -> Response:
    """A refusal or an error as a page: in the visitor's language, with a way back."""
    return page(request, "error.html", status=status, message=message, back=way_back(request))


async def domain_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, DomainError)
    locale = locale_of(request)
    body = error_body(exc, locale)
    if wants_json(request):
        return JSONResponse(body, status_code=exc.status, headers=exc.headers())
    message = body["error"]["message"]
    response = error_page(request, exc.status, message)
    response.headers.update(exc.headers())
    return response


async def integrity_error(request: Request, exc: Exception) -> Response:
    # Reached only when a retry did not resolve a race: report it, lose nothing.
    log.info("integrity error left after retry: %s", exc)
    return await domain_error(request, Conflict())


# Starlette's own refusals (no route, a method a route does not take…) carry English
# phrases ("Not Found", "Forbidden"): people get these instead, in their language.
HTTP_MESSAGES = {
    400: N_("This request could not be understood."),
    401: N_("Sign in to see this page."),
    403: N_("You are not allowed to do this."),
    404: N_("Not found."),
    405: N_("This address cannot be used this way."),
}
OTHER_HTTP_MESSAGE = N_("This request could not be served.")


async def http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    message = gettext(
        locale_of(request), HTTP_MESSAGES.get(exc.status_code, OTHER_HTTP_MESSAGE)
    )
    if wants_json(request):
        return JSONResponse(
            {"error": {"code": f"http_{exc.status_code}", "message": message}},
            status_code=exc.status_code, headers=exc.headers,
        )
    response = error_page(request, exc.status_code, message)
    response.headers.update(exc.headers or {})
    return response


HANDLERS = {
    DomainError: domain_error,
    IntegrityError: integrity_error,
    HTTPException: http_error,
}



Handler = Callable[[Request, Exception], Awaitable[Response]]


def handlers(public_url: str) -> dict[Any, Handler]:
    """HANDLERS, and what a bug shows: a plain apology that names no cause (the server's log
    has it). Starlette sends that answer outside every middleware, so it carries the
    browser headers (web/headers.py) itself."""

    async def server_error(request: Request, exc: Exception) -> Response:
        message = gettext(
            locale_of(request), N_("Something went wrong on our side. Please try again.")
        )
        response: Response
        if wants_json(request):
            response = JSONResponse(
                {"error": {"code": "server_error", "message": message}}, status_code=500
            )
        else:
            try:
                response = error_page(request, 500, message)
            except Exception:  # the page itself may be what is broken
                response = PlainTextResponse(message, status_code=500)
        for name, value in browser_headers(public_url, request.url.scheme == "https"):
            response.headers[name] = value
        return response

    return {**HANDLERS, Exception: server_error}
