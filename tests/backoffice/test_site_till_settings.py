"""Each site's till settings on its form: the discount a cashier gives alone and the hours
offline before a till warns; checked, each error next to its field; the till follows them."""

from __future__ import annotations

from starlette.applications import Starlette

from accounts.models import Site
from demo.seed import DemoVenue
from tests.api.test_tenant import nothing_changes
from tests.backoffice.helpers import ADMIN, CASHIER, audit_entries, signed_in
from tests.backoffice.test_site_thresholds import SITE
from tests.conftest import Database, client_for
from tests.pos.at_till import at_till


async def test_a_sites_till_settings_are_saved_audited_and_followed_by_its_tills(
    app: Starlette, db: Database, venue: DemoVenue
) -> None:
    url = f"/backoffice/sites/{venue.site_id}"
    async with client_for(app) as client, client_for(app) as till:
        admin = await signed_in(client, ADMIN)
        page = await admin.get(url)
        assert 'name="discount_limit_percent" type="number" value="10"' in page.text
        assert 'name="offline_warn_hours" type="number" value="24"' in page.text
        async with nothing_changes(db):
            refused = await admin.post(url, {**SITE, "discount_limit_percent": "101",
                                             "offline_warn_hours": "0"})
            assert refused.status_code == 422
            assert "pourcentage entier de 0 à 100" in refused.text
            assert "nombre entier d'heures de 1 à 720" in refused.text.replace("&#39;", "'")
        saved = await admin.post(url, {**SITE, "discount_limit_percent": "15",
                                       "offline_warn_hours": "48"})
        assert saved.status_code == 200, saved.text[:300]
        async with db.sessionmaker() as session:
            site = await session.get(Site, venue.site_id)
        assert site is not None
        assert (site.discount_limit_percent, site.offline_warn_hours) == (15, 48)
        [entry] = await audit_entries(db, "site.updated")
        assert entry.changes == {"discount_limit_percent": [10, 15],
                                 "offline_warn_hours": [24, 48]}
        await at_till(till, db, CASHIER[0])
        assert 'data-warn-hours="48"' in (await till.get("/till")).text
        assert 'data-limit="15"' in (await till.get("/till/sell")).text
