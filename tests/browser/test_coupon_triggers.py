"""The coupons page on a 390 px phone: the manager adds "every 10 visits", sees a typed
mistake refused at its field, switches the trigger off and makes a copy, each said on the
page; nothing is wider than the screen and every control is at least 44 px.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from accounts.models import Site
from db.engine import make_engine, make_sessionmaker
from loyalty import setup
from loyalty.commands import AddReward, SetRules
from realtime.bus import make_bus
from realtime.events import Tx, run
from tests.browser.conftest import ADMIN, PHONE, Venue, fits
from web.commands import parse

pytestmark = pytest.mark.browser


def _reward(db_path: Path, site_id: int) -> None:
    """The demo company's programme on, with one reward to give."""
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

        try:
            await run(make_sessionmaker(engine), bus, op)
        finally:
            await bus.close()
            await engine.dispose()

    with ThreadPoolExecutor(max_workers=1) as pool:  # not on the main thread's loop
        pool.submit(asyncio.run, go()).result()


def test_a_manager_sets_a_trigger_up_on_a_phone(
    tmp_path: Path, venue_server: Venue, staff: Callable[..., Page],
) -> None:
    _reward(tmp_path / "browser.db", venue_server.site_id)
    admin = staff(ADMIN, PHONE, touch=True)
    admin.goto(f"{venue_server.url}/backoffice/loyalty/coupons")
    expect(admin.locator("#triggers .bo-empty")).to_be_visible()
    fits(admin)

    form = admin.locator("#trigger-form")
    form.locator("#f-every").fill("0")
    form.locator("#f-reward_id").select_option(label="Espresso offert")
    form.locator("button[type=submit]").click()
    expect(admin.locator("#e-every")).to_have_text("Indiquez un nombre entier, au moins 1.")
    fits(admin)

    form.locator("#f-every").fill("10")
    form.locator("button[type=submit]").click()
    expect(admin.locator(".bo-saved")).to_have_text("Déclencheur ajouté et activé.")
    row = admin.locator("#triggers tbody tr").first
    expect(row).to_contain_text("Tous les 10 passages : Espresso offert, valable 30 jours")
    fits(admin)

    row.get_by_role("button", name="Désactiver").click()
    expect(admin.locator(".bo-saved")).to_contain_text("Déclencheur désactivé")
    expect(admin.locator("#triggers tbody tr").first).to_contain_text("Inactif")
    admin.locator("#triggers tbody tr").first.get_by_role("button", name="Dupliquer").click()
    expect(admin.locator(".bo-saved")).to_contain_text("Copie faite")
    expect(admin.locator("#triggers tbody tr")).to_have_count(2)
    fits(admin)
