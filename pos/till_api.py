"""The till device's API: pair, switch user by PIN, lock; the pages' forms post here too."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from accounts.roles import Permission
from accounts.sign_in_limits import client_of
from api.endpoint import SESSION, Endpoint, Reply, Tag
from pos import device
from pos.approval import approver
from pos.commands import OpenDrawer, PairTill, SwitchIn, Training, approval_of_form
from pos.drawer import open_drawer
from pos.errors import (
    ApprovalNeeded,
    NotAtTill,
    NotPaired,
    PairingRefused,
    PinRefused,
    TooManyPairingTries,
    TooManyPinTries,
)
from pos.models import Till
from pos.printing import NoPrinter, PrinterUnavailable
from pos.schemas import (
    DrawerOpened,
    TillLocked,
    TillPaired,
    TillState,
    TillSwitched,
    TrainingState,
)
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


async def drawer(request: Request) -> Response:
    """Opens the cash drawer (it hangs on the till's receipt printer) outside a sale: a
    supervisor's action, approved by their PIN on a cashier's screen; journalled and
    audited with who acted, who approved and why."""
    at = await device.at_till(request, Permission.SELL)
    asked = await command(request, OpenDrawer, approval_of_form)
    approved_by = await open_drawer(app_state(request), at, asked.reason, asked.approval)
    return json_reply({"approved_by": approved_by, "redirect": "/till?done=drawer"}, request)


async def training(request: Request) -> Response:
    """Training mode on this till, supervised by the member who approves it (their PIN):
    tickets recorded meanwhile are marked training, name them, and count in no total.
    Off: back to real sales. Switching user ends it."""
    at = await device.at_till(request, Permission.SELL)
    asked = await command(request, Training, approval_of_form)
    supervisor = None
    if asked.on:
        supervisor = await approver(app_state(request), till=at.till, acting=at.staff,
                                    permission=Permission.TRAINING, approval=asked.approval)
    await device.set_training(request, at, asked.on, supervisor)
    done = "training_on" if asked.on else "training_off"
    return json_reply({"training": asked.on, "supervisor_id": supervisor,
                       "redirect": f"/till?done={done}"}, request)


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
    Endpoint("/till/drawer", drawer, "POST", tag=TILL, summary="Open the cash drawer",
             body=OpenDrawer, example={"reason": "Fond de caisse",
                                       "approval": {"staff_id": 2, "pin": "2002"}},
             responses={200: Reply(DrawerOpened, "The drawer was kicked open.")},
             errors=[NotPaired, NotAtTill, ApprovalNeeded, PinRefused, TooManyPinTries,
                     NoPrinter, PrinterUnavailable], security=SESSION),
    Endpoint("/till/training", training, "POST", tag=TILL, summary="Training mode on or off",
             body=Training, example={"on": True, "approval": {"staff_id": 2, "pin": "2002"}},
             responses={200: Reply(TrainingState, "Training mode is as asked.")},
             errors=[NotPaired, NotAtTill, ApprovalNeeded, PinRefused, TooManyPinTries],
             security=SESSION),
]
