"""The segments pages: a segment made, changed, copied and deleted (each audited), bad
input refused with its field's message and nothing changed, the editor's live count and
members, its rows added and removed, another company's segment not found, and a cashier
refused. On SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import delete, select

from accounts.models import Company, Site
from customers.models import Consumer
from demo.seed import DemoVenue
from loyalty.models import LoyaltyProfile, PointsEntry, Segment
from tests.backoffice.conftest import ADMIN, CASHIER, audit_actions, post_form, sign_in
from tests.conftest import Database

PAGE = "/backoffice/campaigns/segments"


async def _company(db: Database, venue: DemoVenue) -> int:
    async with db.sessionmaker() as session:
        site = await session.get(Site, venue.site_id)
        assert site is not None
        return site.company_id


async def _customers(db: Database, company_id: int, site_id: int) -> dict[str, int]:
    """Only these in the programme: Régis (4 visits this month, e-mail consent), Sam (one
    visit a year ago) and Tom (never seen)."""
    now = datetime.now(UTC)
    ids = {}
    async with db.sessionmaker() as session, session.begin():
        await session.execute(delete(PointsEntry).where(PointsEntry.company_id == company_id))
        await session.execute(delete(LoyaltyProfile).where(
            LoyaltyProfile.company_id == company_id))
        for name, consent in (("Régis", True), ("Sam", False), ("Tom", False)):
            consumer = Consumer(company_id=company_id, email=f"{uuid.uuid4().hex[:8]}@ex.fr",
                                name=name, password_hash="x", verified=True)
            session.add(consumer)
            await session.flush()
            session.add(LoyaltyProfile(consumer_id=consumer.id, company_id=company_id,
                                       qr_token=uuid.uuid4().hex,
                                       email_consent_at=now if consent else None))
            ids[name] = consumer.id
        visits = [("Régis", 2)] * 4 + [("Sam", 365)]
        for name, days in visits:
            session.add(PointsEntry(
                company_id=company_id, consumer_id=ids[name], points=1, balance_after=1,
                kind="earn", key=uuid.uuid4().hex, spent=1500, site_id=site_id,
                visit_at=now - timedelta(days=days)))
    return ids


def regulars(name: str = "Habitués", **more: str) -> dict[str, str]:
    return {"name": name, "match": "all", "c0_kind": "visits", "c0_at_least": "3",
            "c0_months": "1", "c1_kind": "consent", "c1_channel": "email", **more}


async def _segments(db: Database) -> list[tuple[str, dict[str, Any]]]:
    async with db.sessionmaker() as session:
        rows = await session.scalars(select(Segment).order_by(Segment.id))
        return [(s.name, s.definition) for s in rows]


async def test_a_manager_makes_changes_copies_and_deletes_a_segment(
    client: httpx.AsyncClient, db: Database, venue: DemoVenue
) -> None:
    company_id = await _company(db, venue)
    await _customers(db, company_id, venue.site_id)
    await sign_in(client, ADMIN)
    client.cookies.set("lang", "en")
    empty = await client.get(PAGE)
    assert empty.status_code == 200 and "No segment yet" in empty.text
    editor = await client.get(f"{PAGE}/new")
    assert editor.status_code == 200 and 'data-count="3"' in editor.text  # everyone

    made = await post_form(client, f"{PAGE}/new", regulars())
    assert made.status_code == 200, made.text[:500]
    [(name, definition)] = await _segments(db)
    assert name == "Habitués"
    assert definition == {"match": "all", "criteria": [
        {"kind": "visits", "at_least": 3, "months": 1},
        {"kind": "consent", "channel": "email"}]}
    async with db.sessionmaker() as session:
        segment_id = await session.scalar(select(Segment.id))
    assert made.headers["hx-redirect"] == f"{PAGE}/{segment_id}?said=added"

    listed = await client.get(PAGE)
    assert f'data-segment="{segment_id}"' in listed.text and 'data-count="1"' in listed.text
    shown = await client.get(f"{PAGE}/{segment_id}?said=added")
    assert "Segment saved" in shown.text and "Régis" in shown.text and "Tom" not in shown.text
    assert 'value="Habitués"' in shown.text

    changed = await post_form(client, f"{PAGE}/{segment_id}", regulars(
        "Fidèles", match="any"))
    assert changed.headers["hx-redirect"] == f"{PAGE}/{segment_id}?said=saved"
    assert (await _segments(db))[0][0] == "Fidèles"
    assert (await _segments(db))[0][1]["match"] == "any"

    copied = await post_form(client, f"{PAGE}/{segment_id}/duplicate", {})
    assert copied.status_code == 200
    assert [n for n, _d in await _segments(db)] == ["Fidèles", "Copy of Fidèles"]

    refused = await post_form(client, f"{PAGE}/{segment_id}/delete", {})
    assert refused.status_code == 422 and len(await _segments(db)) == 2
    gone = await post_form(client, f"{PAGE}/{segment_id}/delete", {"confirm": "yes"})
    assert gone.headers["hx-redirect"] == f"{PAGE}?said=deleted"
    assert [n for n, _d in await _segments(db)] == ["Copy of Fidèles"]
    actions = [a for a, _t in await audit_actions(db) if a.startswith("segment.")]
    assert actions == ["segment.added", "segment.changed", "segment.duplicated",
                       "segment.deleted"]
    log = await client.get("/backoffice/audit")
    assert "Segment added" in log.text


async def test_bad_input_is_refused_at_its_field_and_nothing_saved(
    client: httpx.AsyncClient, db: Database, venue: DemoVenue
) -> None:
    company_id = await _company(db, venue)
    await _customers(db, company_id, venue.site_id)
    await sign_in(client, ADMIN)
    client.cookies.set("lang", "en")
    cases = [
        (regulars(name="  "), "Give the segment a name of 1 to 120 characters."),
        (regulars(c0_months="0"), "Give a number of months from 1 to 120."),
        (regulars(c0_at_least="", c0_at_most=""), "Give at least or at most how many visits."),
        ({"name": "B", "c0_kind": "birthday_between", "c0_start": "02-31", "c0_end": "03-01"},
         "Give a day and a month, like 12-31 for 31 December."),
        ({"name": "S", "c0_kind": "spent", "c0_amount": "beaucoup", "c0_months": "3"},
         "Give an amount, 0 or more."),
        ({"name": "B", "best_on": "1", "best_n": "0", "best_by": "visits", "best_months": "3"},
         "Give a number of customers from 1 to 100000."),
        ({"name": "W", "c0_kind": "weather"}, "Choose a criterion."),
    ]
    for form, message in cases:
        answer = await post_form(client, f"{PAGE}/new", form)
        assert answer.status_code == 422, (form, answer.text[:300])
        assert message in answer.text, (form, message)
    assert await _segments(db) == []
    # Another company's site is not one of this company's.
    async with db.sessionmaker() as session, session.begin():
        other = Company(name="Ailleurs", currency="EUR", timezone="Europe/Paris", locale="fr")
        session.add(other)
        await session.flush()
        theirs = Site(company_id=other.id, name="Là-bas")
        session.add(theirs)
        await session.flush()
        their_site = theirs.id
    answer = await post_form(client, f"{PAGE}/new", {
        "name": "Là-bas", "c0_kind": "site", "c0_site_id": str(their_site), "c0_months": "0"})
    assert answer.status_code == 422 and "Choose one of the company&#39;s sites." in answer.text
    assert await _segments(db) == []


async def test_the_live_count_follows_the_form(
    client: httpx.AsyncClient, db: Database, venue: DemoVenue
) -> None:
    company_id = await _company(db, venue)
    ids = await _customers(db, company_id, venue.site_id)
    await sign_in(client, ADMIN)
    client.cookies.set("lang", "en")
    live = await post_form(client, f"{PAGE}/preview", regulars())
    assert live.status_code == 200 and "<html" not in live.text
    assert 'data-count="1"' in live.text and f'data-member="{ids["Régis"]}"' in live.text
    assert "1 customer" in live.text
    never = await post_form(client, f"{PAGE}/preview", {
        "match": "all", "c0_kind": "last_visit", "c0_when": "never"})
    assert 'data-count="1"' in never.text and f'data-member="{ids["Tom"]}"' in never.text
    best = await post_form(client, f"{PAGE}/preview", {
        "match": "all", "best_on": "1", "best_n": "2", "best_by": "visits", "best_months": "24"})
    assert 'data-count="2"' in best.text
    assert best.text.index(f'data-member="{ids["Régis"]}"') \
        < best.text.index(f'data-member="{ids["Sam"]}"')
    wrong = await post_form(client, f"{PAGE}/preview", regulars(c0_months="x"))
    assert wrong.status_code == 200 and "Correct the criteria" in wrong.text
    assert "Give a number of months from 1 to 120." in wrong.text
    assert await _segments(db) == []


async def test_rows_are_added_removed_and_change_kind(
    client: httpx.AsyncClient, db: Database, venue: DemoVenue
) -> None:
    await sign_in(client, ADMIN)
    client.cookies.set("lang", "en")
    added = await post_form(client, f"{PAGE}/rows", {**regulars(), "op": "add",
                                                      "new_kind": "birthday_soon"})
    assert added.status_code == 200 and 'name="c2_days"' in added.text
    assert 'id="segment-editor"' in added.text
    removed = await post_form(client, f"{PAGE}/rows", {**regulars(), "op": "remove:0"})
    assert 'name="c0_channel"' in removed.text and 'name="c1_kind"' not in removed.text
    retyped = await post_form(client, f"{PAGE}/rows", {**regulars(c1_kind="spent"),
                                                        "op": "kind:1"})
    assert 'name="c1_amount"' in retyped.text and 'name="c1_channel"' not in retyped.text


async def test_another_companys_segment_is_not_found_and_a_cashier_is_refused(
    client: httpx.AsyncClient, db: Database, venue: DemoVenue
) -> None:
    async with db.sessionmaker() as session, session.begin():
        other = Company(name="Ailleurs", currency="EUR", timezone="Europe/Paris", locale="fr")
        session.add(other)
        await session.flush()
        theirs = Segment(company_id=other.id, name="Leurs habitués", definition={})
        session.add(theirs)
        await session.flush()
        their_id = theirs.id
    await sign_in(client, ADMIN)
    assert (await client.get(f"{PAGE}/{their_id}")).status_code == 404
    answer = await post_form(client, f"{PAGE}/{their_id}", regulars())
    assert answer.status_code == 404
    assert (await _segments(db))[0][0] == "Leurs habitués"
    client.cookies.clear()
    client.headers.pop("x-csrf-token", None)
    await sign_in(client, CASHIER)
    assert (await client.get(PAGE)).status_code == 403
