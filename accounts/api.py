"""Staff sign-in for API clients and the sign-in page alike."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from accounts import service
from accounts.commands import Login
from accounts.context import staff_of
from accounts.schemas import SignedOut, SignupToFinish, StaffMe, StaffSession
from accounts.sign_in_limits import TooManySignIns, client_of, sign_in_tries
from api.endpoint import SESSION, SIGNED_IN, Endpoint, Reply, Tag
from web import ratelimit
from web.commands import command
from web.htmx import json_reply
from web.security import csrf_token
from web.sessions import STAFF_ID, renew
from web.state import app_state

STAFF = Tag("staff", "POS, production displays and back office: sign in first.")


async def login(request: Request) -> Response:
    """Checks the email and password and signs this browser's session in: a new session id
    in the `comptoir` cookie and a new CSRF token (returned here, needed by non-JSON unsafe
    requests); the id from before opens nothing any more. With `HX-Request: true` the
    response also carries `HX-Redirect` (for the sign-in page). Wrong tries are limited per
    email address (10 in 10 minutes, whether or not anyone has it) and per client (50):
    past that, 429 `too_many_sign_ins` with `Retry-After`, and the password is not checked.
    Tries sent at once get no more checks than the limits allow. An operator who signed up
    and has no company yet: 403 `email_not_confirmed` until the mailed link is followed,
    then 202 and the company to name (POST /api/v1/signup/company)."""
    sign_in = await command(request, Login)
    state = app_state(request)
    tries = sign_in_tries(
        state.settings, "staff", service.normal_email(sign_in.email), client_of(request)
    )
    async with ratelimit.counted(state.sessionmaker, tries, TooManySignIns):
        async with state.sessionmaker() as session:
            staff = await service.login(session, sign_in.email, sign_in.password)
    if isinstance(staff, service.PendingSignup):
        # An operator whose company is still to be named: the sign-up page goes on.
        request.session.pop(STAFF_ID, None)
        request.session["signup_id"] = staff.id
        return json_reply({"signup": {"email": staff.email}, "redirect": "/signup/company"},
                          request, 202)
    request.session.pop("signup_id", None)
    request.session[STAFF_ID] = staff.id
    renew(request)
    return json_reply(
        {"staff": {"id": staff.id, "name": staff.name, "role": staff.role},
         "csrf_token": csrf_token(request), "redirect": "/staff"},
        request,
    )


async def logout(request: Request) -> Response:
    """Ends this browser's session everywhere (its live sockets close) and goes on with a
    new one, without the staff member (the device stays). Always succeeds."""
    signing_up = request.session.pop("signup_id", None)
    if request.session.pop(STAFF_ID, None) is not None or signing_up is not None:
        renew(request)
    return json_reply({"ok": True, "redirect": "/staff/login"}, request)


async def me(request: Request) -> Response:
    """The signed-in staff member, their company and its sites (the `{site_id}` of the
    staff routes), what they may do (their role's, within the sections they are given),
    and the CSRF token of this cookie."""
    staff = await staff_of(request)
    if staff is None:
        raise service.NotSignedIn()
    async with app_state(request).sessionmaker() as session:
        company, sites = await service.workplace(session, staff)
    return JSONResponse(
        {"staff": {"id": staff.id, "name": staff.name, "role": staff.role},
         "company": {"id": company.id, "name": company.name, "currency": company.currency,
                     "timezone": company.timezone},
         "sites": [{"id": site.id, "name": site.name} for site in sites],
         "permissions": sorted(staff.permissions),
         "csrf_token": csrf_token(request)}
    )


routes = [
    Endpoint("/staff/login", login, "POST", tag=STAFF, summary="Sign in as staff", body=Login,
             example={"email": "caisse@cafe-de-la-gare.fr", "password": "caisse-demo"},
             responses={200: Reply(StaffSession, "Signed in."),
                        202: Reply(SignupToFinish, "Confirmed sign-up: name the company.")},
             errors=[service.BadLogin, service.SignupNotConfirmed, TooManySignIns],
             security=SESSION),
    Endpoint("/staff/logout", logout, "POST", tag=STAFF, summary="Sign out",
             responses={200: Reply(SignedOut, "Signed out.")}, security=SESSION),
    Endpoint("/staff/me", me, "GET", tag=STAFF, summary="Who is signed in",
             responses={200: Reply(StaffMe, "The staff member and where they work.")},
             errors=[service.NotSignedIn], security=SIGNED_IN),
]
