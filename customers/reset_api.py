"""The password-reset API (/api/v1/password, /api/v1/consumers/password): ask for a link,
choose the new password. Public: the answers say nothing of who has an account."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from starlette.requests import Request
from starlette.responses import Response

from accounts.mail_limits import TooManyMailRequests, mail_tries, spend
from accounts.service import normal_email
from accounts.sign_in_limits import client_of
from api.endpoint import SESSION, Endpoint, Reply, Tag
from customers import password_reset
from customers.api import Places
from customers.commands import ConsumerForgotPassword, ForgotPassword, NewPassword
from customers.errors import BadEmail, BadPassword, UnknownToken
from customers.password_reset import ResetLinks
from customers.schemas import PasswordChosen, ResetAsked
from realtime.events import Tx
from web.commands import command
from web.htmx import json_reply
from web.state import app_state, locale_of, run_tx

PASSWORDS = Tag("passwords", "A new password by a mailed link, for staff and consumers.")


def _links(request: Request) -> ResetLinks:
    settings = app_state(request).settings
    return ResetLinks(settings.public_url, timedelta(seconds=settings.reset_link_ttl_s))


class PasswordResets:
    """The routes, for the places app.py names (where consumers sign in)."""

    def __init__(self, places: Places) -> None:
        self.places = places

    async def staff_forgot(self, request: Request) -> Response:
        """Mails a link to choose a new password to the member of staff with this address.
        The answer is the same (202) whether or not anyone has it. Limited per address (5
        an hour) and per client (30): past that, 429 `too_many_requests`."""
        asked = await command(request, ForgotPassword)
        state = app_state(request)
        await spend(state.sessionmaker, mail_tries(
            state.settings, "reset.staff", normal_email(asked.email), client_of(request)))
        now = datetime.now(UTC)
        await run_tx(request, lambda tx: password_reset.ask_for_staff(
            tx, asked.email, _links(request), locale_of(request), now))
        return json_reply({"ok": True, "redirect": "/password/forgot?sent=1"}, request, 202)

    async def consumer_forgot(self, request: Request) -> Response:
        """The same for a consumer of the company running the machine whose code they
        scanned; after the new password they sign in there again."""
        asked = await command(request, ConsumerForgotPassword)
        state = app_state(request)
        company_id = await run_tx(
            request, lambda tx: self.places.company_of(tx.session, asked.machine))
        await spend(state.sessionmaker, mail_tries(
            state.settings, "reset.consumer", f"{company_id}:{asked.email}",
            client_of(request)))
        sign_in = self.places.sign_in(asked.machine)
        now = datetime.now(UTC)

        async def op(tx: Tx) -> None:
            await password_reset.ask_for_consumer(
                tx, company_id, asked.email, sign_in, _links(request), locale_of(request), now)

        await run_tx(request, op)
        back = f"/m/{asked.machine}/forgot?sent=1"
        return json_reply({"ok": True, "redirect": back}, request, 202)

    async def choose(self, request: Request) -> Response:
        """Sets the new password of the link's account (8 to 200 characters). The link
        works once and until it expires (1 hour by default); then 404 `unknown_token`.
        Signs nobody in: the answer says where to sign in with the new password."""
        chosen = await command(request, NewPassword)
        now = datetime.now(UTC)
        sign_in = await run_tx(
            request, lambda tx: password_reset.choose(tx, chosen.token, chosen.password, now))
        return json_reply({"ok": True, "redirect": f"{sign_in}?reset=1"}, request)

    def routes(self) -> list[Endpoint]:
        unknown = self.places.unknown
        return [
            Endpoint("/password/forgot", self.staff_forgot, "POST", tag=PASSWORDS,
                     summary="Ask for a new staff password", body=ForgotPassword,
                     responses={202: Reply(ResetAsked, "Received: see your mail.")},
                     errors=[BadEmail, TooManyMailRequests], security=SESSION),
            Endpoint("/consumers/password/forgot", self.consumer_forgot, "POST",
                     tag=PASSWORDS, summary="Ask for a new consumer password",
                     body=ConsumerForgotPassword,
                     responses={202: Reply(ResetAsked, "Received: see your mail.")},
                     errors=[unknown, BadEmail, TooManyMailRequests], security=SESSION),
            Endpoint("/password/reset", self.choose, "POST", tag=PASSWORDS,
                     summary="Choose the new password", body=NewPassword,
                     responses={200: Reply(PasswordChosen, "Changed: sign in with it.")},
                     errors=[UnknownToken, BadPassword], security=SESSION),
        ]
