"""The password-reset pages: ask for a link (staff; consumers ask on their machine's
page), then choose the new password from the mailed link."""

from __future__ import annotations

from datetime import UTC, datetime

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from customers import password_reset
from web.state import app_state
from web.templating import page


async def forgot_page(request: Request) -> Response:
    return page(request, "password/forgot.html", sent=request.query_params.get("sent") == "1")


async def reset_page(request: Request) -> Response:
    """The form, if the link still works (else: it is not valid any more). Opening it
    spends nothing: mail scanners open links too."""
    token = request.path_params["token"]
    async with app_state(request).sessionmaker() as session:
        await password_reset.usable(session, token, datetime.now(UTC))
    return page(request, "password/reset.html", token=token)


routes = [
    Route("/password/forgot", forgot_page),
    Route("/password/reset/{token}", reset_page),
]
