"""The statistics pages read known rollup rows: sales, tickets and brews by day, week,
month and hour; the busiest hours; consumption by machine and consumer; CSV and Excel
exports of each table; a site-limited manager sees only their sites, a reporter only these
pages."""

from __future__ import annotations

import csv
import io

import httpx
import pytest
from openpyxl import load_workbook
from sqlalchemy import select
from starlette.applications import Starlette

from demo.seed import DemoVenue
from machines.models import Machine
from tests.api.test_bad_input import login
from tests.backoffice.stat_rows import Fact, company_of, member, roll_up, second_site
from tests.conftest import Database, client_for
from web.i18n import money

ADMIN = ("admin@cafe-de-la-gare.fr", "admin-demo")
RANGE = "start=2026-03-09&end=2026-03-11"


async def _known(db: Database, venue: DemoVenue) -> tuple[int, int]:
    """Tuesday 10 March 2026: two counter tickets (12.50) at 9, three brews (3.00) at 10;
    Wednesday 11: a table bill (40.00) at noon. At the second site, Tuesday: one ticket
    (7.00) at 9. Returns (company, second site)."""
    company = await company_of(db, venue)
    kiosk = await second_site(db, company)
    site = venue.site_id
    await roll_up(db, company,
                  Fact(site, "2026-03-10T09", "sales", count=2, amount=1250),
                  Fact(site, "2026-03-10T10", "brews", count=3, amount=300),
                  Fact(site, "2026-03-11T12", "tables", count=1, amount=4000),
                  Fact(kiosk, "2026-03-10T09", "sales", count=1, amount=700))
    return company, kiosk


def _rows(response: httpx.Response) -> list[list[str]]:
    assert response.headers["content-type"].startswith("text/csv")
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))


async def test_sales_by_day_show_revenue_tickets_and_brews_and_export_them(
    app: Starlette, db: Database, venue: DemoVenue
) -> None:
    await _known(db, venue)
    async with client_for(app) as client:
        await login(client, *ADMIN)
        page = await client.get(f"/backoffice/stats?{RANGE}")
        assert page.status_code == 200, page.text
        assert money(2250, "EUR", "fr") in page.text  # Tuesday, both sites, brews too
        assert money(4000, "EUR", "fr") in page.text
        assert '<svg class="chart chart-line"' in page.text
        rows = _rows(await client.get(f"/backoffice/stats?{RANGE}&format=csv"))
        assert [r[1:] for r in rows[1:]] == [["0.00", "0", "0"], ["22.50", "3", "3"],
                                              ["40.00", "1", "0"]]
        assert rows[0][1].endswith("(EUR)")
        one = _rows(await client.get(
            f"/backoffice/stats?{RANGE}&site={venue.site_id}&format=csv"))
        assert [r[1:] for r in one[1:]][1] == ["15.50", "2", "3"]
        book = await client.get(f"/backoffice/stats?{RANGE}&format=xlsx")
        assert book.headers["content-type"].startswith("application/vnd.openxmlformats")
        sheet = load_workbook(io.BytesIO(book.content)).active
        assert sheet is not None
        values = [list(r) for r in sheet.iter_rows(min_row=2, values_only=True)]
        assert [float(v[1]) for v in values] == [0, 22.5, 40] and [v[2] for v in values] == [
            0, 3, 1]


@pytest.mark.parametrize("granularity, buckets", [
    ("month", 1), ("week", 1), ("day", 3), ("hour", 72)])
async def test_sales_by_month_week_day_and_hour(
    app: Starlette, db: Database, venue: DemoVenue, granularity: str, buckets: int
) -> None:
    await _known(db, venue)
    async with client_for(app) as client:
        await login(client, *ADMIN)
        rows = _rows(await client.get(
            f"/backoffice/stats?{RANGE}&granularity={granularity}&format=csv"))
        assert len(rows) - 1 == buckets
        assert sum(float(r[1]) for r in rows[1:]) == 62.5  # 12.50 + 7.00 + 3.00 + 40.00
        if granularity == "hour":
            nine = [r for r in rows[1:] if float(r[1]) == 19.5]
            assert len(nine) == 1 and nine[0][2] == "3"  # 9:00 on Tuesday: 3 tickets


async def test_a_long_table_shows_its_first_rows_and_exports_them_all(
    app: Starlette, db: Database, venue: DemoVenue, monkeypatch: pytest.MonkeyPatch
) -> None:
    from backoffice import stat_tables
    monkeypatch.setattr(stat_tables, "PAGE_ROWS", 10)
    monkeypatch.setattr("backoffice.stats_pages.PAGE_ROWS", 10)
    await _known(db, venue)
    async with client_for(app) as client:
        await login(client, *ADMIN)
        page = await client.get(f"/backoffice/stats?{RANGE}&granularity=hour")
        assert page.status_code == 200
        body = page.text.split('id="stats-table"')[1].split("</table>")[0]
        assert body.count('<th scope="row">') == 10
        assert "62 lignes de plus sont dans les exports." in page.text
        rows = _rows(await client.get(f"/backoffice/stats?{RANGE}&granularity=hour&format=csv"))
        assert len(rows) - 1 == 72


async def test_the_busiest_hours_as_a_heat_map_and_a_table(
    app: Starlette, db: Database, venue: DemoVenue
) -> None:
    await _known(db, venue)
    async with client_for(app) as client:
        await login(client, *ADMIN)
        page = await client.get(f"/backoffice/stats/hours?{RANGE}&measure=tickets")
        assert page.status_code == 200 and 'class="chart chart-heat"' in page.text
        assert "heat-5" in page.text  # Tuesday 9:00, the busiest
        rows = _rows(await client.get(
            f"/backoffice/stats/hours?{RANGE}&measure=tickets&format=csv"))
        assert len(rows) == 8 and len(rows[0]) == 25
        tuesday = rows[2]
        assert tuesday[1 + 9] == "3" and tuesday[1 + 10] == "0"
        assert rows[3][1 + 12] == "1"  # Wednesday noon: the table's bill


async def test_consumption_by_machine_names_the_machines_and_by_consumer_hides_names(
    app: Starlette, db: Database, venue: DemoVenue
) -> None:
    company = await company_of(db, venue)
    async with db.sessionmaker() as session:
        machine = await session.scalar(select(Machine).where(
            Machine.token == venue.machines[0].token))
        assert machine is not None
        name = machine.name
    consumer_id = 99999
    await roll_up(db, company,
                  Fact(venue.site_id, "2026-03-10T09", "brews", 9, 0, 0),
                  Fact(venue.site_id, "2026-03-10T09", "brews", 5, 0, 0, "machine", machine.id),
                  Fact(venue.site_id, "2026-03-10T09", "brews", 4, 0, 0, "consumer",
                       consumer_id))
    reporter = await member(db, company, "reporter", "lecteur@cafe-de-la-gare.fr")
    async with client_for(app) as client:
        await login(client, *ADMIN)
        page = await client.get(f"/backoffice/stats/consumption?{RANGE}&by=machine")
        assert page.status_code == 200 and name in page.text
        rows = _rows(await client.get(
            f"/backoffice/stats/consumption?{RANGE}&by=machine&format=csv"))
        assert rows[1] == [name, "5", "1.0"]
        sites = _rows(await client.get(f"/backoffice/stats/consumption?{RANGE}&by=site"
                                       "&format=csv"))
        assert sites[1][1:] == ["9", "1.0", "0.00", "0"]  # brews, share, revenue, tickets
    async with client_for(app) as client:
        await login(client, *reporter)
        rows = _rows(await client.get(
            f"/backoffice/stats/consumption?{RANGE}&by=consumer&format=csv"))
        assert rows[1][0].endswith(f"#{consumer_id}") and rows[1][1] == "4"


async def test_a_manager_of_one_site_sees_only_that_sites_figures(
    app: Starlette, db: Database, venue: DemoVenue
) -> None:
    company, kiosk = await _known(db, venue)
    manager = await member(db, company, "manager", "kiosque@cafe-de-la-gare.fr", [kiosk])
    async with client_for(app) as client:
        await login(client, *manager)
        rows = _rows(await client.get(f"/backoffice/stats?{RANGE}&format=csv"))
        assert [r[1] for r in rows[1:]] == ["0.00", "7.00", "0.00"]
        page = await client.get(f"/backoffice/stats?{RANGE}")
        assert "Café de la Gare" not in page.text.split('id="f-site"')[1].split("</select>")[0]
        other = await client.get(f"/backoffice/stats?{RANGE}&site={venue.site_id}")
        assert other.status_code == 404
        heat = _rows(await client.get(
            f"/backoffice/stats/hours?{RANGE}&measure=revenue&format=csv"))
        assert heat[2][1 + 9] == "7.00" and heat[3][1 + 12] == "0.00"


async def test_reporters_see_the_statistics_and_nothing_else(
    app: Starlette, db: Database, venue: DemoVenue
) -> None:
    company = await company_of(db, venue)
    reporter = await member(db, company, "reporter", "lecteur@cafe-de-la-gare.fr")
    async with client_for(app) as client:
        await login(client, *reporter)
        page = await client.get("/backoffice/stats")
        assert page.status_code == 200
        nav = page.text.split('class="bo-nav"')[1].split("</nav>")[0]
        # Their home (the day's figures), the statistics (loyalty's too), and their own PIN:
        # no other section.
        assert sorted(a.split('"')[1] for a in nav.split("href=")[1:]) == [
            "/backoffice", "/backoffice/dashboard", "/backoffice/loyalty", "/backoffice/pin",
            "/backoffice/stats"]
        assert (await client.get("/staff", follow_redirects=False)).headers[
            "location"] == "/backoffice/dashboard"
        for elsewhere in ("/staff/machines", "/backoffice/tables", "/backoffice/people"):
            assert (await client.get(elsewhere)).status_code == 403, elsewhere
    async with client_for(app) as client:
        await login(client, "caisse@cafe-de-la-gare.fr", "caisse-demo")
        assert (await client.get("/backoffice/stats")).status_code == 403


async def test_a_range_the_wrong_way_round_is_said_at_its_field(
    app: Starlette, db: Database, venue: DemoVenue
) -> None:
    async with client_for(app) as client:
        await login(client, *ADMIN)
        page = await client.get("/backoffice/stats?start=2026-03-11&end=2026-03-01")
        assert page.status_code == 422 and 'aria-invalid="true"' in page.text
        by_hour = await client.get(
            "/backoffice/stats?start=2026-01-01&end=2026-03-01&granularity=hour")
        assert by_hour.status_code == 422
        junk = await client.get("/backoffice/stats?granularity=decade&site=abc")
        assert junk.status_code == 422
