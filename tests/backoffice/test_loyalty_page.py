"""The loyalty statistics page and the home's loyalty block, on the hand-computed base of
tests/loyalty/figures_base.py recorded in the demo company: the figures of the week, of
one site, in French and English; a manager of one site sees that site only; the
programme off, or nothing counted, says so; the reporter sees customers by number."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from starlette.applications import Starlette

from demo.seed import DemoVenue
from realtime.bus import make_bus
from tests.api.test_bad_input import login
from tests.backoffice.stat_rows import company_of, member
from tests.conftest import Database, client_for
from tests.loyalty.conftest import Loyal
from tests.loyalty.figures_base import Base, build
from web.i18n import money

ADMIN = ("admin@cafe-de-la-gare.fr", "admin-demo")
WEEK = "/backoffice/loyalty?start=2026-03-02&end=2026-03-08"


@pytest.fixture
async def loyal(db: Database, venue: DemoVenue) -> AsyncIterator[Loyal]:
    bus = make_bus(None)
    yield Loyal(db, bus, await company_of(db, venue), venue.site_id)
    await bus.close()


@pytest.fixture
async def base(app: Starlette, loyal: Loyal) -> Base:
    return await build(loyal)  # the app is assembled: loyalty hears the sales


def kpis(html: str) -> dict[str, int]:
    return {k: int(v) for k, v in re.findall(r'data-kpi="(\w+)" data-value="(-?\d+)"', html)}


def table(html: str, table_id: str) -> str:
    return html.split(f'id="{table_id}"')[1].split("</table>")[0]


async def test_the_weeks_figures_in_french_and_in_english(
    app: Starlette, base: Base
) -> None:
    async with client_for(app) as client:
        await login(client, *ADMIN)
        page = await client.get(WEEK)
        assert page.status_code == 200, page.text
        assert kpis(page.text) == {"visits": 5, "customers": 4, "new": 1, "returning": 3,
                                   "revenue": 8500, "basket": 1700, "cost": 710}
        assert "Nouveaux clients" in page.text and "Coût de la fidélité" in page.text
        assert money(8500, "EUR", "fr") in page.text
        assert re.search(r'data-kpi="share">8,4\s%<', page.text), page.text
        rewards = table(page.text, "loyalty-rewards-table")
        assert rewards.index("Café offert") < rewards.index("Dessert")
        assert money(360, "EUR", "fr") in rewards and money(350, "EUR", "fr") in rewards
        customers = table(page.text, "loyalty-customers-table")
        assert customers.index("Hugo") < customers.index("Léa") < customers.index(
            "Zoé") < customers.index("Marc")
        taken = table(page.text, "loyalty-taken-table")
        assert taken.count("<tr>") == 4 + 1 and taken.count("Coupon") == 2
        assert 'class="chart chart-heat"' in page.text and "heat-5" in page.text
        nav = page.text.split('class="bo-nav"')[1].split("</nav>")[0]
        assert 'href="/backoffice/loyalty" aria-current="page">Fidélité<' in nav
        client.cookies.set("lang", "en")
        english = await client.get(WEEK)
        assert english.status_code == 200
        assert "New customers" in english.text and "Cost of loyalty" in english.text
        assert "Most chosen rewards" in english.text and money(8500, "EUR", "en") in english.text
        assert kpis(english.text)["visits"] == 5
        kiosk = await client.get(f"{WEEK}&site={base.site_b}")
        assert kpis(kiosk.text) == {"visits": 2, "customers": 2, "new": 1, "returning": 1,
                                    "revenue": 3700, "basket": 1850, "cost": 470}


async def test_a_manager_of_one_site_sees_only_that_site(
    app: Starlette, db: Database, loyal: Loyal, base: Base, venue: DemoVenue
) -> None:
    manager = await member(db, loyal.company_id, "manager", "kiosque@cafe-de-la-gare.fr",
                           [base.site_b])
    async with client_for(app) as client:
        await login(client, *manager)
        page = await client.get(WEEK)
        assert page.status_code == 200
        assert kpis(page.text) == {"visits": 2, "customers": 2, "new": 1, "returning": 1,
                                   "revenue": 3700, "basket": 1850, "cost": 470}
        assert "Café de la Gare" not in page.text.split('id="f-site"')[1].split("</select>")[0]
        assert "Marc" not in table(page.text, "loyalty-customers-table")
        other = await client.get(f"{WEEK}&site={venue.site_id}")
        assert other.status_code == 404
        home = await client.get("/backoffice")
        assert 'id="home-loyalty"' in home.text


async def test_the_programme_off_or_nothing_counted_says_so(
    app: Starlette, loyal: Loyal, base: Base
) -> None:
    async with client_for(app) as client:
        await login(client, *ADMIN)
        quiet = await client.get("/backoffice/loyalty?start=2026-01-05&end=2026-01-11")
        assert quiet.status_code == 200 and 'id="loyalty-empty"' in quiet.text
        assert kpis(quiet.text) == {}
        wrong = await client.get("/backoffice/loyalty?start=2026-03-08&end=2026-03-02")
        assert wrong.status_code == 422 and 'aria-invalid="true"' in wrong.text
        await loyal.rules(enabled=False)
        off = await client.get(WEEK)
        assert off.status_code == 200 and 'id="loyalty-off"' in off.text
        assert kpis(off.text) == {}
        home = await client.get("/backoffice")
        assert 'id="home-loyalty"' not in home.text


async def test_the_home_shows_this_weeks_loyalty_to_those_who_read_the_statistics(
    app: Starlette, db: Database, loyal: Loyal, base: Base
) -> None:
    now = datetime.now(UTC)
    await loyal.record(loyal.sale(base.zoe, 1800, sold_at=now))
    reporter = await member(db, loyal.company_id, "reporter", "lecteur@cafe-de-la-gare.fr")
    async with client_for(app) as client:
        await login(client, *reporter)
        home = await client.get("/backoffice")
        block = home.text.split('id="home-loyalty"')[1].split("</section>")[0]
        # Zoé came before: a visit, no new customer, no reward this week.
        assert kpis(block) == {"visits": 1, "new": 0, "revenue": 1800, "cost": 0}
        assert 'href="/backoffice/loyalty?start=' in block
        page = await client.get(WEEK)
        customers = table(page.text, "loyalty-customers-table")
        # A reporter may not see the customers: each by number.
        assert "Hugo" not in customers and f"#{base.hugo}" in customers
    async with client_for(app) as client:
        await login(client, "caisse@cafe-de-la-gare.fr", "caisse-demo")
        assert (await client.get(WEEK)).status_code == 403
        assert 'id="home-loyalty"' not in (await client.get("/backoffice")).text
