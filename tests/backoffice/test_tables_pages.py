"""The tables pages: add one or a range, rename, archive, a new token, the QR sheet and PDF."""

from __future__ import annotations

import re

import httpx
from sqlalchemy import select
from starlette.applications import Starlette

from accounts.models import Site
from demo.seed import DemoVenue
from ordering.models import DiningTable
from tests.backoffice.conftest import ADMIN, CASHIER, audit_actions, post_form, sign_in
from tests.conftest import Database, client_for


async def _tables(db: Database, site_id: int) -> list[DiningTable]:
    async with db.sessionmaker() as session:
        return list((await session.scalars(select(DiningTable).where(
            DiningTable.site_id == site_id).order_by(DiningTable.id))).all())


async def test_a_range_adds_its_tables_in_a_room_each_with_a_token(
    client: httpx.AsyncClient, db: Database, venue: DemoVenue
) -> None:
    await sign_in(client, ADMIN)
    before = await _tables(db, venue.site_id)
    url = f"/backoffice/tables/sites/{venue.site_id}/range"
    answer = await post_form(client, url, {"range": "T1–T5", "room": "Terrasse"})
    assert answer.status_code == 200 and answer.headers["hx-redirect"].startswith(
        "/backoffice/tables"), answer.text
    added = (await _tables(db, venue.site_id))[len(before):]
    assert [t.label for t in added] == ["T1", "T2", "T3", "T4", "T5"]
    assert {t.room for t in added} == {"Terrasse"}
    assert len({t.token for t in added}) == 5
    page = await client.get(f"/backoffice/tables?site={venue.site_id}&room=Terrasse")
    assert page.status_code == 200 and "T5" in page.text and "Table 1" not in page.text


async def test_bad_input_shows_the_field_error_and_changes_nothing(
    client: httpx.AsyncClient, db: Database, venue: DemoVenue
) -> None:
    await sign_in(client, ADMIN)
    client.cookies.set("lang", "fr")
    before = [(t.id, t.label, t.token) for t in await _tables(db, venue.site_id)]
    site = venue.site_id
    for url, data, message in [
        (f"/backoffice/tables/sites/{site}/range", {"range": "T9-T1"}, "T1–T20"),
        (f"/backoffice/tables/sites/{site}/range", {"range": "T1-T999"}, "T1–T20"),
        (f"/backoffice/tables/sites/{site}/tables", {"label": ""}, "nom de 1 à 40"),
        (f"/backoffice/tables/sites/{site}/tables", {"label": "x" * 41}, "nom de 1 à 40"),
        (f"/backoffice/tables/sites/{site}/tables", {"label": "Table 1"}, "Table 1"),
        (f"/backoffice/tables/sites/{site}/range", {"range": "Table 1-3"}, "Table 1"),
        (f"/backoffice/tables/{before[1][0]}", {"label": "table 1"}, "Table 1"),
    ]:
        answer = await post_form(client, url, data)
        assert answer.status_code == 422, (url, data, answer.text[:300])
        assert 'class="field-error"' in answer.text and message in answer.text, (url, data)
    assert [(t.id, t.label, t.token) for t in await _tables(db, venue.site_id)] == before
    assert await audit_actions(db) == []


async def test_renaming_keeps_the_token(
    client: httpx.AsyncClient, db: Database, venue: DemoVenue
) -> None:
    await sign_in(client, ADMIN)
    table = (await _tables(db, venue.site_id))[0]
    answer = await post_form(client, f"/backoffice/tables/{table.id}",
                             {"label": "Fenêtre", "room": "Salle"})
    assert answer.status_code == 200, answer.text
    after = (await _tables(db, venue.site_id))[0]
    assert (after.label, after.room, after.token) == ("Fenêtre", "Salle", table.token)


async def test_a_new_token_kills_the_old_qr_code_at_once(
    app: Starlette, client: httpx.AsyncClient, db: Database, venue: DemoVenue
) -> None:
    old = venue.table_tokens[0][1]
    async with client_for(app) as phone:
        assert (await phone.get(f"/t/{old}")).status_code == 200
        assert (await phone.post(f"/api/v1/tables/{old}/start", json={"name": "Léa"})).is_success
        await sign_in(client, ADMIN)
        table = next(t for t in await _tables(db, venue.site_id) if t.token == old)
        refused = await post_form(client, f"/backoffice/tables/{table.id}/token", {})
        assert refused.status_code == 422  # not confirmed: nothing changes
        assert (await _tables(db, venue.site_id))[0].token == old
        answer = await post_form(client, f"/backoffice/tables/{table.id}/token",
                                 {"confirm": "yes"})
        assert answer.status_code == 200, answer.text
        new = next(t for t in await _tables(db, venue.site_id) if t.id == table.id).token
        assert new != old
        phone.cookies.set("lang", "fr")
        gone = await phone.get(f"/t/{old}")
        assert gone.status_code == 404 and "Cette table n" in gone.text
        rejoin = await phone.post(f"/api/v1/tables/{old}/start", json={"name": "Léa"})
        assert rejoin.status_code == 404 and rejoin.json()["error"]["code"] == "unknown_table"
        assert (await phone.get(f"/t/{new}")).status_code == 200
    assert await audit_actions(db) == [("table.token", f"table:{table.id}")]


async def test_an_archived_table_cannot_be_opened_and_keeps_its_history(
    app: Starlette, client: httpx.AsyncClient, db: Database, venue: DemoVenue
) -> None:
    await sign_in(client, ADMIN)
    busy_token, free_token = venue.table_tokens[0][1], venue.table_tokens[1][1]
    tables = {t.token: t for t in await _tables(db, venue.site_id)}
    async with client_for(app) as phone:
        assert (await phone.post(f"/api/v1/tables/{busy_token}/start",
                                 json={"name": "Léa"})).is_success
        in_use = await post_form(client, f"/backoffice/tables/{tables[busy_token].id}/archive",
                                 {"confirm": "yes"})
        assert in_use.status_code == 409 and in_use.json()["error"]["code"] == "table_in_use"
        free = tables[free_token]
        answer = await post_form(client, f"/backoffice/tables/{free.id}/archive",
                                 {"confirm": "yes"})
        assert answer.status_code == 200, answer.text
        assert (await phone.get(f"/t/{free_token}")).status_code == 404
        start = await phone.post(f"/api/v1/tables/{free_token}/start", json={"name": "Léa"})
        assert start.status_code == 404
    kept = next(t for t in await _tables(db, venue.site_id) if t.id == free.id)
    assert kept.archived_at is not None  # still there, with its history
    pos = (await client.get(f"/api/v1/staff/sites/{venue.site_id}/pos")).json()
    assert free.label not in str(pos)
    sheet = await client.get(f"/backoffice/tables/sites/{venue.site_id}/qr")
    assert sheet.text.count("<figure") == 11 and f">{free.label}<" not in sheet.text
    listed = await client.get(f"/backoffice/tables?site={venue.site_id}&archived=1")
    assert free.label in listed.text
    assert await audit_actions(db) == [("table.archive", f"table:{free.id}")]


async def test_the_qr_sheet_per_room_and_its_pdf_which_counts_as_printed(
    client: httpx.AsyncClient, db: Database, venue: DemoVenue
) -> None:
    await sign_in(client, ADMIN)
    site = venue.site_id
    await post_form(client, f"/backoffice/tables/sites/{site}/range",
                    {"range": "B1-B2", "room": "Bar"})
    sheet = await client.get(f"/backoffice/tables/sites/{site}/qr?room=Bar")
    assert sheet.status_code == 200
    assert "B1" in sheet.text and "Table 1<" not in sheet.text
    assert sheet.text.count("<svg") == 2
    async with db.sessionmaker() as session:
        assert (await session.get(Site, site)).qr_printed_at is None  # type: ignore[union-attr]
    pdf = await client.get(f"/backoffice/tables/sites/{site}/qr.pdf?room=Bar")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert pdf.headers["content-type"] == "application/pdf"
    async with db.sessionmaker() as session:
        printed = await session.get(Site, site)
        assert printed is not None and printed.qr_printed_at is not None


async def test_the_print_button_records_the_printing_and_a_cashier_may_not(
    client: httpx.AsyncClient, db: Database, venue: DemoVenue
) -> None:
    await sign_in(client, CASHIER)
    site = venue.site_id
    assert (await client.post(f"/backoffice/tables/sites/{site}/printed")).status_code == 403
    assert (await client.get(f"/backoffice/tables/sites/{site}/qr.pdf")).status_code == 403
    assert (await post_form(client, f"/backoffice/tables/sites/{site}/range",
                            {"range": "C1-C2"})).status_code == 403
    assert (await client.get(f"/backoffice/tables?site={site}")).status_code == 403
    await sign_in(client, ADMIN)
    assert (await client.post(f"/backoffice/tables/sites/{site}/printed")).status_code == 204
    async with db.sessionmaker() as session:
        printed = await session.get(Site, site)
        assert printed is not None and printed.qr_printed_at is not None


async def test_the_list_is_searched_and_paged_on_the_server(
    client: httpx.AsyncClient, db: Database, venue: DemoVenue
) -> None:
    await sign_in(client, ADMIN)
    site = venue.site_id
    answer = await post_form(client, f"/backoffice/tables/sites/{site}/range",
                             {"range": "T1–T60", "room": "Salle haute"})
    assert answer.status_code == 200, answer.text
    every = len([t for t in await _tables(db, site) if t.archived_at is None])
    assert every > 60

    def shown(html: str) -> set[str]:
        return set(re.findall(r'<input name="label" value="([^"]+)"', html))

    first = (await client.get(f"/backoffice/tables?site={site}")).text
    assert len(shown(first)) == 50 and 'rel="next"' in first
    second = (await client.get(f"/backoffice/tables?site={site}&page=2")).text
    assert len(shown(second)) == every - 50 and not shown(first) & shown(second)
    found = (await client.get(f"/backoffice/tables?site={site}&q=t5")).text
    assert shown(found) == {"T5", *(f"T5{n}" for n in range(10))}
    by_room = (await client.get(f"/backoffice/tables?site={site}&q=haute&page=2")).text
    assert len(shown(by_room)) == 10 and 'rel="prev"' in by_room
    client.cookies.set("lang", "fr")
    none = (await client.get(f"/backoffice/tables?site={site}&q=zzz")).text
    assert not shown(none) and "Aucune table ne correspond" in none
