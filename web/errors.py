"""One handler turns a DomainError into JSON for clients or a message for pages."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy.exc import IntegrityError
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response

from errors import N_, Conflict, DomainError, Messages
from web.headers import browser_headers
from web.htmx import is_htmx
from web.i18n import gettext
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


async def domain_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, DomainError)
    locale = locale_of(request)
    body = error_body(exc, locale)
    if wants_json(request):
        return JSONResponse(body, status_code=exc.status, headers=exc.headers())
    message = body["error"]["message"]
    response = page(request, "error.html", status=exc.status, message=message)
    response.headers.update(exc.headers())
    return response


async def integrity_error(request: Request, exc: Exception) -> Response:
    # Reached only when a retry did not resolve a race: report it, lose nothing.
    log.info("integrity error left after retry: %s", exc)
    return await domain_error(request, Conflict())


async def http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if wants_json(request):
        return JSONResponse(
            {"error": {"code": f"http_{exc.status_code}", "message": exc.detail}},
            status_code=exc.status_code,
        )
    return page(request, "error.html", status=exc.status_code, message=exc.detail)


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
                response = page(request, "error.html", status=500, message=message)
            except Exception:  # the page itself may be what is broken
                response = PlainTextResponse(message, status_code=500)
        for name, value in browser_headers(public_url, request.url.scheme == "https"):
            response.headers[name] = value
        return response

    return {**HANDLERS, Exception: server_error}
