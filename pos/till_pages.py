"""The till's own pages: pairing the device, then who is on it (a name, then a PIN)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from accounts.roles import Permission
from accounts.service import StaffIdentity
from errors import N_
from pos import device
from pos.till_offline import indicator
from web.sessions import STAFF_ID
from web.state import app_state
from web.templating import page

# What the till's home offers the member switched in, each if their role allows it:
# (path, its label, the permission it needs). `{site}` is the till's site.
ACTIONS: list[tuple[str, str, Permission]] = [
    ("/till/sell", N_("Counter sale"), Permission.SELL),
    ("/pos/{site}", N_("Tables and rounds"), Permission.VALIDATE),
    ("/till/clock", N_("Clock in and out"), Permission.CLOCK),
    ("/till/tickets", N_("Tickets and refunds"), Permission.SELL),
    ("/till/reports", N_("X and Z reports"), Permission.SELL),
]

NO_STORE = {"Cache-Control": "no-store"}
# What the till's home says after an action that came back to it (?done=…).
DONE = {
    "drawer": N_("The drawer is open."),
    "training_on": N_("Training mode: nothing sold now counts."),
    "training_off": N_("Training mode is over: sales count again."),
}


def _approvers(members: list[StaffIdentity], acting: StaffIdentity | None,
               permission: Permission) -> list[tuple[int, str]] | None:
    """Who may approve `permission` for the member switched in; None when they hold it."""
    if acting is None or acting.may(permission):
        return None
    return [(m.id, m.name) for m in members if m.may(permission)]


async def pair_page(request: Request) -> Response:
    if await device.till_of(request) is not None:
        return RedirectResponse("/till", status_code=303)
    response = page(request, "till/pair.html")
    response.headers.update(NO_STORE)
    return response


async def home(request: Request) -> Response:
    """The till: who may switch in (tap a name, type the PIN), or, once someone is on it,
    what they may do here."""
    till = await device.till_of(request)
    if till is None:
        return RedirectResponse("/till/pair", status_code=303)
    async with app_state(request).sessionmaker() as session:
        members = await device.staff_of_till(session, till)
    acting_id = request.session.get(STAFF_ID) if request.session.get(device.TILL_ID) == till.id \
        else None
    acting = next((m for m in members if m.id == acting_id), None)
    chosen_raw = request.query_params.get("member", "")
    chosen = next((m for m in members if chosen_raw.isdecimal() and m.id == int(chosen_raw)),
                  None)
    actions = [(path.format(site=till.site_id), label) for path, label, needs in ACTIONS
               if acting is not None and acting.may(needs)]
    training = device.training_of(request) if acting is not None else None
    response = page(
        request, "till/home.html", till=till, members=members, acting=acting, chosen=chosen,
        actions=actions, training=next((m for m in members if m.id == training), None),
        may_sell=acting is not None and acting.may(Permission.SELL),
        # Who may approve, for a member who may not do it alone.
        drawer_approvers=_approvers(members, acting, Permission.DRAWER),
        training_approvers=_approvers(members, acting, Permission.TRAINING),
        done=DONE.get(request.query_params.get("done", "")),
        **(await indicator(request, till)))
    response.headers.update(NO_STORE)
    return response


routes = [
    Route("/till/pair", pair_page, methods=["GET"]),
    Route("/till", home, methods=["GET"]),
]
