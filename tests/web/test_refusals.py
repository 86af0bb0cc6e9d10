"""A refusal is a page in the viewer's language with a way back, never Starlette's bare
English "Forbidden" or "Not Found"; a POS shows only what its viewer's role may do."""

from __future__ import annotations

import re
from html import unescape

import httpx
import pytest
from sqlalchemy import select
from starlette.applications import Starlette

from demo.seed import DemoVenue
from ordering.live import SiteTopic, pos_audience
from ordering.models import DiningTable
from realtime.topics import Viewer
from tests.api.test_bad_input import login
from tests.conftest import Database, client_for

CASHIER = ("caisse@cafe-de-la-gare.fr", "caisse-demo")
KITCHEN = ("cuisine@cafe-de-la-gare.fr", "cuisine-demo")

# Pages each role may not open ({site}, {table}: the demo's).
CASHIER_REFUSED = [
    "/pos/{site}/qr", "/staff/machines/payments", "/account/outbox",
    "/backoffice/tables", "/backoffice/staff", "/backoffice/audit", "/backoffice/records",
    "/backoffice/tables/sites/{site}/qr",
]
KITCHEN_REFUSED = [*CASHIER_REFUSED, "/pos/{site}/tables/{table}/order"]

WORDS = {
    "fr": ("Vous n'êtes pas autorisé", "Retour"),
    "en": ("You are not allowed", "Back"),
}


async def _ids(db: Database, venue: DemoVenue) -> dict[str, int]:
    async with db.sessionmaker() as session:
        table = await session.scalar(
            select(DiningTable.id).where(DiningTable.site_id == venue.site_id)
            .order_by(DiningTable.id))
    assert table is not None
    return {"site": venue.site_id, "table": table}


def _check_refusal(answer: httpx.Response, locale: str) -> str:
    """The refusal's page: 403, in `locale`, with a link back; the link's target."""
    assert answer.status_code == 403, (answer.url, answer.status_code)
    html = unescape(answer.text)
    refused, back = WORDS[locale]
    assert f'<html lang="{locale}">' in html
    assert refused in html, answer.url
    assert "Forbidden" not in html
    link = re.search(r'<a class="button back-link" href="([^"]+)" data-back>([^<]+)</a>', html)
    assert link, answer.url
    assert link.group(2).startswith(back)
    return link.group(1)


@pytest.mark.parametrize(("who", "refused"), [(CASHIER, CASHIER_REFUSED),
                                             (KITCHEN, KITCHEN_REFUSED)])
async def test_each_refused_page_is_translated_with_a_way_back(
    app: Starlette, db: Database, venue: DemoVenue, who: tuple[str, str], refused: list[str]
) -> None:
    ids = await _ids(db, venue)
    for locale in ("fr", "en"):
        async with client_for(app) as browser:
            browser.cookies.set("lang", locale)
            await login(browser, *who)
            for path in refused:
                url = path.format(**ids)
                back = _check_refusal(await browser.get(url), locale)
                assert back != url and back.startswith("/")
                # From one of our pages, the way back is that page.
                came_from = f"/pos/{ids['site']}"
                again = await browser.get(url, headers={"referer": f"http://testserver{came_from}"})
                assert _check_refusal(again, locale) == came_from
                # A Referer elsewhere is not followed.
                elsewhere = await browser.get(url, headers={"referer": "https://evil.example/x"})
                assert "evil.example" not in _check_refusal(elsewhere, locale)


async def test_starlettes_own_refusals_are_translated(app: Starlette) -> None:
    async with client_for(app) as browser:
        browser.cookies.set("lang", "fr")
        missing = await browser.get("/no/such/page")
        assert missing.status_code == 404
        assert "Introuvable." in missing.text and "Not Found" not in missing.text
        assert 'data-back' in missing.text
        wrong_method = await browser.request("DELETE", "/staff/login", json={})
        assert wrong_method.status_code == 405
        assert "Method Not Allowed" not in wrong_method.text
        assert '<html lang="fr">' in wrong_method.text
        api = await browser.get("/api/v1/no/such/thing")
        assert api.status_code == 404 and api.json()["error"]["message"] == "Introuvable."


async def test_a_refused_form_post_says_why_in_the_viewers_language(app: Starlette) -> None:
    async with client_for(app) as browser:
        browser.cookies.set("lang", "fr")
        refused = await browser.post("/api/v1/staff/logout", data={"x": "1"})
        assert refused.status_code == 403
        assert "rechargez la page" in refused.json()["error"]["message"]
        assert "Missing or wrong" not in refused.json()["error"]["message"]


def test_the_pos_is_cut_by_role() -> None:
    assert pos_audience(Viewer(role="cashier")) == "full"
    assert pos_audience(Viewer(role="admin")) == "full"
    assert pos_audience(Viewer(role="kitchen")) == "only:"
    topic = SiteTopic(config=None)  # type: ignore[arg-type]
    view = {"tables": [{"id": 1, "pin": "123456"}], "site_id": 1}
    kitchen = topic.audience(view, Viewer(role="kitchen", company_id=1, staff_id=1))
    assert topic.present(view, kitchen)["tables"][0]["pin"] is None
    cashier = topic.audience(view, Viewer(role="cashier", company_id=1, staff_id=2))
    assert topic.present(view, cashier)["tables"][0]["pin"] == "123456"
    assert topic.audience({"station": "bar"}, Viewer(role="kitchen")) == "full"


async def test_the_kitchens_pos_page_has_no_cashier_controls(
    app: Starlette, db: Database, venue: DemoVenue
) -> None:
    async with client_for(app) as kitchen, client_for(app) as till:
        await login(kitchen, *KITCHEN)
        await login(till, *CASHIER)
        # An open table, so that there is a PIN to show (or not).
        token = venue.table_tokens[0][1]
        async with client_for(app) as lea:
            started = await lea.post(f"/api/v1/tables/{token}/start", json={"name": "Léa"})
            assert started.is_success, started.text
        seen = (await kitchen.get(f"/pos/{venue.site_id}")).text
        shown = (await till.get(f"/pos/{venue.site_id}")).text
    for control in ('class="small take-order"', 'class="pin"', f'/pos/{venue.site_id}/qr"'):
        assert control not in seen
    assert 'class="small take-order"' in shown and 'class="pin"' in shown
    assert f'/pos/{venue.site_id}/qr"' not in shown  # a cashier does not print QR codes

