"""Inviting a consumer by e-mail from the people pages, and approving with a role and a
group: the mailed link is used once and signs the person in to their account; inviting
again never makes a second account; a member already is said so and gets nothing; every
invitation and approval is in the audit log; bad input changes nothing."""

from __future__ import annotations

import asyncio
import re
from typing import get_args

import httpx
from sqlalchemy import func, select
from starlette.applications import Starlette

from customers import service
from customers.models import Consumer, GroupMember, OutboxMail, UserGroup
from customers.people_admin import ConsumerRole
from demo.seed import DemoVenue
from domain.models import AuditEntry
from tests.backoffice.conftest import ADMIN, audit_actions, post_form, sign_in
from tests.conftest import Database, client_for

NEW = {"name": "Inès Moreau", "email": "Ines@Exemple.fr", "role": "guest"}


async def _mails(db: Database) -> list[OutboxMail]:
    async with db.sessionmaker() as session:
        return list((await session.scalars(select(OutboxMail).order_by(OutboxMail.id))).all())


async def _consumers(db: Database, email: str) -> list[Consumer]:
    async with db.sessionmaker() as session:
        return list((await session.scalars(
            select(Consumer).where(Consumer.email == email))).all())


def _link(mail: OutboxMail) -> str:
    found = re.search(r"https?://\S+(/account/invite/\S+)", mail.body)
    assert found, mail.body
    return found.group(1)


async def _csrf(newcomer: httpx.AsyncClient, page: httpx.Response) -> None:
    token = re.search(r'"X-CSRF-Token": "([^"]+)"', page.text)  # as htmx sends it
    assert token
    newcomer.headers.update({"hx-request": "true", "x-csrf-token": token.group(1)})


def test_the_roles_offered_are_the_roles_an_account_may_have() -> None:
    assert set(get_args(get_args(ConsumerRole)[0])) == set(service.ROLES)


async def test_an_invited_person_chooses_a_password_and_lands_signed_in(
    app: Starlette, client: httpx.AsyncClient, db: Database, venue: DemoVenue
) -> None:
    await sign_in(client, ADMIN)
    form = await client.get("/backoffice/people/invite")
    assert form.status_code == 200 and 'name="email"' in form.text
    before = len(await _mails(db))
    sent = await post_form(client, "/backoffice/people/invite", NEW)
    [ines] = await _consumers(db, "ines@exemple.fr")
    assert sent.headers["hx-redirect"] == f"/backoffice/people/{ines.id}?invited=sent"
    assert ines.password_hash == "" and ines.verified and ines.role == "guest"
    said = await client.get(f"/backoffice/people/{ines.id}?invited=sent")
    assert "ines@exemple.fr" in said.text and "Invitation envoyée" in said.text
    mails = await _mails(db)
    assert len(mails) == before + 1 and mails[-1].to == "ines@exemple.fr"
    assert mails[-1].consumer_id is None  # not shown on the outbox page: it opens the account
    first = _link(mails[-1])

    again = await post_form(client, "/backoffice/people/invite", NEW)
    assert again.headers["hx-redirect"] == f"/backoffice/people/{ines.id}?invited=again"
    assert len(await _consumers(db, "ines@exemple.fr")) == 1  # one account, whatever happens
    second = _link((await _mails(db))[-1])
    assert second != first

    async with client_for(app) as newcomer:
        assert (await newcomer.get(first)).status_code == 404  # the new link replaced it
        page = await newcomer.get(second)
        assert page.status_code == 200 and "ines@exemple.fr" in page.text
        assert (await newcomer.get("/account")).status_code == 401
        await _csrf(newcomer, page)
        short = await post_form(newcomer, second, {"password": "court"})
        assert short.status_code == 422 and 'class="field-error"' in short.text
        chosen = await post_form(newcomer, second, {"password": "un-long-mot-de-passe"})
        assert chosen.headers["hx-redirect"] == "/account", chosen.text
        account = await newcomer.get("/account")
        assert account.status_code == 200 and "Inès Moreau" in account.text
        assert (await newcomer.get(second)).status_code == 404  # the link works once
    async with client_for(app) as phone:
        signed = await phone.post("/api/v1/consumers/login", json={
            "machine": venue.machines[0].token, "email": "ines@exemple.fr",
            "password": "un-long-mot-de-passe"})
        assert signed.status_code == 200, signed.text
    [ines] = await _consumers(db, "ines@exemple.fr")
    assert ines.email_confirmed and ines.password_hash
    assert await audit_actions(db) == [("consumer.invite", f"consumer:{ines.id}")] * 2

    member = await post_form(client, "/backoffice/people/invite", NEW)
    assert member.headers["hx-redirect"] == f"/backoffice/people/{ines.id}?invited=member"
    said = await client.get(f"/backoffice/people/{ines.id}?invited=member")
    assert "déjà un compte" in said.text
    assert len(await _mails(db)) == before + 2  # nothing sent to a member
    assert len(await audit_actions(db)) == 2


async def test_bad_invitations_show_field_errors_and_change_nothing(
    client: httpx.AsyncClient, db: Database, venue: DemoVenue
) -> None:
    await sign_in(client, ADMIN)
    before = len(await _mails(db))
    for change, field in (({"email": "pas-une-adresse"}, "email"), ({"name": "  "}, "name"),
                          ({"role": "admin"}, "role"), ({"email": "a b@exemple.fr"}, "email")):
        refused = await post_form(client, "/backoffice/people/invite", {**NEW, **change})
        assert refused.status_code == 422, (change, refused.text[:300])
        assert 'class="field-error"' in refused.text, change
        assert f'name="{field}"' in refused.text
    assert await _consumers(db, "ines@exemple.fr") == []
    assert len(await _mails(db)) == before and await audit_actions(db) == []


async def test_a_reset_link_is_no_invitation(
    app: Starlette, client: httpx.AsyncClient, db: Database, venue: DemoVenue
) -> None:
    """A registered consumer's password-reset link does not open the invitation's page,
    which signs in: it only chooses a new password, where the person then signs in."""
    email, _ = venue.consumers[0]
    async with client_for(app) as phone:
        asked = await phone.post("/api/v1/consumers/password/forgot", json={
            "machine": venue.machines[0].token, "email": email})
        assert asked.status_code == 202, asked.text
    mail = (await _mails(db))[-1]
    found = re.search(r"/password/reset/(\S+)", mail.body)
    assert found and mail.to == email
    async with client_for(app) as stranger:
        assert (await stranger.get(f"/account/invite/{found.group(1)}")).status_code == 404


async def test_approving_gives_the_chosen_role_and_group(
    client: httpx.AsyncClient, db: Database, venue: DemoVenue
) -> None:
    async with db.sessionmaker() as session, session.begin():
        group = await session.scalar(select(UserGroup).order_by(UserGroup.id))
        assert group is not None
        waiting = [Consumer(company_id=group.company_id, email=f"{n}@exemple.fr", name=n,
                            password_hash="x", email_confirmed=True, verified=False)
                   for n in ("anna", "bruno")]
        session.add_all(waiting)
        await session.flush()
        anna, bruno = (c.id for c in waiting)
        group_id = group.id
    await sign_in(client, ADMIN)
    queue = await client.get("/backoffice/people?waiting=1")
    assert 'name="role"' in queue.text and f'<option value="{group_id}">' in queue.text
    ticked = {f"consumer-{anna}": "1", f"consumer-{bruno}": "1"}
    for bad in ({"role": "admin"}, {"role": "staff", "group": "999999"},
                {"role": "staff", "group": "douze"}):
        refused = await post_form(client, "/backoffice/people/approve", {**ticked, **bad})
        assert refused.status_code == 422 and 'class="field-error"' in refused.text, bad
    async with db.sessionmaker() as session:
        assert not any(c.verified for c in await session.scalars(
            select(Consumer).where(Consumer.id.in_([anna, bruno]))))
    assert await audit_actions(db) == []
    approved = await post_form(client, "/backoffice/people/approve",
                               {**ticked, "role": "staff", "group": str(group_id)})
    assert approved.headers["hx-redirect"] == "/backoffice/people?waiting=1"
    async with db.sessionmaker() as session:
        for consumer_id in (anna, bruno):
            consumer = await session.get(Consumer, consumer_id)
            assert consumer is not None and consumer.verified and consumer.role == "staff"
            assert await session.scalar(select(func.count()).select_from(GroupMember).where(
                GroupMember.consumer_id == consumer_id,
                GroupMember.group_id == group_id)) == 1
        changes = (await session.scalars(select(AuditEntry.changes).where(
            AuditEntry.action == "consumer.approve").order_by(AuditEntry.id))).all()
    assert [c["role"] for c in changes] == ["staff", "staff"]
    assert [c["group"] for c in changes] == [group_id, group_id]


async def test_two_invitations_at_once_make_one_account_and_one_working_link(
    app: Starlette, client: httpx.AsyncClient, db: Database, venue: DemoVenue
) -> None:
    await sign_in(client, ADMIN)
    before = len(await _mails(db))
    answers = await asyncio.gather(*(post_form(client, "/backoffice/people/invite", NEW)
                                     for _ in range(2)))
    assert all("invited=" in a.headers["hx-redirect"] for a in answers), answers
    [ines] = await _consumers(db, "ines@exemple.fr")
    links = [_link(m) for m in (await _mails(db))[before:]]
    assert len(links) == 2
    async with client_for(app) as newcomer:
        opened = [(await newcomer.get(link)).status_code for link in links]
    assert sorted(opened) == [200, 404]  # the later link replaced the earlier
    assert await audit_actions(db) == [("consumer.invite", f"consumer:{ines.id}")] * 2
