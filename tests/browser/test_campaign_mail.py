"""A campaign e-mail on a 390 px phone: with a segment made beforehand (its editor is
another page's), the manager composes an e-mail with a coupon block, sees it in the live
preview, test-sends it to themselves (it lands in the outbox as an HTML mail with its
sample coupon), schedules it in the venue's time zone and cancels it; each step said on
the page, nothing wider than the screen, every control at least 44 px.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from accounts.models import Site
from db.engine import make_engine, make_sessionmaker
from loyalty import setup
from loyalty.commands import AddReward, SetRules
from loyalty.models import Segment
from realtime.bus import make_bus
from realtime.events import Tx, run
from tests.browser.conftest import ADMIN, PHONE, Venue, fits
from web.commands import parse

pytestmark = pytest.mark.browser


def _prepare(db_path: Path, site_id: int) -> None:
    """The demo company's programme on, a reward to give, and a segment to send to."""
    async def go() -> None:
        engine = make_engine(f"sqlite+aiosqlite:///{db_path}")
        bus = make_bus(None)

        async def op(tx: Tx) -> None:
            company = await tx.session.scalar(select(Site.company_id).where(Site.id == site_id))
            assert company is not None
            await setup.set_rules(tx, company, parse(SetRules, {}))
            await setup.add_reward(tx, company, parse(AddReward, {
                "name": "Espresso offert", "cost_points": 10, "effect": "amount_off",
                "amount": 150}))
            tx.session.add(Segment(company_id=company, name="Habitués", definition={}))

        try:
            await run(make_sessionmaker(engine), bus, op)
        finally:
            await bus.close()
            await engine.dispose()

    with ThreadPoolExecutor(max_workers=1) as pool:  # not on the main thread's loop
        pool.submit(asyncio.run, go()).result()


def _outbox(db_path: Path, to: str) -> list[tuple[str, str, str]]:
    with closing(sqlite3.connect(db_path)) as db:
        return db.execute("SELECT subject, body, mime FROM outbox_mail WHERE \"to\" = ?",
                          (to,)).fetchall()


def test_a_manager_composes_tests_schedules_and_cancels_a_campaign_mail(
    tmp_path: Path, venue_server: Venue, staff: Callable[..., Page],
) -> None:
    db_path = tmp_path / "browser.db"
    _prepare(db_path, venue_server.site_id)
    admin = staff(ADMIN, PHONE, touch=True)
    admin.goto(f"{venue_server.url}/backoffice/campaigns")
    expect(admin.locator(".bo-empty")).to_be_visible()
    fits(admin)
    admin.locator("#new-campaign").click()

    form = admin.locator("#campaign-form")
    form.locator("#f-name").fill("Jeudi")
    form.locator("#f-segment_id").select_option(label="Habitués")
    form.locator("#f-reward_id").select_option(label="Espresso offert")
    form.locator("#f-subject").fill("Happy hour jeudi")
    form.locator("textarea[name='b1.text']").fill("Happy hour <jeudi>")
    form.locator("textarea[name='b2.text']").fill("Venez avec vos amis.")
    form.locator("#add-coupon").click()
    expect(admin.locator("[data-block=coupon]")).to_be_visible()
    expect(admin.locator("#f-name")).to_have_value("Jeudi")  # the form kept what was typed
    preview = admin.frame_locator("#campaign-preview iframe")
    expect(preview.locator(".coupon")).to_contain_text("Espresso offert")
    expect(preview.locator("h1")).to_have_text("Happy hour <jeudi>")  # shown, as text
    fits(admin)

    # The live preview follows the typing, before anything is saved.
    admin.locator("textarea[name='b2.text']").fill("Venez nombreux !")
    expect(preview.get_by_text("Venez nombreux !")).to_be_visible()

    admin.locator("#save-campaign").click()
    expect(admin.locator(".bo-saved")).to_have_text("Brouillon enregistré.")
    expect(admin.locator("#campaign-status")).to_have_attribute("data-status", "draft")
    fits(admin)

    admin.locator("#test-send").click()
    expect(admin.locator("#tested")).to_be_visible()
    [(subject, body, mime)] = _outbox(db_path, ADMIN[0])
    assert subject == "Happy hour jeudi"
    assert "Espresso offert" in body and "/unsubscribe/" in body
    assert "text/html" in mime and "Happy hour &lt;jeudi&gt;" in mime

    admin.locator("#f-send_at").fill("2099-06-01T18:30")
    admin.locator("#schedule").click()
    expect(admin.locator("#scheduled")).to_be_visible()
    expect(admin.locator("#campaign-status")).to_contain_text("Programmée pour le")
    fits(admin)

    admin.locator("#cancel-send").click()
    expect(admin.locator("#cancelled")).to_be_visible()
    expect(admin.locator("#campaign-status")).to_have_attribute("data-status", "cancelled")
    fits(admin)
    admin.goto(f"{venue_server.url}/backoffice/campaigns")
    expect(admin.locator("#campaigns tr[data-status=cancelled]")).to_have_count(1)
