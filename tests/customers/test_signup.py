"""Signing up tells nobody which addresses have an account: a known address and a new one
get the same answer, and the known one's owner hears of it by mail. A name is a person's
name: it goes into mail to any address, so it carries no web address."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import func, select
from starlette.applications import Starlette

from customers import service
from customers.commands import SignUp
from customers.errors import BadName
from customers.models import Consumer, OutboxMail
from demo.seed import DemoVenue
from tests.conftest import Database, client_for
from web.commands import parse


async def _ask(
    client: httpx.AsyncClient, token: str, email: str, name: str = "Nina"
) -> httpx.Response:
    return await client.post(
        "/api/v1/consumers/signup",
        json={"machine": token, "email": email, "name": name, "password": "a new password"},
        headers={"hx-request": "true", "Accept-Language": "en"},
    )


async def _mails_to(db: Database, to: str) -> list[OutboxMail]:
    async with db.sessionmaker() as session:
        return list((await session.scalars(
            select(OutboxMail).where(OutboxMail.to == to).order_by(OutboxMail.id))).all())


async def test_a_known_and_a_new_address_get_the_same_answer(
    app: Starlette, venue: DemoVenue, db: Database
) -> None:
    token = venue.machines[1].token
    known, password = venue.consumers[0]
    async with client_for(app) as stranger, client_for(app) as newcomer:
        taken = await _ask(stranger, token, known, name="Mallory")
        new = await _ask(newcomer, token, "new@example.com")
    assert (taken.status_code, taken.json()) == (new.status_code, new.json())
    assert taken.status_code == 202
    assert taken.headers["HX-Redirect"] == new.headers["HX-Redirect"]
    assert set(taken.cookies) == set(new.cookies)

    # The owner is told, without a word the stranger typed; their account is unchanged.
    [notice] = await _mails_to(db, known)
    assert notice.subject == "Someone tried to sign up with your address"
    assert f"/m/{token}/login" in notice.body and "Mallory" not in notice.body
    async with client_for(app) as owner:
        signed = await owner.post("/api/v1/consumers/login",
                                  json={"machine": token, "email": known, "password": password})
        assert signed.status_code == 200
    [confirm] = await _mails_to(db, "new@example.com")
    assert "/account/confirm/" in confirm.body

    # Tried again within the hour: the same answer, and no second mail to the owner.
    async with client_for(app) as stranger:
        again = await _ask(stranger, token, known)
    assert (again.status_code, again.json()) == (new.status_code, new.json())
    assert len(await _mails_to(db, known)) == 1
    async with db.sessionmaker() as session:
        assert await session.scalar(
            select(func.count()).select_from(Consumer).where(Consumer.email == known)) == 1


async def test_both_answers_hash_the_password(
    app: Starlette, venue: DemoVenue, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The time a sign-up takes is mostly the password's hashing: both ways pay for it."""
    hashed: list[str] = []
    real = service.hash_password

    def counting(password: str) -> str:
        hashed.append(password)
        return real(password)

    monkeypatch.setattr(service, "hash_password", counting)
    token = venue.machines[1].token
    async with client_for(app) as stranger:
        await _ask(stranger, token, venue.consumers[0][0])
        assert len(hashed) == 1
        await _ask(stranger, token, "new@example.com")
        assert len(hashed) == 2


@pytest.mark.parametrize("name", ["Zoé", "Jean-Luc O’Brien", "J. R. R. Tolkien",
                                  "J.R.R. Tolkien", "Ahmed Al-Farsi", "李小龙", "Ngũgĩ",
                                  "  Anne   Marie  "])
def test_the_names_people_have_are_accepted(name: str) -> None:
    given = parse(SignUp, {"machine": "x", "email": "a@example.com", "name": name,
                           "password": "long enough"})
    assert given.name == " ".join(name.split())


@pytest.mark.parametrize("name", ["evil.example", "Lou https://x.fr", "www.evil.fr",
                                  "Lou\u200bevil", "Lou\x07bell", "L0u", "x" * 61, "é.co"])
def test_a_name_carrying_an_address_or_a_control_character_is_refused(name: str) -> None:
    with pytest.raises(BadName) as refused:
        parse(SignUp, {"machine": "x", "email": "a@example.com", "name": name,
                       "password": "long enough"})
    assert refused.value.field == "name"
