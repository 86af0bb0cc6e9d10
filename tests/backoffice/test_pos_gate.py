"""A site's POS sells only once the blocking steps of the onboarding checklist are done,
and says which are missing; the back office's home shows the checklist from the data."""

from __future__ import annotations

from sqlalchemy import update
from starlette.applications import Starlette

from accounts.models import Site, Staff
from demo.seed import DemoVenue
from ordering.models import Product
from tests.api.test_bad_input import expect, key
from tests.api.test_tenant import nothing_changes
from tests.backoffice.helpers import ADMIN, CASHIER, signed_in
from tests.conftest import Database, client_for


async def _submitted_round(app: Starlette, venue: DemoVenue) -> tuple[int, int]:
    """Léa sent a round from table 1: its id, and the table's."""
    token = venue.table_tokens[0][1]
    async with client_for(app) as lea:
        await lea.post(f"/api/v1/tables/{token}/start", json={"name": "Léa"})
        state = (await lea.get(f"/api/v1/tables/{token}")).json()
        product = state["menu"]["categories"][0]["products"][0]["id"]
        added = await lea.post(f"/api/v1/tables/{token}/cart/lines",
                               json={"client_id": key(), "product_id": product, "quantity": 1})
        assert added.is_success, added.text
        sent = await lea.post(f"/api/v1/tables/{token}/rounds", json={"idempotency_key": key()})
        return sent.json()["round"]["id"], state["table"]["table"]["id"]


async def test_the_demo_venue_may_sell(app: Starlette, venue: DemoVenue) -> None:
    round_id, _ = await _submitted_round(app, venue)
    async with client_for(app) as till:
        await signed_in(till, CASHIER)
        answer = await till.post(f"/api/v1/staff/rounds/{round_id}/validate", json={})
        assert answer.status_code == 200, answer.text
        pos = await till.get(f"/pos/{venue.site_id}")
    assert "data-not-ready" not in pos.text


async def test_without_address_and_supervisor_the_pos_refuses_and_names_them(
    app: Starlette, db: Database, venue: DemoVenue
) -> None:
    round_id, table_id = await _submitted_round(app, venue)
    async with db.sessionmaker() as session, session.begin():
        await session.execute(update(Site).values(address=""))
        await session.execute(update(Staff).where(Staff.role == "supervisor")
                              .values(role="cashier"))
    async with client_for(app) as till:
        await signed_in(till, CASHIER)
        async with nothing_changes(db):
            answer = await till.post(f"/api/v1/staff/rounds/{round_id}/validate", json={},
                                     headers={"accept-language": "fr"})
            expect(answer, 409, "site_not_ready")
            message = answer.json()["error"]["message"]
            assert "un site avec son enseigne et son adresse" in message
            assert "un superviseur" in message
            assert "carte" not in message  # the menu is there
            taken = await till.post(
                f"/api/v1/staff/tables/{table_id}/rounds",
                json={"lines": [{"product_id": 1, "quantity": 1}], "idempotency_key": key()})
            expect(taken, 409, "site_not_ready")
        english = await till.post(f"/api/v1/staff/rounds/{round_id}/validate", json={},
                                  headers={"accept-language": "en"})
        assert "a supervisor" in english.json()["error"]["message"]
        pos = await till.get(f"/pos/{venue.site_id}")
        assert "data-not-ready" in pos.text and "un superviseur" in pos.text


async def test_a_site_without_a_product_may_not_sell(
    app: Starlette, db: Database, venue: DemoVenue
) -> None:
    round_id, _ = await _submitted_round(app, venue)
    # The menu's products move to another site of the company: this one has none left.
    async with db.sessionmaker() as session, session.begin():
        site = await session.get(Site, venue.site_id)
        assert site is not None
        annex = Site(company_id=site.company_id, name="Annexe", address="Ailleurs")
        session.add(annex)
        await session.flush()
        await session.execute(update(Product).values(site_id=annex.id))
    async with client_for(app) as till:
        await signed_in(till, CASHIER)
        answer = await till.post(f"/api/v1/staff/rounds/{round_id}/validate", json={})
    expect(answer, 409, "site_not_ready")
    assert "carte" in answer.json()["error"]["message"]


async def test_the_home_shows_the_checklist_from_the_data(
    app: Starlette, db: Database, venue: DemoVenue
) -> None:
    async with client_for(app) as client:
        admin = await signed_in(client, ADMIN)
        home = await admin.get("/backoffice")
        assert home.status_code == 200, home.text
        for step, done in (("site", "yes"), ("menu", "yes"), ("supervisor", "yes"),
                           ("pins", "yes"), ("tables", "yes"), ("modes", "yes"),
                           ("qr_codes", "no"), ("launch", "no")):
            assert f'data-step="{step}" data-done="{done}"' in home.text, step
        assert 'href="/backoffice/staff"' in home.text  # each step links to its page
        progress = await admin.get("/backoffice/progress")
        before = progress.text.split('data-progress="', 1)[1].split('"', 1)[0]
        printed = await client.post(f"/api/v1/staff/sites/{venue.site_id}/qr-printed",
                                    headers={"x-csrf-token": admin.csrf})
        assert printed.status_code == 200, printed.text
        home = await admin.get("/backoffice")
        assert 'data-step="qr_codes" data-done="yes"' in home.text
        after = (await admin.get("/backoffice/progress")).text
        assert after.split('data-progress="', 1)[1].split('"', 1)[0] != before
    async with client_for(app) as client:
        cashier = await signed_in(client, CASHIER)
        home = await client.get("/backoffice")
        assert home.status_code == 200 and "data-step" not in home.text
        assert (await client.get("/backoffice/progress")).text == ""
        refused = await client.post(f"/api/v1/staff/sites/{venue.site_id}/qr-printed",
                                    headers={"x-csrf-token": cashier.csrf})
        expect(refused, 403, "forbidden")
