"""The customer's own profile in their space (`POST /account/loyalty/profile`): the fields
the venue asks, and their consents by channel, one switch each.

The space may be embedded in the venue's site, and this form then posts inside the frame:
an htmx request of this site's own origin, carrying the page's CSRF token (web/security.py)
and the session's cookie (SameSite=Lax: a browser sends it only where the frame's page is
of the same site as ours; framed by another site, the page shows nobody and asks to be
opened, so there is no form to post). A refusal names its field; nothing is written.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from accounts.context import consumer_id_of
from customers.models import Consumer
from loyalty import profiles
from loyalty.commands import Profile
from loyalty.errors import SpaceSignInNeeded
from realtime.events import Tx
from web.commands import command
from web.htmx import json_reply
from web.state import run_tx


async def save_profile(request: Request) -> Response:
    consumer_id = consumer_id_of(request)
    if consumer_id is None:
        raise SpaceSignInNeeded()
    told = await command(request, Profile)

    async def op(tx: Tx) -> None:
        consumer = await tx.session.get(Consumer, consumer_id)
        if consumer is None:
            raise SpaceSignInNeeded()
        await profiles.save(tx, consumer.company_id, consumer_id, told)

    await run_tx(request, op)
    return json_reply({"ok": True, "redirect": "/account/loyalty?saved=1#profile"}, request)


routes = [
    Route("/account/loyalty/profile", save_profile, methods=["POST"]),
]
