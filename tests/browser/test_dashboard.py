"""A manager's dashboard in a browser: a widget added, configured and moved survives a
reload; the dashboard and the statistics pages fit a phone, a tablet and a desk (nothing
wider than the screen, touch targets of 44 px), charts and all."""

from __future__ import annotations

import sqlite3
from collections import defaultdict
from collections.abc import Callable
from contextlib import closing
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import ADMIN, Venue
from tests.browser.test_backoffice import overflow, shot

pytestmark = pytest.mark.browser
WIDTHS = {"phone": 390, "tablet": 1024, "desk": 1280}


def small_targets(page: Page) -> list[str]:
    """Visible controls of the page (links in the navigation, tabs, buttons, widgets'
    actions) shorter or narrower than 44 px."""
    found: list[str] = page.evaluate("""() => [...document.querySelectorAll(
        '.bo-nav a, .bo-tabs a, .bo-main button, .bo-main a.button, .bo-main select,'
        + ' .bo-main input:not([type=checkbox])')]
        .filter((e) => e.offsetParent !== null)
        .filter((e) => { const r = e.getBoundingClientRect();
                         return r.height < 44 || r.width < 44; })
        .map((e) => e.textContent.trim() || e.name || e.outerHTML.slice(0, 60))""")
    return found


def _figures(db_path: Path, site_id: int) -> None:
    """Two weeks of sales and brews, busier at lunch and in the evening, rolled up as the
    rollups keep them (hour, day, month), written into the served database."""
    today = datetime.now(ZoneInfo("Europe/Paris")).date()
    sums: dict[tuple[str, str, str], list[int]] = defaultdict(lambda: [0, 0])
    for back in range(14):
        day = today - timedelta(days=back)
        for hour in range(7, 23):
            busy = 1 + (hour in (12, 13, 19, 20)) * 4 + (day.weekday() >= 5) * 2
            for measure, count, amount in (("sales", busy * 3, busy * 3 * 850),
                                           ("brews", busy * 2, busy * 2 * 120)):
                key = f"{day}T{hour:02d}"
                for grain, bucket in (("hour", key), ("day", key[:10]), ("month", key[:7])):
                    sums[grain, bucket, measure][0] += count
                    sums[grain, bucket, measure][1] += amount
    with closing(sqlite3.connect(db_path)) as db:
        company = db.execute("SELECT company_id FROM site WHERE id = ?", (site_id,)).fetchone()[0]
        db.executemany(
            "INSERT INTO stat_rollup (company_id, grain, bucket, site_id, measure, dim_kind,"
            " dim_id, count, quantity, amount, seconds) VALUES (?, ?, ?, ?, ?, '', 0, ?, 0, ?, 0)",
            [(company, grain, bucket, site_id, measure, count, amount)
             for (grain, bucket, measure), (count, amount) in sums.items()])
        db.commit()


def _add(page: Page, url: str, title: str, measure: str, chart: str) -> None:
    page.goto(f"{url}/backoffice/dashboard")
    page.locator("#add-widget").click()
    form = page.locator("#widget-form")
    form.locator("input[name=title]").fill(title)
    form.locator("select[name=measure]").select_option(measure)
    form.locator("select[name=chart]").select_option(chart)
    form.locator("button[type=submit]").click()
    page.wait_for_url(f"{url}/backoffice/dashboard*")
    expect(page.locator(".widget h2", has_text=title)).to_be_visible()


def test_a_widget_added_configured_and_moved_survives_a_reload(
    venue_server: Venue, staff: Callable[[tuple[str, str]], Page], tmp_path: Path
) -> None:
    _figures(tmp_path / "browser.db", venue_server.site_id)
    admin = staff(ADMIN)
    url = venue_server.url
    _add(admin, url, "Chiffre du jour", "revenue", "number")
    _add(admin, url, "Cafés", "brews", "bar")
    titles = admin.locator(".widget h2")
    expect(titles).to_have_text(["Chiffre du jour", "Cafés"])
    # A refused form says so next to its field and keeps what was typed.
    first = admin.locator(".widget").first
    first.get_by_role("link", name="Chiffre du jour").click()
    form = admin.locator("#widget-form")
    form.locator("select[name=period]").select_option("range")
    form.locator("button[type=submit]").click()
    expect(admin.locator("#e-range_start")).not_to_be_empty()
    form = admin.locator("#widget-form")
    form.locator("input[name=title]").fill("Semaine en cours")
    form.locator("select[name=period]").select_option("week")
    form.locator("select[name=chart]").select_option("line")
    form.locator("input[name=compare]").check()
    form.locator("button[type=submit]").click()
    admin.wait_for_url(f"{url}/backoffice/dashboard*")
    expect(titles).to_have_text(["Semaine en cours", "Cafés"])
    admin.locator(".widget").nth(1).locator("button.move-up").click()
    admin.wait_for_url(f"{url}/backoffice/dashboard?moved=*")
    expect(titles).to_have_text(["Cafés", "Semaine en cours"])
    admin.reload()
    expect(titles).to_have_text(["Cafés", "Semaine en cours"])
    moved = admin.locator(".widget").nth(1)
    expect(moved.locator("svg.chart-line")).to_have_count(1)
    expect(moved.locator(".chart-line.compare")).to_have_count(1)
    expect(admin.locator(".widget").first.locator("svg.chart-bar")).to_have_count(1)
    for name, width in WIDTHS.items():
        admin.set_viewport_size({"width": width, "height": 900})
        for path in ("/backoffice/dashboard", "/backoffice/dashboard/widgets/new",
                     "/backoffice/stats", "/backoffice/stats/hours",
                     "/backoffice/stats/consumption"):
            admin.goto(f"{url}{path}")
            assert overflow(admin) == 0, (path, name)
            assert small_targets(admin) == [], (path, name)
            slug = path.strip("/").replace("/", "-")
            admin.screenshot(path=shot(f"{slug}-{name}.png"), full_page=True)


def test_a_widget_of_today_moves_when_a_diner_sends_a_round(
    venue_server: Venue, staff: Callable[[tuple[str, str]], Page]
) -> None:
    """Orders today: 0, then a diner's round (its event rolled up, the `stats` topic
    bumped) shows 1 without a reload."""
    admin = staff(ADMIN)
    url = venue_server.url
    _add(admin, url, "Commandes", "orders", "number")
    number = admin.locator(".widget .widget-number")
    expect(number).to_have_text("0")
    expect(admin.locator("body[data-socket=open]")).to_have_count(1)
    token = venue_server.tokens[0]
    with httpx.Client(base_url=url) as diner:
        assert diner.post(f"/api/v1/tables/{token}/start", json={"name": "Léa"}).is_success
        product = next(iter(venue_server.products.values()))
        added = diner.post(f"/api/v1/tables/{token}/cart/lines", json={
            "client_id": "line-0001-abcd", "product_id": product, "quantity": 2})
        assert added.is_success, added.text
        sent = diner.post(f"/api/v1/tables/{token}/rounds",
                          json={"idempotency_key": "round-0001-abcd"})
        assert sent.is_success, sent.text
    expect(number).to_have_text("1")

