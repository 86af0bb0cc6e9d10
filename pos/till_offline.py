"""The till offline: its web app manifest and its service worker, both from the site's root.

The service worker (static/till-sw.js) must be served from `/` for its scope to cover the
till's pages (/till…) and its catalog (/api/v1/till/catalog); it keeps them so the till
opens and sells with no network. The sales made meanwhile wait in the page's IndexedDB
(static/till-offline.js) and go up through `POST /api/v1/till/sync`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal
from uuid import UUID

from pydantic import BaseModel, Field
from sqlalchemy import select
from starlette.requests import HTTPConnection, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from accounts.models import Site
from accounts.roles import Permission
from api.endpoint import SESSION, Endpoint, Reply
from errors import Forbidden
from pos import device
from pos.approval import Approval, approval_token, approver
from pos.errors import ApprovalNeeded, NotAtTill, NotPaired, PinRefused, TooManyPinTries
from pos.models import Till
from pos.till_api import TILL
from pos.till_topic import topic_of
from realtime.topics import parse
from web.commands import Command, Id, command
from web.state import app_state

STATIC = Path(__file__).resolve().parents[1] / "static"
# Asked again by the browser at each page load: a new service worker reaches tills at once.
FRESH = {"Cache-Control": "no-cache"}
# How long a till may stay offline before it warns (the manager's setting, later).
OFFLINE_WARN_HOURS = 24  # a site's default (site.offline_warn_hours)

MANIFEST = {
    "name": "Comptoir",
    "short_name": "Comptoir",
    "start_url": "/till",
    "scope": "/",
    "display": "standalone",
    "background_color": "#ffffff",
    "theme_color": "#9a3412",
    "icons": [{"src": "/static/favicon.svg", "sizes": "any", "type": "image/svg+xml",
               "purpose": "any"}],
}


async def service_worker(request: Request) -> Response:
    script = (STATIC / "till-sw.js").read_bytes()
    return Response(script, media_type="text/javascript",
                    headers={**FRESH, "Service-Worker-Allowed": "/"})


async def manifest(request: Request) -> Response:
    return JSONResponse(MANIFEST, media_type="application/manifest+json", headers=FRESH)


class CheckApproval(Command):
    """A supervisor's PIN typed on the till for an action it records on the device first
    (a discount above the limit): checked now when the till is online, so a wrong PIN is
    said at once; the upload checks it again."""

    permission: Literal["discount"] = Field(description="What is approved.")
    approval: Approval | None = Field(None, description="The supervisor and their PIN.")
    uuid: UUID = Field(description="The sale it approves (the till's uuid for it).")


class Approved(BaseModel):
    staff_id: Id = Field(description="Who approves: the acting member when they may.")
    token: str = Field(description="Sent with the sale's upload instead of the PIN, which "
                                   "the till never keeps.")


async def check_approval(request: Request) -> Response:
    """Checks a supervisor's approval for the member switched in on this till (tries
    limited as a switch of user's): 200 with who approves, 409 `approval_needed` without
    one, 403 `pin_refused` with a wrong PIN. Records nothing."""
    at = await device.at_till(request, Permission.SELL)
    body = await command(request, CheckApproval)
    state = app_state(request)
    who = await approver(state, till=at.till, acting=at.staff,
                         permission=Permission.DISCOUNT, approval=body.approval)
    token = approval_token(state.settings.secret_key, at.till.id, who, body.uuid)
    return JSONResponse({"staff_id": who, "token": token})


api_routes = [
    Endpoint("/till/approval", check_approval, "POST", tag=TILL,
             summary="Check a supervisor's approval", operation_id="checkTillApproval",
             body=CheckApproval,
             example={"permission": "discount", "approval": {"staff_id": 2, "pin": "2002"}},
             responses={200: Reply(Approved, "Approved.")},
             errors=[NotPaired, NotAtTill, Forbidden, ApprovalNeeded, PinRefused,
                     TooManyPinTries],
             security=SESSION),
]

routes = [
    Route("/till-sw.js", service_worker, methods=["GET"]),
    Route("/till.webmanifest", manifest, methods=["GET"]),
]


async def indicator(conn: HTTPConnection, till: Till) -> dict[str, Any]:
    """What the till's pages give templates/till/_sync.html: after how many hours offline
    the till warns (its site's setting), and the till's live topic (a `sync_now` on it asks
    the page to upload at once), which the page subscribes to."""
    async with app_state(conn).sessionmaker() as session:
        hours = await session.scalar(select(Site.offline_warn_hours).where(
            Site.id == till.site_id))
    warn = {"offline_warn_hours": hours or OFFLINE_WARN_HOURS}
    topic = topic_of(till)
    if parse(topic) is None:  # not served by this app: nothing to listen to
        return {**warn, "sync_topic": ""}
    return {**warn, "sync_topic": topic, "topics": [topic]}
