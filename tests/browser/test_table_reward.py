"""A diner applies a loyalty reward to the table's bill from her phone (390 px, every
control of it at least 44 px): the bill shows the reward and the reduced due; she removes
it and gets her points back, applies it again, and the till pays the discounted bill. At the
counter, a reward the cashier removes from the ticket, or whose ticket is abandoned, goes
back to the customer at once.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from accounts.models import Site
from customers.models import Consumer
from db.engine import make_engine, make_sessionmaker
from demo.seed import PINS
from loyalty import ledger, setup
from loyalty.commands import AddReward, SetRules
from loyalty.ledger import Kind
from realtime.bus import make_bus
from realtime.events import Tx, run
from tests.browser.conftest import ADMIN, Template, Venue, fits
from web.commands import parse
from web.i18n import gettext

pytestmark = pytest.mark.browser


def _loyalty_on(db_path: Path, site_id: int, email: str) -> None:
    """The demo company's programme on, a reward of 2 € off for 10 points, and 25 points
    for the customer `email`."""
    async def go() -> None:
        engine = make_engine(f"sqlite+aiosqlite:///{db_path}")
        bus = make_bus(None)

        async def op(tx: Tx) -> None:
            company = await tx.session.scalar(select(Site.company_id).where(Site.id == site_id))
            customer = await tx.session.scalar(select(Consumer.id).where(Consumer.email == email))
            assert company is not None and customer is not None
            await setup.set_rules(tx, company, parse(SetRules, {"points_per_unit": 1}))
            await setup.add_reward(tx, company, parse(AddReward, {
                "name": "2 € offerts", "cost_points": 10, "effect": "amount_off",
                "amount": 200}))
            await ledger.post(tx, company, customer, 25, Kind.PROFILE, "browser:points")

        try:
            await run(make_sessionmaker(engine), bus, op)
        finally:
            await bus.close()
            await engine.dispose()

    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(asyncio.run, go()).result()


def test_a_diner_applies_a_reward_to_the_bill_removes_it_and_the_till_pays_the_rest(
    tmp_path: Path, venue_server: Venue, seeded_template: Template,
    phone: Callable[..., Page], staff: Callable[..., Page], paired_till: Callable[..., Page],
) -> None:
    url = venue_server.url
    machine = seeded_template.demo.machines[0].token
    email, password = seeded_template.demo.consumers[0]
    _loyalty_on(tmp_path / "browser.db", venue_server.site_id, email)

    lea = phone(scale=2)
    lea.goto(f"{url}/m/{machine}/login")
    lea.locator("input[name=email]").fill(email)
    lea.locator("input[name=password]").fill(password)
    with lea.expect_navigation(url=f"{url}/m/{machine}"):
        lea.locator("form button[type=submit]").click()
    table = venue_server.table_ids[3]
    lea.goto(venue_server.table_url(3))
    lea.locator("form[hx-post$='/start'] input[name=name]").fill("Léa")
    with lea.expect_navigation():
        lea.locator("form[hx-post$='/start'] button[type=submit]").click()
    with lea.expect_navigation():
        lea.locator("#collect-points-button").click()

    # Two croissants, taken at the POS; the phone's bill follows live.
    croissant = venue_server.products["Croissant"]
    admin = staff(ADMIN)
    taken = admin.request.post(f"{url}/api/v1/staff/tables/{table}/rounds", data={
        "idempotency_key": "reward-browser-table-4",
        "lines": [{"product_id": croissant, "quantity": 2}]})
    assert taken.status == 201, taken.text()
    lea.reload()
    apply = lea.locator("#table-rewards .apply-reward").first
    expect(apply).to_be_enabled()
    fits(lea)
    due = lea.locator("#table-live .due strong")
    before = due.inner_text()
    with lea.expect_navigation():
        apply.click()
    expect(lea.locator("#table-live .reward-line")).to_contain_text("2 € offerts")
    expect(due).not_to_have_text(before)
    expect(lea.locator("#reward-remove")).to_be_visible()
    fits(lea)
    lea.screenshot(path=str(tmp_path / "table-reward.png"), full_page=True)

    # Removed: the bill is whole again and the points are back; applied again.
    with lea.expect_navigation():
        lea.locator("#reward-remove").click()
    expect(lea.locator("#table-live .reward-line")).to_have_count(0)
    expect(due).to_have_text(before)
    expect(lea.locator("#table-rewards")).to_contain_text(
        gettext("fr", "Points: %(points)s") % {"points": 25})
    with lea.expect_navigation():
        lea.locator("#table-rewards .apply-reward").first.click()
    expect(lea.locator("#table-live .reward-line")).to_be_visible()

    # At the till, the table's bill carries the reward and is paid discounted.
    till = paired_till("Chloé Caisse", PINS["caisse@cafe-de-la-gare.fr"])
    till.goto(f"{url}/till/sell?table={table}")
    expect(till.locator(".sell-reward-applied")).to_contain_text("2 € offerts")
    expect(till.locator("#reward-remove")).to_have_count(0)  # the diner's to remove
    expect(till.locator("#sell-discount-total")).to_have_text(re.compile(r"2,00"))
    till.locator("#sell-pay").click()
    till.locator("#pay-card").click()
    till.locator("#pay-confirm").click()
    expect(till.locator("#done-number")).to_contain_text("T1-000001")
    lea.reload()
    expect(lea.locator("#table-live")).to_contain_text(
        gettext("fr", "The bill is settled. Thank you!"))

    # At the counter, a reward the cashier takes then removes, or whose ticket is
    # abandoned, goes back at once.
    till.locator("#done-new").click()
    expect(till.locator("#sell-clear")).to_be_visible()
    till.locator(f".sell-tile[data-product='{croissant}']").click()
    till.locator("#customer-q").fill(email)
    till.locator("#customer-go").click()
    points = till.locator("#customer-points")
    expect(points).to_be_visible()
    before_points = points.inner_text()
    till.locator("#customer-rewards [data-reward]").first.click()
    remove = till.locator("#reward-remove")
    expect(remove).to_be_visible()
    expect(points).not_to_have_text(before_points)
    fits(till)
    remove.click()
    expect(till.locator(".sell-reward-applied")).to_have_count(0)
    expect(points).to_have_text(before_points)
    expect(till.locator("#sell-discount-total")).to_have_text("—")
    till.locator("#customer-rewards [data-reward]").first.click()
    expect(remove).to_be_visible()
    till.locator("#sell-clear").click()
    expect(till.locator(".sell-line")).to_have_count(0)
    till.locator("#customer-q").fill(email)
    till.locator("#customer-go").click()
    expect(points).to_have_text(before_points)
