"""What htmx asks of a response: the same route answers the API and the page's forms."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse

from web.redirects import offsite_or_path, safe_path


def is_htmx(request: Request) -> bool:
    return request.headers.get("hx-request") == "true"


def json_reply(
    data: dict[str, Any], request: Request, status: int = 200, *, offsite: bool = False
) -> JSONResponse:
    """The JSON answer; for a page's form, its `redirect` or `refresh` becomes htmx's.

    `redirect` must be a path of this site (web/redirects.py); `offsite` also lets it be
    the absolute https URL of a payment provider's checkout page, which the provider gave
    our server (never a URL taken from the request)."""
    if data.get("redirect"):
        check = offsite_or_path if offsite else safe_path
        data = {**data, "redirect": check(data["redirect"], "/")}
    response = JSONResponse(data, status_code=status)
    if is_htmx(request):
        if data.get("redirect"):
            response.headers["HX-Redirect"] = data["redirect"]
        elif data.get("refresh"):
            response.headers["HX-Refresh"] = "true"
    return response
