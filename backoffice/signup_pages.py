"""The public sign-up of a new venue: the pages, and their API (/api/v1/signup).

Sign up (address, password) → the mailed link confirms the address → sign in → name the
company, its currency, language and time zone → the company exists, with the operator as
its admin, signed in.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from accounts import signups
from accounts.choices import LANGUAGE_NAMES, currency_options, timezone_options
from accounts.commands import (
    BadCompanyName,
    BadCurrency,
    BadLanguage,
    BadStaffName,
    BadTimezone,
    NewCompany,
)
from accounts.mail_limits import TooManyMailRequests, mail_tries, spend
from accounts.schemas import StaffSession
from accounts.service import StaffIdentity, normal_email
from accounts.sign_in_limits import client_of
from api.endpoint import SESSION, Endpoint, Reply, Tag
from backoffice.signup import OperatorSignUp, SignupLinks, sign_up
from backoffice.signup_schemas import SignupReceived
from customers.errors import BadEmail, BadPassword
from realtime.events import Tx
from web.commands import command
from web.htmx import json_reply
from web.redirects import redirect
from web.state import app_state, locale_of, run_tx
from web.templating import page

SIGNUP = Tag("signup", "A new venue from nothing: sign up, confirm the address, name the "
                       "company.")


async def signup_api(request: Request) -> Response:
    """Signs up an operator (address, password of 8 characters or more). The answer is the
    same (202) whether or not the address has an account: a new address gets a link to
    confirm it (written to the server's log without SMTP), a known one a mail telling its
    owner. Limited per address (5 an hour) and per client (30): 429 `too_many_requests`."""
    new = await command(request, OperatorSignUp)
    state = app_state(request)
    await spend(state.sessionmaker, mail_tries(
        state.settings, "signup", normal_email(new.email), client_of(request)))
    links = SignupLinks(state.settings.public_url,
                        timedelta(seconds=state.settings.signup_link_ttl_s))
    locale, now = locale_of(request), datetime.now(UTC)
    await run_tx(request, lambda tx: sign_up(tx, new, links, locale, now))
    return json_reply({"ok": True, "redirect": "/signup?sent=1"}, request, 202)


async def company_api(request: Request) -> Response:
    """Creates the company of the confirmed sign-up this browser signed in as (POST
    /api/v1/staff/login answered 202), with the operator as its admin, and signs them in.
    Currency: ISO 4217 in use; time zone: IANA; language: fr or en."""
    new = await command(request, NewCompany)
    signup_id = request.session.get("signup_id")

    async def op(tx: Tx) -> StaffIdentity:
        return await signups.create_company(tx.session, signup_id, new)

    staff = await run_tx(request, op)
    request.session.pop("signup_id", None)
    request.session["staff_id"] = staff.id
    return json_reply(
        {"staff": {"id": staff.id, "name": staff.name, "role": staff.role},
         "csrf_token": request.session["csrf"], "redirect": "/staff"},
        request, 201,
    )


async def signup_page(request: Request) -> Response:
    return page(request, "backoffice/signup.html",
                sent=request.query_params.get("sent") == "1")


async def confirm_page(request: Request) -> Response:
    """The mailed link confirms the address and signs nobody in (whoever else holds the
    link gains nothing): the operator signs in to go on."""
    now = datetime.now(UTC)
    await run_tx(request, lambda tx: signups.confirm(tx.session, request.path_params["token"],
                                                     now))
    return page(request, "backoffice/signup_confirmed.html")


async def company_page(request: Request) -> Response:
    async with app_state(request).sessionmaker() as session:
        try:
            pending = await signups.pending_signup(session, request.session.get("signup_id"))
        except signups.NoSignup:
            return redirect("/staff/login")
    locale = locale_of(request)
    return page(request, "backoffice/signup_company.html", email=pending.email,
                currencies=currency_options(locale), timezones=timezone_options(),
                languages=LANGUAGE_NAMES, language=locale)


pages = [
    Route("/signup", signup_page),
    Route("/signup/confirm/{token}", confirm_page),
    Route("/signup/company", company_page),
]

routes = [
    Endpoint("/signup", signup_api, "POST", tag=SIGNUP, summary="Sign up a new venue",
             body=OperatorSignUp, responses={202: Reply(SignupReceived, "See your mail.")},
             errors=[BadEmail, BadPassword, TooManyMailRequests], security=SESSION),
    Endpoint("/signup/company", company_api, "POST", tag=SIGNUP,
             summary="Name the company of a confirmed sign-up", body=NewCompany,
             responses={201: Reply(StaffSession, "Created; signed in as its admin.")},
             errors=[signups.NoSignup, BadCompanyName, BadStaffName, BadCurrency, BadTimezone,
                     BadLanguage], security=SESSION),
]
