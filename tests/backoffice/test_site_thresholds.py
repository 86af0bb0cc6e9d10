"""The minutes after which a ticket waiting on a site's kitchen and bar displays turns amber,
then red: set on the site's form, checked (whole minutes, amber before red), each error next
to its field, nothing changed by a refused form."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from starlette.applications import Starlette

from accounts.company_service import ThresholdsOutOfOrder, check_thresholds
from accounts.models import Site
from demo.seed import DemoVenue
from tests.api.test_tenant import nothing_changes
from tests.backoffice.helpers import ADMIN, CASHIER, audit_entries, signed_in
from tests.conftest import Database, client_for

SITE = {"name": "Café de la Gare", "address": "1 place de la Gare, 69002 Lyon",
        "opening_hours": "Lundi–vendredi 7 h–19 h, samedi 8 h–14 h", "table_mode": "order",
        "ticket_amber_min": "10", "ticket_red_min": "20"}


def test_red_comes_after_amber() -> None:
    check_thresholds(1, 2)
    check_thresholds(10, 20)
    for amber, red in ((20, 20), (30, 20)):
        with pytest.raises(ThresholdsOutOfOrder) as refused:
            check_thresholds(amber, red)
        assert refused.value.field == "ticket_red_min"


async def _site(db: Database, site_id: int) -> Site:
    async with db.sessionmaker() as session:
        site = await session.get(Site, site_id)
        assert site is not None
        return site


async def test_a_site_starts_at_ten_and_twenty_minutes_and_its_form_shows_them(
    app: Starlette, db: Database, venue: DemoVenue
) -> None:
    site = await _site(db, venue.site_id)
    assert (site.ticket_amber_min, site.ticket_red_min) == (10, 20)
    async with client_for(app) as client:
        admin = await signed_in(client, ADMIN)
        page = await admin.get(f"/backoffice/sites/{venue.site_id}")
        company = await admin.get("/backoffice/company")
    assert 'name="ticket_amber_min" type="number" value="10"' in page.text
    assert 'name="ticket_red_min" type="number" value="20"' in page.text
    assert "Écrans de cuisine et de bar" in page.text  # French first
    assert 'name="ticket_amber_min" type="number" value="10"' in company.text  # a new site's


async def test_the_thresholds_are_saved_with_their_audit_record(
    app: Starlette, db: Database, venue: DemoVenue
) -> None:
    async with client_for(app) as client:
        admin = await signed_in(client, ADMIN)
        saved = await admin.post(f"/backoffice/sites/{venue.site_id}",
                                 {**SITE, "ticket_amber_min": "4", "ticket_red_min": " 9 "})
        assert saved.status_code == 200, saved.text
        assert 'value="4"' in saved.text and 'value="9"' in saved.text
        added = await admin.post("/backoffice/sites", {**SITE, "name": "Le Kiosque",
                                                       "ticket_amber_min": "1",
                                                       "ticket_red_min": "2"})
        assert added.status_code == 200, added.text
    site = await _site(db, venue.site_id)
    assert (site.ticket_amber_min, site.ticket_red_min) == (4, 9)
    async with db.sessionmaker() as session:
        kiosk = await session.scalar(select(Site).where(Site.name == "Le Kiosque"))
    assert kiosk is not None and (kiosk.ticket_amber_min, kiosk.ticket_red_min) == (1, 2)
    [updated] = await audit_entries(db, "site.updated")
    assert updated.changes == {"ticket_amber_min": [10, 4], "ticket_red_min": [20, 9]}


@pytest.mark.parametrize("field, value", [
    ("ticket_amber_min", "0"), ("ticket_amber_min", "-3"), ("ticket_amber_min", "abc"),
    ("ticket_amber_min", "2.5"), ("ticket_amber_min", ""), ("ticket_red_min", "241"),
    ("ticket_red_min", "vingt"),
])
async def test_a_bad_number_of_minutes_is_named_next_to_its_field_and_nothing_changes(
    app: Starlette, db: Database, venue: DemoVenue, field: str, value: str
) -> None:
    async with client_for(app) as client:
        admin = await signed_in(client, ADMIN)
        async with nothing_changes(db):
            for url in ("/backoffice/sites", f"/backoffice/sites/{venue.site_id}"):
                answer = await admin.post(url, {**SITE, "name": "Autre", field: value})
                assert answer.status_code == 422, answer.text
                error = answer.text.split(f'data-error-for="{field}">', 1)[1].split("<", 1)[0]
                assert "minutes" in error, answer.text  # its own message, by its field
                assert answer.text.count('aria-invalid="true"') == 1
                assert f'value="{value}"' in answer.text  # what was typed stays


@pytest.mark.parametrize("amber, red", [("15", "15"), ("30", "20")])
async def test_red_before_amber_is_refused_next_to_red_and_nothing_changes(
    app: Starlette, db: Database, venue: DemoVenue, amber: str, red: str
) -> None:
    async with client_for(app) as client:
        admin = await signed_in(client, ADMIN)
        async with nothing_changes(db):
            for url in ("/backoffice/sites", f"/backoffice/sites/{venue.site_id}"):
                answer = await admin.post(url, {**SITE, "name": "Autre",
                                                "ticket_amber_min": amber,
                                                "ticket_red_min": red})
                assert answer.status_code == 422, answer.text
                error = answer.text.split('data-error-for="ticket_red_min">', 1)[1]
                assert error.split("<", 1)[0].strip().startswith("Le rouge vient après")
                assert 'id="f-ticket_red_min" name="ticket_red_min" type="number" value="' \
                       f'{red}" aria-invalid="true"' in answer.text
    site = await _site(db, venue.site_id)
    assert site.name == "Café de la Gare"


async def test_only_those_who_configure_set_the_thresholds(
    app: Starlette, db: Database, venue: DemoVenue
) -> None:
    async with client_for(app) as client:
        cashier = await signed_in(client, CASHIER)
        async with nothing_changes(db):
            answer = await cashier.post(f"/backoffice/sites/{venue.site_id}",
                                        {**SITE, "ticket_amber_min": "1", "ticket_red_min": "2"})
    assert answer.status_code == 403
