"""One handler turns a DomainError into JSON for clients or a message for pages."""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy.exc import IntegrityError
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from errors import Conflict, DomainError
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
        text = text % error.params
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

