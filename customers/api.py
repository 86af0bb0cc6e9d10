"""The customers JSON API (/api/v1/consumers): sign up, sign in and out, one's own view.

A person signs up or in where they scanned a code; the rooms owning such codes (the
machines, the tables) tell this one, at assembly, which company a code belongs to and which
page it opens: this room never imports them. What else a sign-up asks (loyalty's profile)
is handed in the same way, and kept in the account's transaction.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import Response

from accounts.context import consumer_id_of
from accounts.sign_in_limits import TooManySignIns, client_of, sign_in_tries
from api.endpoint import SESSION, Endpoint, Reply, Tag
from customers import service, views
from customers.commands import LogIn, SignUp
from customers.errors import BadConsumerLogin, BadName, BadSignup, SignInRequired
from customers.schemas import ConsumerSignedOut, SignedIn, SignUpReceived, UserView
from customers.service import SignUpLinks
from errors import DomainError
from realtime.events import Tx
from realtime.models import current_version
from web import ratelimit
from web.body import read_body
from web.commands import command, parse
from web.htmx import json_reply
from web.sessions import CONSUMER_ID, renew
from web.state import app_state, locale_of, run_tx

CONSUMERS = Tag("consumers", "Coffee-machine consumer accounts and credit.")


class Places(Protocol):
    """Where a person may sign up or in: the codes one room hands out."""

    unknown: type[DomainError]  # the answer to a token that names no place

    async def company_of(self, session: AsyncSession, token: str) -> int:
        """The company running the place; raises `unknown` for no such place."""
        ...

    def page(self, token: str) -> str:
        """The place's own page, where a person who signed in there goes back."""
        ...

    def sign_in(self, token: str) -> str:
        """The place's sign-in page (a path of this site)."""
        ...


class Prefixed:
    """Several rooms' places as one: a token `t:abc` is the place `abc` of the room its
    prefix names (`{"t:": tables}`), a bare token the first room's. Rooms' tokens are
    URL-safe and hold no `:`."""

    def __init__(self, first: Places, by_prefix: Mapping[str, Places]) -> None:
        self.first = first
        self.by_prefix = dict(by_prefix)
        self.unknown = first.unknown

    def _of(self, token: str) -> tuple[Places, str]:
        prefix, colon, rest = token.partition(":")
        if colon and prefix + colon in self.by_prefix:
            return self.by_prefix[prefix + colon], rest
        return self.first, token

    async def company_of(self, session: AsyncSession, token: str) -> int:
        places, own = self._of(token)
        return await places.company_of(session, own)

    def page(self, token: str) -> str:
        places, own = self._of(token)
        return places.page(own)

    def sign_in(self, token: str) -> str:
        places, own = self._of(token)
        return places.sign_in(own)


class SignUpExtras(Protocol):
    """What a room above asks at sign-up besides the account (loyalty: the venue's profile
    fields and consents), read from the same body and kept in the same transaction."""

    async def keep(self, tx: Tx, company_id: int, consumer_id: int | None,
                   body: Mapping[str, Any], form: bool) -> None:
        """Refuse a bad field (the account is then not made either); keep the fields for a
        new account (`consumer_id`), or nothing when the address had one already (None)."""
        ...


def signed_in(request: Request) -> int:
    """The consumer this browser signed in as; refused (401) when none."""
    consumer_id = consumer_id_of(request)
    if consumer_id is None:
        raise SignInRequired()
    return consumer_id


class Accounts:
    """The routes, for the places app.py names."""

    def __init__(self, places: Places, extras: SignUpExtras | None = None) -> None:
        self.places = places
        self.extras = extras

    async def consumer_signup(self, request: Request) -> Response:
        """Asks for an account for the company running the machine. The answer is the same
        (202) whether or not the address has an account already, so that nobody learns who
        has one: a new address gets a link to confirm it by mail (shown to administrators
        at /account/outbox without SMTP), a known one a mail telling its owner. Signs
        nobody in: once the address is confirmed, the person signs in with their password.
        A name holds letters, spaces, apostrophes, hyphens and dots only (`bad_name`)."""
        body = await read_body(request)
        new = parse(SignUp, body.data, form=body.is_form)
        sign_in = self.places.sign_in(new.machine)
        links = SignUpLinks(app_state(request).settings.public_url, sign_in)

        async def op(tx: Tx) -> None:
            company_id = await self.places.company_of(tx.session, new.machine)
            consumer = await service.signup(tx, company_id, new, links, locale_of(request))
            if self.extras is not None:
                await self.extras.keep(tx, company_id, consumer.id if consumer else None,
                                       body.data, body.is_form)

        await run_tx(request, op)
        return json_reply({"ok": True, "redirect": f"{sign_in}?signed_up=1"}, request, 202)

    async def consumer_login(self, request: Request) -> Response:
        """Signs this browser's session in as the consumer, with a new session id and CSRF
        token (the id from before opens nothing any more). Wrong tries are limited per email
        address of the company (10 in 10 minutes, whether or not anyone has it) and per
        client (50): past that, 429 `too_many_sign_ins` with `Retry-After`, and the password
        is not checked."""
        given = await command(request, LogIn)
        state = app_state(request)
        company_id = await run_tx(
            request, lambda tx: self.places.company_of(tx.session, given.machine)
        )
        address = f"{company_id}:{given.email}"
        tries = sign_in_tries(state.settings, "consumer", address, client_of(request))

        async def op(tx: Tx) -> int:
            consumer = await service.login(tx, company_id, given.email, given.password)
            return consumer.id

        async with ratelimit.counted(state.sessionmaker, tries, TooManySignIns):
            consumer_id = await run_tx(request, op)
        request.session[CONSUMER_ID] = consumer_id
        renew(request)
        back = self.places.page(given.machine) if given.machine else "/account"
        return json_reply({"consumer": {"id": consumer_id}, "redirect": back}, request)

    async def consumer_logout(self, request: Request) -> Response:
        """Ends this browser's session everywhere and goes on with a new one, without the
        consumer."""
        if request.session.pop(CONSUMER_ID, None) is not None:
            renew(request)
        return json_reply({"ok": True, "refresh": True}, request)

    async def consumer_me(self, request: Request) -> Response:
        """Balance, recent brews and ledger entries (the `user:{id}` topic's view)."""
        consumer_id = signed_in(request)

        async def op(tx: Tx) -> dict[str, Any]:
            view = await views.user_view(tx.session, consumer_id)
            view["version"] = await current_version(tx.session, views.user_topic(consumer_id))
            return view

        return json_reply(await run_tx(request, op), request)

    def routes(self) -> list[Endpoint]:
        unknown = self.places.unknown
        return [
            Endpoint("/consumers/signup", self.consumer_signup, "POST", tag=CONSUMERS,
                     summary="Create a consumer account", body=SignUp,
                     responses={202: Reply(SignUpReceived, "Received: see your mail.")},
                     errors=[unknown, BadSignup, BadName], security=SESSION),
            Endpoint("/consumers/login", self.consumer_login, "POST", tag=CONSUMERS,
                     summary="Sign in as a consumer", body=LogIn,
                     responses={200: Reply(SignedIn, "Signed in.")},
                     errors=[BadConsumerLogin, unknown, TooManySignIns], security=SESSION),
            Endpoint("/consumers/logout", self.consumer_logout, "POST", tag=CONSUMERS,
                     summary="Sign out", responses={200: Reply(ConsumerSignedOut, "Signed out.")},
                     security=SESSION),
            Endpoint("/consumers/me", self.consumer_me, "GET", tag=CONSUMERS,
                     summary="My credit and history",
                     responses={200: Reply(UserView, "The consumer.")},
                     errors=[SignInRequired], security=SESSION),
        ]
