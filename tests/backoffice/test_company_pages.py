"""Company and sites from the back office: forms that show each bad field's error and
change nothing, changes written with their audit record, archiving a site."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select
from starlette.applications import Starlette

from accounts.company_service import LaunchTooSoon, check_launch, today_at
from accounts.models import Company, Site
from demo.seed import DemoVenue
from tests.api.test_tenant import nothing_changes
from tests.backoffice.helpers import ADMIN, CASHIER, audit_entries, signed_in
from tests.conftest import Database, client_for

COMPANY = {"name": "Café de la Gare SARL", "currency": "EUR", "timezone": "Europe/Paris",
           "locale": "fr", "launch_on": ""}
SITE = {"name": "Le Kiosque", "address": "2 quai du Rhône, 69002 Lyon",
        "opening_hours": "Tous les jours 8 h–18 h", "table_mode": "order"}


def in_days(days: int) -> str:
    return (today_at("Europe/Paris", datetime.now(UTC)) + timedelta(days=days)).isoformat()


def test_a_launch_date_is_at_least_five_days_ahead() -> None:
    today = date(2026, 3, 2)
    check_launch(None, today)
    check_launch(date(2026, 3, 7), today)
    with pytest.raises(LaunchTooSoon) as refused:
        check_launch(date(2026, 3, 6), today)
    assert refused.value.field == "launch_on"


async def test_the_company_page_shows_the_company_and_its_sites(
    app: Starlette, venue: DemoVenue
) -> None:
    async with client_for(app) as client:
        admin = await signed_in(client, ADMIN)
        page = await admin.get("/backoffice/company")
    assert page.status_code == 200, page.text
    assert 'value="Café de la Gare SARL"' in page.text
    assert "1 place de la Gare, 69002 Lyon" in page.text
    assert 'aria-current="page">Entreprise et sites' in page.text  # French first


@pytest.mark.parametrize("field, value", [
    ("name", ""), ("name", "x" * 121), ("currency", "EURO"), ("currency", "ZZZ"),
    ("timezone", "Europe/Gotham"), ("locale", "de"), ("launch_on", "2026-13-40"),
])
async def test_a_bad_company_field_is_named_next_to_it_and_nothing_changes(
    app: Starlette, db: Database, venue: DemoVenue, field: str, value: str
) -> None:
    async with client_for(app) as client:
        admin = await signed_in(client, ADMIN)
        async with nothing_changes(db):
            answer = await admin.post("/backoffice/company", {**COMPANY, field: value})
    assert answer.status_code == 422, answer.text
    assert f'id="f-{field}"' in answer.text
    error = answer.text.split(f'data-error-for="{field}">', 1)[1].split("<", 1)[0]
    assert error.strip(), answer.text  # the message is next to its field
    assert 'aria-invalid="true"' in answer.text
    assert f'value="{value}"' in answer.text or field in ("locale",)  # what was typed stays


async def test_several_bad_fields_are_all_named(app: Starlette, db: Database,
                                                venue: DemoVenue) -> None:
    async with client_for(app) as client:
        admin = await signed_in(client, ADMIN)
        async with nothing_changes(db):
            answer = await admin.post("/backoffice/company",
                                      {**COMPANY, "name": "", "timezone": "Mars/Olympus"})
    assert answer.status_code == 422
    assert answer.text.count('aria-invalid="true"') == 2


async def test_a_launch_date_too_soon_is_refused_next_to_its_field(
    app: Starlette, db: Database, venue: DemoVenue
) -> None:
    async with client_for(app) as client:
        admin = await signed_in(client, ADMIN)
        async with nothing_changes(db):
            answer = await admin.post("/backoffice/company",
                                      {**COMPANY, "name": "Renamed", "launch_on": in_days(2)})
    assert answer.status_code == 422
    error = answer.text.split('data-error-for="launch_on">', 1)[1].split("<", 1)[0]
    assert "cinq jours" in error


async def test_saving_the_company_changes_it_and_records_what_changed(
    app: Starlette, db: Database, venue: DemoVenue
) -> None:
    async with client_for(app) as client:
        admin = await signed_in(client, ADMIN)
        answer = await admin.post("/backoffice/company", {
            **COMPANY, "name": "Gare & Co", "currency": "CHF", "timezone": "Europe/Zurich",
            "locale": "en", "launch_on": in_days(6)})
    assert answer.status_code == 200, answer.text
    assert 'role="status"' in answer.text
    async with db.sessionmaker() as session:
        company = await session.scalar(select(Company))
    assert company is not None
    assert (company.name, company.currency, company.timezone, company.locale) == (
        "Gare & Co", "CHF", "Europe/Zurich", "en")
    assert company.launch_on is not None and company.launch_on.isoformat() == in_days(6)
    [entry] = await audit_entries(db, "company.updated")
    changes = entry.changes
    assert changes["name"] == ["Café de la Gare SARL", "Gare & Co"]
    assert changes["currency"] == ["EUR", "CHF"]
    assert entry.actor_staff_id is not None


async def test_adding_and_editing_a_site(app: Starlette, db: Database, venue: DemoVenue) -> None:
    async with client_for(app) as client:
        admin = await signed_in(client, ADMIN)
        added = await admin.post("/backoffice/sites", {**SITE, "table_mode": "menu"})
        assert added.status_code == 200, added.text
        assert added.headers["hx-redirect"] == "/backoffice/company"
        async with db.sessionmaker() as session:
            site = await session.scalar(select(Site).where(Site.name == "Le Kiosque"))
        assert site is not None
        assert (site.address, site.table_mode) == (SITE["address"], "menu")
        assert site.mode_chosen_at is not None
        listing = await admin.get("/backoffice/company")
        assert f'data-site="{site.id}"' in listing.text
        changed = await admin.post(f"/backoffice/sites/{site.id}",
                                   {**SITE, "opening_hours": "Fermé le lundi"})
        assert changed.status_code == 200, changed.text
    async with db.sessionmaker() as session:
        again = await session.get(Site, site.id)
    assert again is not None and again.opening_hours == "Fermé le lundi"
    assert again.table_mode == "order"
    assert [e.action for e in await audit_entries(db)] == [
        "site.added", "site.updated", "site.mode"]


@pytest.mark.parametrize("field, value", [
    ("name", ""), ("address", " "), ("opening_hours", "x" * 1001), ("table_mode", "drive"),
])
async def test_a_bad_site_field_is_named_and_nothing_changes(
    app: Starlette, db: Database, venue: DemoVenue, field: str, value: str
) -> None:
    async with client_for(app) as client:
        admin = await signed_in(client, ADMIN)
        async with nothing_changes(db):
            for url in ("/backoffice/sites", f"/backoffice/sites/{venue.site_id}"):
                answer = await admin.post(url, {**SITE, field: value})
                assert answer.status_code == 422, answer.text
                error = answer.text.split(f'data-error-for="{field}">', 1)[1].split("<", 1)[0]
                assert error.strip(), answer.text


async def test_an_archived_site_leaves_the_lists_and_the_pos_and_keeps_its_history(
    app: Starlette, db: Database, venue: DemoVenue
) -> None:
    async with client_for(app) as client:
        admin = await signed_in(client, ADMIN)
        page = await admin.get(f"/backoffice/sites/{venue.site_id}")
        assert "hx-confirm" in page.text  # archiving asks first
        answer = await admin.post(f"/backoffice/sites/{venue.site_id}/archive",
                                  {"archived": "true"})
        assert answer.status_code == 200, answer.text
        listing = await admin.get("/backoffice/company")
        assert "data-archived" in listing.text
        me = (await client.get("/api/v1/staff/me")).json()
        assert me["sites"] == []
        assert (await client.get(f"/pos/{venue.site_id}")).status_code == 404
        assert (await client.get("/staff")).headers["location"] == "/backoffice"
        # Its history is still there: its page, its tables.
        assert (await admin.get(f"/backoffice/sites/{venue.site_id}")).status_code == 200
        back = await admin.post(f"/backoffice/sites/{venue.site_id}/archive",
                                {"archived": "false"})
        assert back.status_code == 200
        assert (await client.get(f"/pos/{venue.site_id}")).status_code == 200
    assert [e.action for e in await audit_entries(db)] == ["site.archived", "site.restored"]


async def test_only_those_who_configure_reach_company_and_sites(
    app: Starlette, db: Database, venue: DemoVenue
) -> None:
    async with client_for(app) as client:
        cashier = await signed_in(client, CASHIER)
        assert (await cashier.get("/backoffice/company")).status_code == 403
        assert (await cashier.get(f"/backoffice/sites/{venue.site_id}")).status_code == 403
        async with nothing_changes(db):
            for url, data in (("/backoffice/company", COMPANY), ("/backoffice/sites", SITE),
                              (f"/backoffice/sites/{venue.site_id}", SITE),
                              (f"/backoffice/sites/{venue.site_id}/archive", {})):
                assert (await cashier.post(url, data)).status_code == 403, url
    async with client_for(app) as nobody:
        assert (await nobody.get("/backoffice/company")).headers["location"] == "/staff/login"
