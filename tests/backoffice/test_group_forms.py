"""The groups page's forms: a group's regular recharge and the top-up amounts, prices typed
as people write them in French and in English; a refusal next to its field, nothing
changed; each change in the audit log."""

from __future__ import annotations

import re

import httpx
from sqlalchemy import select

from customers.models import ConsumerPolicy, UserGroup
from demo.seed import DemoVenue
from tests.backoffice.conftest import ADMIN, audit_actions, post_form, sign_in
from tests.conftest import Database


async def _group(db: Database) -> UserGroup:
    async with db.sessionmaker() as session:
        found = await session.scalar(select(UserGroup).order_by(UserGroup.id))
    assert found is not None
    return found


async def _topups(db: Database, venue: DemoVenue) -> list[int] | None:
    async with db.sessionmaker() as session:
        found = await session.scalar(select(ConsumerPolicy))
    return None if found is None else list(found.topup_amounts)


def _error(html: str, key: str, field: str) -> str:
    found = re.search(rf'id="e-{key}-{field}"[^>]*>([^<]*)<', html)
    assert found is not None, html[:2000]
    return found.group(1).strip()


async def test_a_groups_recharge_is_set_from_its_form_with_a_french_price(
    client: httpx.AsyncClient, db: Database, venue: DemoVenue
) -> None:
    await sign_in(client, ADMIN)
    group = await _group(db)
    url = f"/backoffice/groups/{group.id}"
    page = await client.get("/staff/groups")
    assert f'hx-post="{url}"' in page.text
    saved = await post_form(client, url, {"name": group.name, "recharge_every": "week",
                                          "recharge_amount": "2,50", "recharge_at": "08:30"})
    assert saved.headers["hx-redirect"] == f"/staff/groups?saved={group.id}", saved.text[:500]
    changed = await _group(db)
    assert (changed.recharge_every, changed.recharge_amount, changed.recharge_at) == (
        "week", 250, "08:30")
    assert await audit_actions(db) == [("group.updated", f"{group.name} (#{group.id})")]
    shown = await client.get(f"/staff/groups?saved={group.id}")
    assert 'value="2,50"' in shown.text  # shown back as typed in French
    assert "data-saved" in shown.text


async def test_an_english_price_is_read_too_and_shown_the_english_way(
    client: httpx.AsyncClient, db: Database, venue: DemoVenue
) -> None:
    await sign_in(client, ADMIN)
    client.cookies.set("lang", "en")
    group = await _group(db)
    saved = await post_form(client, f"/backoffice/groups/{group.id}", {
        "name": group.name, "recharge_every": "day", "recharge_amount": "12.5",
        "recharge_at": ""})
    assert saved.status_code == 200, saved.text[:500]
    changed = await _group(db)
    assert (changed.recharge_amount, changed.recharge_at) == (1250, "07:00")
    assert 'value="12.50"' in (await client.get("/staff/groups")).text


async def test_a_bad_recharge_is_refused_next_to_its_field_and_changes_nothing(
    client: httpx.AsyncClient, db: Database, venue: DemoVenue
) -> None:
    await sign_in(client, ADMIN)
    group = await _group(db)
    url = f"/backoffice/groups/{group.id}"
    for form, field in (
        ({"recharge_every": "week", "recharge_amount": "2,505"}, "recharge_amount"),
        ({"recharge_every": "week", "recharge_amount": "-3"}, "recharge_amount"),
        ({"recharge_every": "week", "recharge_amount": "2000"}, "recharge_amount"),
        ({"recharge_every": "week", "recharge_amount": ""}, "recharge_amount"),
        ({"recharge_every": "year", "recharge_amount": "5"}, "recharge_every"),
        ({"recharge_every": "day", "recharge_amount": "5", "recharge_at": "25:00"},
         "recharge_at"),
        ({"name": " "}, "name"),
    ):
        refused = await post_form(client, url, {"name": group.name, **form})
        assert refused.status_code == 422, form
        assert _error(refused.text, str(group.id), field), form
        assert 'aria-invalid="true"' in refused.text
    amount = await post_form(client, url, {"name": group.name, "recharge_every": "week",
                                           "recharge_amount": "2,505"})
    assert "Indiquez un montant comme 2,50" in _error(amount.text, str(group.id),
                                                      "recharge_amount")
    assert 'value="2,505"' in amount.text  # what was typed stays in the field
    unchanged = await _group(db)
    assert (unchanged.recharge_every, unchanged.recharge_amount) == (
        group.recharge_every, group.recharge_amount)
    assert await audit_actions(db) == []


async def test_two_groups_cannot_share_a_name(
    client: httpx.AsyncClient, db: Database, venue: DemoVenue
) -> None:
    await sign_in(client, ADMIN)
    group = await _group(db)
    async with db.sessionmaker() as session, session.begin():
        session.add(UserGroup(company_id=group.company_id, name="Direction"))
    taken = await post_form(client, f"/backoffice/groups/{group.id}", {"name": "Direction"})
    assert taken.status_code == 422
    assert _error(taken.text, str(group.id), "name") == "Un autre groupe porte déjà ce nom."


async def test_the_top_up_amounts_are_set_from_their_form(
    client: httpx.AsyncClient, db: Database, venue: DemoVenue
) -> None:
    await sign_in(client, ADMIN)
    before = await _topups(db, venue)
    page = await client.get("/staff/groups")
    assert 'hx-post="/backoffice/groups/topups"' in page.text
    for form, field in (({"topup-0": "3,505"}, "topup-0"), ({"topup-2": "abc"}, "topup-2"),
                        ({"topup-1": "0"}, "topup-1"), ({}, "topup-0"),
                        ({"topup-0": "5", "topup-5": "5000"}, "topup-5")):
        refused = await post_form(client, "/backoffice/groups/topups", form)
        assert refused.status_code == 422, form
        assert _error(refused.text, "topups", field), form
    assert await _topups(db, venue) == before and await audit_actions(db) == []
    saved = await post_form(client, "/backoffice/groups/topups",
                            {"topup-0": "20", "topup-1": "3,50", "topup-2": "",
                             "topup-3": "10.00", "topup-4": "3,5"})
    assert saved.headers["hx-redirect"] == "/staff/groups?saved=topups"
    assert await _topups(db, venue) == [350, 1000, 2000]
    assert await audit_actions(db) == [("consumers.topups", "top-ups")]
    shown = await client.get("/staff/groups")
    assert 'value="3,50"' in shown.text and 'value="20,00"' in shown.text
