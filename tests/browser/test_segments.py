"""The segment editor on a 390 px phone: the count follows the form as a criterion is
added and changed (htmx, debounced), a bad day is refused at its field, the segment is
saved and listed with its count; nothing is wider than the screen, every control 44 px.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from accounts.models import Site
from customers.models import Consumer
from db.engine import make_engine, make_sessionmaker
from loyalty.models import LoyaltyProfile
from tests.browser.conftest import ADMIN, PHONE, Venue, fits

pytestmark = pytest.mark.browser


def _customers(db_path: Path, site_id: int) -> None:
    """Three customers in the programme, with no birthday; all take e-mail, one SMS."""
    async def go() -> None:
        engine = make_engine(f"sqlite+aiosqlite:///{db_path}")
        try:
            async with make_sessionmaker(engine)() as session, session.begin():
                company = await session.scalar(
                    select(Site.company_id).where(Site.id == site_id))
                assert company is not None
                for n in range(3):
                    consumer = Consumer(company_id=company, email=f"seg{n}@exemple.fr",
                                        name=f"Client {n}", password_hash="x", verified=True)
                    session.add(consumer)
                    await session.flush()
                    now = datetime.now(UTC)
                    session.add(LoyaltyProfile(
                        consumer_id=consumer.id, company_id=company,
                        qr_token=uuid.uuid4().hex, email_consent_at=now,
                        sms_consent_at=now if n == 0 else None))
        finally:
            await engine.dispose()

    with ThreadPoolExecutor(max_workers=1) as pool:  # not on the main thread's loop
        pool.submit(asyncio.run, go()).result()


def settled(page: Page) -> None:
    """The editor swapped in and htmx done with it: its triggers are bound once it settles
    (20 ms after the swap), and a person is never that quick."""
    page.wait_for_function(
        "() => !document.querySelector('.htmx-request, .htmx-settling, .htmx-added')")
    page.wait_for_timeout(150)


def test_a_manager_builds_a_segment_on_a_phone(
    tmp_path: Path, venue_server: Venue, staff: Callable[..., Page],
) -> None:
    _customers(tmp_path / "browser.db", venue_server.site_id)
    admin = staff(ADMIN, PHONE, touch=True)
    admin.goto(f"{venue_server.url}/backoffice/campaigns/segments/new")
    live = admin.locator("#segment-live .bo-count")
    everyone = live.get_attribute("data-count")
    assert everyone and int(everyone) >= 3  # every customer in the programme
    fits(admin)

    editor = admin.locator("#segment-editor")
    editor.locator("#f-new_kind").select_option("birthday_between")
    editor.get_by_role("button", name="Ajouter", exact=True).click()
    expect(editor.locator("#f-c0_start")).to_be_visible()
    settled(admin)
    # Nobody gave a birthday: nobody is born from 1 to 31 January.
    expect(admin.locator("#segment-live .bo-count")).to_have_attribute("data-count", "0")
    editor.locator("#f-c0_start").fill("02-30")
    expect(admin.locator("#segment-live [data-live-error]")).to_have_text(
        "Donnez un mois et un jour, comme 12-31 pour le 31 décembre.")
    expect(admin.locator("#segment-live .bo-count")).to_have_attribute("data-count", "")

    editor.locator("#f-c0_kind").select_option("consent")
    expect(editor.locator("#f-c0_channel")).to_be_visible()
    settled(admin)
    expect(admin.locator("#segment-live .bo-count")).to_have_attribute("data-count", everyone)
    editor.locator("#f-c0_channel").select_option("sms")
    expect(admin.locator("#segment-live .bo-count")).to_have_attribute("data-count", "1")
    fits(admin)

    editor.locator("#f-name").fill("Par SMS")
    editor.get_by_role("button", name="Enregistrer").click()
    expect(admin.locator(".bo-saved")).to_have_text("Segment enregistré.")
    admin.goto(f"{venue_server.url}/backoffice/campaigns/segments")
    row = admin.locator("tr[data-segment]").first
    expect(row).to_contain_text("Par SMS")
    expect(row.locator("td[data-count]")).to_have_attribute("data-count", "1")
    fits(admin)
