"""Each member's own dashboard: widgets added, configured, moved, reordered and removed
through the service and the pages; another member's widget answers as missing; a widget
shows its figure for today, against yesterday, from the rollups."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from starlette.applications import Starlette

from accounts.service import StaffIdentity
from backoffice import widget_views, widgets
from backoffice.widgets import WidgetSettings
from demo.seed import DemoVenue
from errors import InvalidInput, NotFound
from realtime.bus import make_bus
from realtime.events import run
from tests.api.test_bad_input import login
from tests.backoffice.stat_rows import Fact, company_of, member, roll_up, second_site, staff_id
from tests.conftest import Database, client_for
from web.i18n import money

ADMIN = ("admin@cafe-de-la-gare.fr", "admin-demo")


def settings(**more: object) -> WidgetSettings:
    return WidgetSettings.model_validate({"title": "Ventes", "measure": "revenue", **more})


async def _act(db: Database, op):  # type: ignore[no-untyped-def]
    bus = make_bus(None)
    try:
        return await run(db.sessionmaker, bus, op)
    finally:
        await bus.close()


async def _me(db: Database, venue: DemoVenue, email: str = ADMIN[0],
              sites: frozenset[int] | None = None) -> StaffIdentity:
    return StaffIdentity(await staff_id(db, email), await company_of(db, venue), "manager",
                         "Moi", sites)


async def _titles(db: Database, me: StaffIdentity) -> list[str]:
    async with db.sessionmaker() as session:
        return [w.title for w in await widgets.widgets_of(session, me)]


async def test_widgets_are_added_last_moved_reordered_and_removed(
    db: Database, venue: DemoVenue
) -> None:
    me = await _me(db, venue)
    made = [await _act(db, lambda tx, t=t: widgets.add(tx, me, settings(title=t)))
            for t in ("A", "B", "C")]
    assert await _titles(db, me) == ["A", "B", "C"]
    await _act(db, lambda tx: widgets.move(tx, me, made[2].id, -1))
    assert await _titles(db, me) == ["A", "C", "B"]
    await _act(db, lambda tx: widgets.move(tx, me, made[0].id, -1))  # the first stays first
    assert await _titles(db, me) == ["A", "C", "B"]
    await _act(db, lambda tx: widgets.reorder(tx, me, [made[1].id, made[0].id, made[2].id]))
    assert await _titles(db, me) == ["B", "A", "C"]
    with pytest.raises(NotFound):
        await _act(db, lambda tx: widgets.reorder(tx, me, [made[1].id, made[0].id]))
    await _act(db, lambda tx: widgets.configure(tx, me, made[0].id, settings(
        title="Cafés", measure="brews", chart="line", period="week", values="both",
        compare=True)))
    async with db.sessionmaker() as session:
        stored = await widgets.widget_of(session, me, made[0].id)
        assert (stored.title, stored.measure, stored.chart, stored.period, stored.values,
                stored.compare) == ("Cafés", "brews", "line", "week", "both", True)
        assert widgets.settings_of(stored).title == "Cafés"
    await _act(db, lambda tx: widgets.remove(tx, me, made[1].id))
    assert await _titles(db, me) == ["Cafés", "C"]


async def test_another_members_widget_answers_as_missing(db: Database, venue: DemoVenue) -> None:
    me = await _me(db, venue)
    mine = await _act(db, lambda tx: widgets.add(tx, me, settings()))
    email, _ = await member(db, me.company_id, "manager", "autre@cafe-de-la-gare.fr")
    other = await _me(db, venue, email)
    for op in (lambda tx: widgets.remove(tx, other, mine.id),
               lambda tx: widgets.move(tx, other, mine.id, 1),
               lambda tx: widgets.configure(tx, other, mine.id, settings())):
        with pytest.raises(NotFound):
            await _act(db, op)
    assert await _titles(db, me) == ["Ventes"] and await _titles(db, other) == []


async def test_a_range_and_the_filters_are_checked_by_the_service(
    db: Database, venue: DemoVenue
) -> None:
    company = await company_of(db, venue)
    kiosk = await second_site(db, company)
    me = await _me(db, venue, sites=frozenset({kiosk}))
    for bad, field in ((settings(period="range"), "range_start"),
                       (settings(period="range", range_start="2026-03-10",
                                 range_end="2026-03-01"), "range_end"),
                       (settings(sites=[venue.site_id]), "sites")):
        with pytest.raises(InvalidInput) as refused:
            await _act(db, lambda tx, bad=bad: widgets.add(tx, me, bad))
        assert refused.value.field == field
    made = await _act(db, lambda tx: widgets.add(tx, me, settings(sites=[kiosk])))
    assert made.filters == {"sites": [kiosk], "machines": [], "categories": []}


def test_periods_and_their_previous_ones() -> None:
    from datetime import date

    day = date(2026, 3, 11)  # a Wednesday
    now, before = widget_views.spans("week", day)
    assert (now.start, now.end, before.start, before.end) == (
        date(2026, 3, 9), date(2026, 3, 15), date(2026, 3, 2), date(2026, 3, 8))
    now, before = widget_views.spans("month", day)
    assert (before.start, before.end) == (date(2026, 2, 1), date(2026, 2, 28))
    now, before = widget_views.spans("range", day, date(2026, 1, 1), date(2026, 1, 10))
    assert (before.start, before.end) == (date(2025, 12, 22), date(2025, 12, 31))
    assert widget_views.change(150, 100) == 0.5 and widget_views.change(5, 0) is None


async def test_the_dashboard_shows_todays_revenue_against_yesterdays_and_the_forms_work(
    app: Starlette, db: Database, venue: DemoVenue
) -> None:
    company = await company_of(db, venue)
    today = datetime.now(ZoneInfo("Europe/Paris"))
    yesterday = today - timedelta(days=1)
    await roll_up(db, company,
                  Fact(venue.site_id, today.strftime("%Y-%m-%dT%H"), "sales", 3, 4500),
                  Fact(venue.site_id, yesterday.strftime("%Y-%m-%dT%H"), "sales", 2, 3000))
    async with client_for(app) as client:
        csrf = await login(client, *ADMIN)
        headers = {"x-csrf-token": csrf, "hx-request": "true"}
        empty = await client.get("/backoffice/dashboard")
        assert empty.status_code == 200 and "bo-empty" in empty.text
        form = await client.get("/backoffice/dashboard/widgets/new")
        assert form.status_code == 200 and 'name="site-' in form.text
        wrong = await client.post("/backoffice/dashboard/widgets", headers=headers, data={
            "title": "", "measure": "nothing", "period": "range", "chart": "number"})
        assert wrong.status_code == 422
        assert 'id="e-title"' in wrong.text and 'aria-invalid="true"' in wrong.text
        added = await client.post("/backoffice/dashboard/widgets", headers=headers, data={
            "title": "Chiffre du jour", "subtitle": "Toutes les ventes", "measure": "revenue",
            "period": "today", "values": "both", "chart": "number", "compare": "on",
            f"site-{venue.site_id}": "on"})
        assert added.status_code == 200 and added.headers["hx-redirect"].startswith(
            "/backoffice/dashboard#widget-")
        page = await client.get("/backoffice/dashboard")
        assert "Chiffre du jour" in page.text and money(4500, "EUR", "fr") in page.text
        assert money(3000, "EUR", "fr") in page.text and "+50" in page.text
        assert "data-live" in page.text and 'hx-trigger="stats from:body"' in page.text
        widget_id = int(added.headers["hx-redirect"].rsplit("-", 1)[1])
        fragment = await client.get(f"/backoffice/dashboard/widgets/{widget_id}")
        assert fragment.status_code == 200 and fragment.text.lstrip().startswith("<section")
        edit = await client.get(f"/backoffice/dashboard/widgets/{widget_id}/edit")
        assert 'value="Chiffre du jour"' in edit.text and f'name="site-{venue.site_id}" ' \
            'value="on" checked' in edit.text
        line = await client.post(f"/backoffice/dashboard/widgets/{widget_id}", headers=headers,
                                 data={"title": "Semaine", "measure": "brews", "period": "week",
                                       "values": "absolute", "chart": "line"})
        assert line.status_code == 200, line.text
        assert 'class="chart chart-line"' in (await client.get("/backoffice/dashboard")).text
        removed = await client.post(f"/backoffice/dashboard/widgets/{widget_id}/remove",
                                    headers=headers, data={"confirm": "yes"})
        assert removed.status_code == 200
        assert "bo-empty" in (await client.get("/backoffice/dashboard")).text


@pytest.mark.parametrize("measure, chart, values", [
    ("brews_category", "bar", "percent"), ("brews_product", "number", "absolute"),
    ("orders", "bar", "both"), ("tickets", "line", "percent"), ("basket", "number", "percent"),
    ("turn_time", "number", "absolute"), ("topups", "line", "both")])
async def test_every_measure_is_shown_every_way(
    db: Database, venue: DemoVenue, measure: str, chart: str, values: str
) -> None:
    from backoffice.stat_filters import Venue

    me = await _me(db, venue)
    made = await _act(db, lambda tx: widgets.add(tx, me, settings(
        measure=measure, chart=chart, values=values, period="month", compare=True)))
    async with db.sessionmaker() as session:
        view = await widget_views.view_of(session, me, Venue("Europe/Paris", "EUR"), made, "en")
    assert view.live and (view.chart is not None or view.value is not None)




async def test_brews_by_category_name_the_drinks_types_as_the_machines_pages_do(
    db: Database, venue: DemoVenue
) -> None:
    from backoffice.facts import ptype_id
    from backoffice.stat_filters import Venue

    me = await _me(db, venue)
    hour = datetime.now(ZoneInfo("Europe/Paris")).strftime("%Y-%m-%dT%H")
    await roll_up(db, me.company_id,
                  Fact(venue.site_id, hour, "brews", 3, 0, 0, "ptype", ptype_id("espresso")),
                  Fact(venue.site_id, hour, "brews", 1, 0, 0, "ptype", ptype_id("lungo")))
    made = await _act(db, lambda tx: widgets.add(tx, me, settings(
        measure="brews_category", chart="bar", values="both")))
    async with db.sessionmaker() as session:
        view = await widget_views.view_of(session, me, Venue("Europe/Paris", "EUR"), made, "fr")
    assert view.chart is not None
    assert view.chart.rows == (("Expresso", "3 (75\xa0%)"), ("Café long", "1 (25\xa0%)"))


async def test_with_several_sites_a_category_says_which_site_it_is_of(
    db: Database, venue: DemoVenue
) -> None:
    from backoffice.stat_names import choices
    from ordering.models import Category

    company = await company_of(db, venue)
    async with db.sessionmaker() as session:
        alone = await choices(session, company, "category", None)
    assert alone and all(" · " not in name for _, name in alone)
    kiosk = await second_site(db, company)
    async with db.sessionmaker() as session, session.begin():
        session.add(Category(site_id=kiosk, name="Cafés", station="bar", position=0))
    async with db.sessionmaker() as session:
        named = dict(await choices(session, company, "category", None))
        theirs = dict(await choices(session, company, "category", frozenset({kiosk})))
    assert "Cafés · Le Kiosque" in named.values() and "Cafés · Café de la Gare" in (
        named.values())
    assert list(theirs.values()) == ["Cafés"]  # one site: no need to say which
