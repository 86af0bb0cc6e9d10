"""What htmx asks of a response: the same route answers the API and the page's forms."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse


def is_htmx(request: Request) -> bool:
    return request.headers.get("hx-request") == "true"


def json_reply(data: dict[str, Any], request: Request, status: int = 200) -> JSONResponse:
    """The JSON answer; for a page's form, its `redirect` or `refresh` becomes htmx's."""
    response = JSONResponse(data, status_code=status)
    if is_htmx(request):
        if data.get("redirect"):
            response.headers["HX-Redirect"] = data["redirect"]
        elif data.get("refresh"):
            response.headers["HX-Refresh"] = "true"
    return response
