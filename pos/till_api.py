"""The till device's API: pair, switch user by PIN, lock; the pages' forms post here too."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from accounts.sign_in_limits import client_of
from api.endpoint import SESSION, Endpoint, Reply, Tag
from pos import device
from pos.commands import PairTill, SwitchIn
from pos.errors import (
    NotPaired,
    PairingRefused,
    PinRefused,
    TooManyPairingTries,
    TooManyPinTries,
)
from pos.models import Till
from pos.schemas import TillLocked, TillPaired, TillState, TillSwitched
from web.commands import command
from web.htmx import json_reply
from web.sessions import STAFF_ID, renew
from web.state import app_state

TILL = Tag("till", "A till is a device paired to a site once (a code from the back office); "
                   "staff then switch in on it with their personal PIN.")


def _till(till: Till) -> dict[str, object]:
    return {"id": till.id, "prefix": till.prefix, "name": till.name, "site_id": till.site_id}


async def pair(request: Request) -> Response:
    """Makes this device the till whose pairing code (valid ten minutes, once) it sends:
    the answer sets the `comptoir_till` cookie, a credential kept until the till is
    revoked or paired again. Wrong codes are limited per client (ten in ten minutes)."""
    typed = await command(request, PairTill)
    state = app_state(request)
    paired = await device.pair_limited(state, client_of(request), typed.code)
    # Whoever was signed in on this browser before is not the till's staff.
    if request.session.pop(STAFF_ID, None) is not None:
        renew(request)
    request.session.pop(device.TILL_ID, None)
    response = json_reply({"till": _till(paired.till), "redirect": "/till"}, request)
    response.set_cookie(device.COOKIE, paired.credential,
                        max_age=device.CREDENTIAL_DAYS * 86400, path="/", httponly=True,
                        secure=state.settings.secure_cookies, samesite="lax")
    return response


async def state_of(request: Request) -> Response:
    """This till, who is switched in on it, and who may switch in."""
    till = await device.till_of(request)
    if till is None:
        raise NotPaired()
    async with app_state(request).sessionmaker() as session:
        members = await device.staff_of_till(session, till)
    acting = request.session.get(STAFF_ID) if request.session.get(device.TILL_ID) == till.id \
        else None
    staff = next(({"id": m.id, "name": m.name} for m in members if m.id == acting), None)
    return JSONResponse({"till": _till(till), "staff": staff,
                         "members": [{"id": m.id, "name": m.name} for m in members]})


async def switch(request: Request) -> Response:
    """A member of staff switches in with their PIN: this device's session becomes theirs,
    bound to this till (the session before is ended). Wrong PINs are limited per till (ten
    in five minutes) and per member (five), whoever types them."""
    till = await device.till_of(request)
    if till is None:
        raise NotPaired()
    chosen = await command(request, SwitchIn)
    member = await device.switch_in(request, till, chosen.staff_id, chosen.pin)
    renew(request)
    return json_reply({"staff": {"id": member.id, "name": member.name}, "redirect": "/till"},
                      request)


async def lock(request: Request) -> Response:
    """Nobody acts on this till any more until someone types their PIN."""
    till = await device.till_of(request)
    if till is None:
        raise NotPaired()
    await device.switch_out(request, till)
    renew(request)
    return json_reply({"ok": True, "redirect": "/till"}, request)


routes = [
    Endpoint("/till/pair", pair, "POST", tag=TILL, summary="Pair this device as a till",
             body=PairTill, example={"code": "ABCD-2345"},
             responses={200: Reply(TillPaired, "Paired: the cookie holds the credential.")},
             errors=[PairingRefused, TooManyPairingTries], security=SESSION),
    Endpoint("/till", state_of, "GET", tag=TILL, summary="This till and who is on it",
             responses={200: Reply(TillState, "The till.")}, errors=[NotPaired],
             security=SESSION),
    Endpoint("/till/switch", switch, "POST", tag=TILL, summary="Switch user by PIN",
             body=SwitchIn, example={"staff_id": 3, "pin": "1234"},
             responses={200: Reply(TillSwitched, "Switched in.")},
             errors=[NotPaired, PinRefused, TooManyPinTries], security=SESSION),
    Endpoint("/till/lock", lock, "POST", tag=TILL, summary="Lock the till",
             responses={200: Reply(TillLocked, "Locked.")}, errors=[NotPaired],
             security=SESSION),
]
