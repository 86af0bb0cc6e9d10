"""One back office: every page in the same layout, whose navigation shows only the
sections the role may use, says where you are, and keeps the checklist's progress in reach
until the launch."""

from __future__ import annotations

import re
from datetime import date, timedelta

from sqlalchemy import update
from starlette.applications import Starlette

from accounts.models import Company
from demo.seed import DemoVenue
from tests.backoffice.helpers import ADMIN, CASHIER, signed_in
from tests.conftest import Database, client_for

SUPERVISOR = ("superviseur@cafe-de-la-gare.fr", "super-demo")
KITCHEN = ("cuisine@cafe-de-la-gare.fr", "cuisine-demo")
SECTIONS = ["/backoffice/company", "/backoffice/tables", "/backoffice/menu", "/backoffice/staff",
            "/staff/machines/payments", "/staff/machines", "/backoffice/people",
            "/backoffice/records", "/staff", "/backoffice/audit"]


def sections(html: str) -> list[str]:
    nav = html.split('<nav class="bo-nav"', 1)[1].split("</ul>", 1)[0]
    return [href for href in re.findall(r'href="([^"]+)"', nav) if href in SECTIONS]


async def test_each_role_sees_the_sections_it_may_use(app: Starlette, venue: DemoVenue) -> None:
    expected = {
        ADMIN: SECTIONS,
        CASHIER: ["/staff/machines", "/staff"],
        SUPERVISOR: ["/staff/machines", "/backoffice/records", "/staff"],
        KITCHEN: ["/staff/machines", "/staff"],
    }
    for who, shown in expected.items():
        async with client_for(app) as client:
            await signed_in(client, who)
            page = await client.get("/staff/machines")
            assert page.status_code == 200, page.text
            assert sections(page.text) == shown, who


async def test_the_moved_pages_are_in_the_layout_and_say_where_you_are(
    app: Starlette, db: Database, venue: DemoVenue
) -> None:
    async with client_for(app) as client:
        await signed_in(client, ADMIN)
        for url, section in (("/staff/machines", "/staff/machines"),
                             ("/staff/selections", "/staff/machines"),
                             ("/staff/groups", "/staff/machines"),
                             ("/staff/machines/payments", "/staff/machines/payments"),
                             ("/account/outbox", "/staff/machines"),
                             ("/backoffice/company", "/backoffice/company"),
                             ("/backoffice/audit", "/backoffice/audit"),
                             ("/backoffice/records", "/backoffice/records")):
            page = await client.get(url)
            assert page.status_code == 200, (url, page.text[:300])
            assert 'class="bo-shell"' in page.text, url
            assert f'<a href="{section}" aria-current="page">' in page.text, url
            crumbs = page.text.split('class="bo-crumbs"', 1)[1].split("</nav>", 1)[0]
            assert 'href="/backoffice"' in crumbs and 'aria-current="page"' in crumbs, url
            assert '<link rel="stylesheet" href="/static/backoffice.css">' in page.text
            assert 'class="staff-nav"' not in page.text, url  # the old row of links is gone


async def test_every_member_reaches_their_own_pin_from_every_screen(
    app: Starlette, venue: DemoVenue
) -> None:
    """Whoever has had their PIN reset finds where to choose a new one: in the back
    office's navigation and on the POS, whatever their role."""
    for who, screens in ((ADMIN, ("/backoffice", f"/pos/{venue.site_id}")),
                         (CASHIER, ("/staff/machines", f"/pos/{venue.site_id}")),
                         (KITCHEN, ("/staff/machines", f"/pos/{venue.site_id}"))):
        async with client_for(app) as client:
            await signed_in(client, who)
            client.cookies.set("lang", "fr")
            for url in screens:
                page = await client.get(url)
                assert page.status_code == 200, (who, url)
                assert '<a href="/backoffice/pin"' in page.text, (who, url)
                assert "Mon code PIN" in page.text, (who, url)
            own = await client.get("/backoffice/pin")
            assert own.status_code == 200
            assert '<a href="/backoffice/pin" aria-current="page">' in own.text, who


async def test_the_progress_is_in_reach_until_launch_day(
    app: Starlette, db: Database, venue: DemoVenue
) -> None:
    async with client_for(app) as client:
        await signed_in(client, ADMIN)
        page = await client.get("/staff/machines")
        assert 'hx-get="/backoffice/progress"' in page.text
        progress = await client.get("/backoffice/progress")
        assert "data-progress=" in progress.text
        async with db.sessionmaker() as session, session.begin():  # launched two days ago
            await session.execute(update(Company).values(
                launch_on=date.today() - timedelta(days=2)))
        assert (await client.get("/backoffice/progress")).text == ""  # launched
        home = await client.get("/backoffice")
        assert "notice ok" in home.text
