"""`/unsubscribe/{token}`: the page a marketing mail's or SMS's link opens.

GET only asks (mail scanners fetch links before anyone reads them: a GET must change
nothing); POST unsubscribes, whether from the page's button or from a mail client's own
button (RFC 8058: `List-Unsubscribe=One-Click`, no session, no CSRF token: the signed link is
the authority, and app.py lets this path's POSTs through web/security.py's check). A garbled
or forged link: 404 with a page that says so.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from loyalty.unsubscribe import Channel, profile_of, read, withdraw
from realtime.events import Tx
from web.state import app_state, run_tx
from web.templating import page

PATH = "/unsubscribe/"  # POSTs here carry no CSRF token (app.py, web/security.py)


async def unsubscribe_page(request: Request) -> Response:
    asked = read(app_state(request).settings.secret_key, request.path_params["token"])
    token = request.path_params["token"]

    async def op(tx: Tx) -> bool:
        if request.method == "POST":
            await withdraw(tx, asked)
            return True
        profile = await profile_of(tx, asked)
        consent = (profile.email_consent_at if asked.channel is Channel.EMAIL
                   else profile.sms_consent_at)
        return consent is None

    done = await run_tx(request, op)
    response = page(request, "loyalty/unsubscribe.html", token=token, done=done,
                    posted=request.method == "POST", channel=asked.channel.value)
    response.headers["cache-control"] = "no-store"
    return response


routes = [
    Route(PATH + "{token}", unsubscribe_page, methods=["GET", "POST"]),
]
