"""The people pages: consumers searched and paged, the approval queue approved in one go,
a consumer's name and groups, deletion after a page that says what goes (refused while
credit remains), their sessions ended; every change in the audit log; cashiers kept out."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy import func, select

from customers.models import Consumer, CreditBalance, GroupMember, LedgerEntry, UserGroup
from demo.seed import DemoVenue
from tests.backoffice.conftest import ADMIN, CASHIER, audit_actions, post_form, sign_in
from tests.conftest import Database
from web.models import BrowserSession

SUPERVISOR = ("superviseur@cafe-de-la-gare.fr", "super-demo")
KITCHEN = ("cuisine@cafe-de-la-gare.fr", "cuisine-demo")


async def _add(db: Database, venue: DemoVenue, name: str, verified: bool = False) -> int:
    async with db.sessionmaker() as session, session.begin():
        company = await session.scalar(select(UserGroup.company_id))
        assert company is not None
        consumer = Consumer(company_id=company, email=f"{name.lower()}@exemple.fr", name=name,
                            password_hash="x", email_confirmed=True, verified=verified)
        session.add(consumer)
        await session.flush()
        return consumer.id


async def _get(db: Database, consumer_id: int) -> Consumer | None:
    async with db.sessionmaker() as session:
        return await session.get(Consumer, consumer_id)


async def test_the_list_searches_and_the_queue_is_approved_at_once(
    client: httpx.AsyncClient, db: Database, venue: DemoVenue
) -> None:
    anna = await _add(db, venue, "Anna")
    bruno = await _add(db, venue, "Bruno")
    await _add(db, venue, "Chantal", verified=True)
    await sign_in(client, ADMIN)
    everyone = await client.get("/backoffice/people")
    assert everyone.status_code == 200
    assert "Anna" in everyone.text and "Chantal" in everyone.text
    found = await client.get("/backoffice/people?q=brun")
    assert "Bruno" in found.text and "Anna" not in found.text
    queue = await client.get("/backoffice/people?waiting=1")
    assert f'name="consumer-{anna}"' in queue.text and "Chantal" not in queue.text
    empty = await post_form(client, "/backoffice/people/approve", {})
    assert empty.status_code == 422 and "field-error" in empty.text
    approved = await post_form(client, "/backoffice/people/approve",
                               {f"consumer-{anna}": "1", f"consumer-{bruno}": "1"})
    assert approved.headers["hx-redirect"] == "/backoffice/people?waiting=1"
    for approved_id in (anna, bruno):
        assert (c := await _get(db, approved_id)) is not None and c.verified
    assert await audit_actions(db) == [("consumer.approve", f"consumer:{anna}"),
                                       ("consumer.approve", f"consumer:{bruno}")]


async def test_a_consumer_is_renamed_and_put_in_groups(
    client: httpx.AsyncClient, db: Database, venue: DemoVenue
) -> None:
    anna = await _add(db, venue, "Anna", verified=True)
    async with db.sessionmaker() as session:
        group = await session.scalar(select(UserGroup.id))
    await sign_in(client, ADMIN)
    page = await client.get(f"/backoffice/people/{anna}")
    assert page.status_code == 200 and f'name="group-{group}"' in page.text
    blank = await post_form(client, f"/backoffice/people/{anna}", {"name": "  "})
    assert blank.status_code == 422 and "field-error" in blank.text
    foreign = await post_form(client, f"/backoffice/people/{anna}",
                              {"name": "Anna B.", "group-999999": "1"})
    assert foreign.status_code == 422
    assert (c := await _get(db, anna)) is not None and c.name == "Anna"
    saved = await post_form(client, f"/backoffice/people/{anna}",
                            {"name": "Anna B.", f"group-{group}": "1"})
    assert saved.headers["hx-redirect"] == f"/backoffice/people/{anna}"
    async with db.sessionmaker() as session:
        assert (c := await session.get(Consumer, anna)) is not None and c.name == "Anna B."
        assert (await session.scalars(select(GroupMember.group_id).where(
            GroupMember.consumer_id == anna))).all() == [group]
    assert await audit_actions(db) == [("consumer.edit", f"consumer:{anna}")]


async def test_deleting_says_what_goes_ends_sessions_and_refuses_while_credit_remains(
    client: httpx.AsyncClient, db: Database, venue: DemoVenue
) -> None:
    async with db.sessionmaker() as session:
        rich = await session.scalar(select(CreditBalance.consumer_id).where(
            CreditBalance.balance > 0))
    assert rich is not None
    anna = await _add(db, venue, "Anna", verified=True)
    later = datetime.now(UTC) + timedelta(hours=1)
    async with db.sessionmaker() as session, session.begin():
        session.add(BrowserSession(key="k" * 64, data="{}", consumer_id=anna,
                                   created_at=datetime.now(UTC), expires_at=later))
    await sign_in(client, ADMIN)
    refused_page = await client.get(f"/backoffice/people/{rich}/delete")
    assert refused_page.status_code == 200 and "remboursé" in refused_page.text
    refused = await post_form(client, f"/backoffice/people/{rich}/delete", {"confirm": "yes"})
    assert refused.status_code == 409
    assert await _get(db, rich) is not None
    page = await client.get(f"/backoffice/people/{anna}/delete")
    assert page.status_code == 200 and "anna@exemple.fr" in page.text
    unconfirmed = await post_form(client, f"/backoffice/people/{anna}/delete", {})
    assert unconfirmed.status_code == 422 and await _get(db, anna) is not None
    gone = await post_form(client, f"/backoffice/people/{anna}/delete", {"confirm": "yes"})
    assert gone.headers["hx-redirect"] == "/backoffice/people"
    assert await _get(db, anna) is None
    async with db.sessionmaker() as session:
        ended = await session.get(BrowserSession, "k" * 64)
        assert ended is not None and ended.expires_at <= datetime.now(UTC)
        assert await session.scalar(select(func.count()).select_from(LedgerEntry).where(
            LedgerEntry.consumer_id == anna)) == 0
    assert await audit_actions(db) == [("consumer.delete", f"consumer:{anna}")]


async def test_only_roles_that_see_people_reach_the_pages(
    client: httpx.AsyncClient, db: Database, venue: DemoVenue
) -> None:
    anna = await _add(db, venue, "Anna")
    for who in (CASHIER, KITCHEN, SUPERVISOR):
        client.cookies.clear()
        await sign_in(client, who)
        for url in ("/backoffice/people", f"/backoffice/people/{anna}",
                    f"/backoffice/people/{anna}/delete", "/backoffice/people/invite"):
            assert (await client.get(url)).status_code == 403, (who, url)
        for url, form in (("/backoffice/people/approve", {f"consumer-{anna}": "1"}),
                          ("/backoffice/people/invite",
                           {"name": "Moi", "email": "moi@exemple.fr", "role": "staff"}),
                          (f"/backoffice/people/{anna}", {"name": "Moi"}),
                          (f"/backoffice/people/{anna}/delete", {"confirm": "yes"})):
            assert (await post_form(client, url, form)).status_code == 403, (who, url)
    assert (c := await _get(db, anna)) is not None and not c.verified and c.name == "Anna"
    async with db.sessionmaker() as session:
        assert await session.scalar(select(Consumer.id).where(
            Consumer.email == "moi@exemple.fr")) is None
    assert await audit_actions(db) == []
