"""Loyalty across the table and the till, as a customer lives it: Léa opens a table, creates
her customer account from it (a café needs no machine for that), signs in there and taps
"Collect my points"; her bill, paid at the till, earns its points when the table is
settled; at the counter the cashier finds her by e-mail, applies a reward to her ticket and
records the sale; her customer space then shows both, on a 390 px phone. A coupon's code
scanned at the till takes its reward off another ticket.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from accounts.models import Site
from db.engine import make_engine, make_sessionmaker
from demo.seed import PINS
from loyalty import setup
from loyalty.commands import AddReward, SetRules
from realtime.bus import make_bus
from realtime.events import Tx, run
from tests.browser.conftest import ADMIN, Template, Venue, fits
from web.commands import parse
from web.i18n import gettext

pytestmark = pytest.mark.browser

REWARD_COST = 2
REWARD_OFF = 150  # cents


def _loyalty_on(db_path: Path, site_id: int) -> str:
    """The demo company's programme on (a point per euro) with one reward, as its
    manager would set them (the back office's pages for it are to come), and a coupon for
    it: its code."""
    async def go() -> str:
        engine = make_engine(f"sqlite+aiosqlite:///{db_path}")
        bus = make_bus(None)

        async def op(tx: Tx) -> str:
            company = await tx.session.scalar(select(Site.company_id).where(Site.id == site_id))
            assert company is not None
            await setup.set_rules(tx, company, parse(SetRules, {"points_per_unit": 1}))
            reward = await setup.add_reward(tx, company, parse(AddReward, {
                "name": "1,50 € offerts", "cost_points": REWARD_COST,
                "effect": "amount_off", "amount": REWARD_OFF}))
            coupon = await setup.issue_coupon(tx, company, reward.id,
                                              datetime.now(UTC) + timedelta(days=30))
            return coupon.token

        try:
            return await run(make_sessionmaker(engine), bus, op)
        finally:
            await bus.close()
            await engine.dispose()

    with ThreadPoolExecutor(max_workers=1) as pool:  # not on the main thread's loop
        return pool.submit(asyncio.run, go()).result()


def _points(page: Page, url: str, expected: int) -> None:
    """The customer space shows `expected` points (the points come with the sale's sync and
    its event's delivery: reloaded until then)."""
    for _ in range(20):
        page.goto(f"{url}/account/loyalty")
        if page.locator("#loyalty-points").inner_text().strip() == str(expected):
            return
        page.wait_for_timeout(250)
    expect(page.locator("#loyalty-points")).to_have_text(str(expected))


def test_points_earned_at_a_table_are_redeemed_at_the_till_and_seen_by_the_customer(
    tmp_path: Path, venue_server: Venue, seeded_template: Template,
    phone: Callable[..., Page], staff: Callable[..., Page], paired_till: Callable[..., Page],
) -> None:
    coupon = _loyalty_on(tmp_path / "browser.db", venue_server.site_id)
    url = venue_server.url
    email, password = "lea@example.com", "croissants du matin"

    # At table 3, Léa opens the order; she has no customer account yet: she creates one
    # from the table (the venue asks her phone and birthday; the offers stay unticked), signs
    # in there and is back at the table.
    table = venue_server.table_ids[2]
    lea = phone(scale=2)
    lea.goto(venue_server.table_url(2))
    lea.locator("form[hx-post$='/start'] input[name=name]").fill("Léa")
    with lea.expect_navigation():
        lea.locator("form[hx-post$='/start'] button[type=submit]").click()
    table_page = lea.url
    with lea.expect_navigation():
        lea.locator("#table-sign-up").click()
    fits(lea)
    expect(lea.locator("input[name=email_consent]")).not_to_be_checked()
    lea.locator("input[name=name]").fill("Léa")
    lea.locator("input[name=email]").fill(email)
    lea.locator("input[name=password]").fill(password)
    lea.locator("input[name=phone]").fill("06 98 76 54 32")
    lea.locator("input[name=birthday]").fill("1992-03-04")
    with lea.expect_navigation(url=re.compile(r"/t/[^/]+/login\?signed_up=1$")):
        lea.locator("form button[type=submit]").click()
    lea.locator("input[name=email]").fill(email)
    lea.locator("input[name=password]").fill(password)
    with lea.expect_navigation(url=table_page):
        lea.locator("form button[type=submit]").click()
    collect = lea.locator("#collect-points-button")
    expect(collect).to_have_text(gettext("fr", "Collect my points"))
    fits(lea)
    with lea.expect_navigation():
        collect.click()
    expect(lea.locator("#collect-points")).to_contain_text(
        gettext("fr", "This table's points go to your customer account."))

    # Three croissants, taken at the POS; the bill is paid by card at the till.
    croissant = venue_server.products["Croissant"]
    admin = staff(ADMIN)
    taken = admin.request.post(f"{url}/api/v1/staff/tables/{table}/rounds", data={
        "idempotency_key": "loyalty-browser-table-3",
        "lines": [{"product_id": croissant, "quantity": 3}]})
    assert taken.status == 201, taken.text()
    till = paired_till("Chloé Caisse", PINS["caisse@cafe-de-la-gare.fr"])
    till.goto(f"{url}/till/sell?table={table}")
    expect(till.locator(".sell-line")).to_have_count(1)
    till.locator("#sell-pay").click()
    till.locator("#pay-card").click()
    till.locator("#pay-confirm").click()
    expect(till.locator("#done-number")).to_contain_text("T1-000001")

    # The table is settled: Léa earned a point per euro of it.
    till.goto(f"{url}/till/sell")
    price = int(till.locator(f".sell-tile[data-product='{croissant}']")
                .get_attribute("data-price") or 0)
    earned = 3 * price // 100
    assert earned >= REWARD_COST
    _points(lea, url, earned)

    # At the counter: a croissant; the cashier finds Léa by her e-mail and applies the
    # reward: its discount shows at once, and needs no supervisor.
    till.locator(f".sell-tile[data-product='{croissant}']").click()
    till.locator("#customer-q").fill(email.upper())
    till.locator("#customer-go").click()
    card = till.locator("#customer-card")
    expect(card).to_be_visible()
    expect(till.locator("#customer-points")).to_contain_text(str(earned))
    fits(till)
    till.locator("#customer-rewards [data-reward]").first.click()
    off = min(REWARD_OFF, price)
    expect(till.locator("#sell-discount-total")).to_have_text(re.compile(
        re.escape(f"{off // 100},{off % 100:02d}")))
    expect(till.locator("#customer-points")).to_contain_text(str(earned - REWARD_COST))
    till.locator("#sell-pay").click()
    if price > off:
        till.locator("#pay-card").click()
    till.locator("#pay-confirm").click()
    expect(till.locator("#done-number")).to_contain_text("T1-000002")
    expect(till.locator("#sell-approval")).to_be_hidden()

    # Her customer space shows the visit and the reward, and her code for the till.
    balance = earned - REWARD_COST + (price - off) // 100
    _points(lea, url, balance)
    history = lea.locator("#loyalty-history")
    expect(history).to_contain_text(gettext("fr", "Visit"))
    expect(history).to_contain_text(gettext("fr", "Reward taken"))
    expect(lea.locator(".loyalty-qr svg")).to_be_visible()
    fits(lea)
    lea.screenshot(path=str(tmp_path / "loyalty-space.png"), full_page=True)
    # A coupon's code, scanned into the same search, takes its reward off the next ticket.
    till.locator("#done-new").click()
    till.locator(f".sell-tile[data-product='{croissant}']").click()
    till.locator("#customer-q").fill(coupon)
    till.locator("#customer-go").click()
    expect(till.locator("#sell-discount-total")).to_have_text(re.compile(
        re.escape(f"{off // 100},{off % 100:02d}")))
    till.locator("#sell-pay").click()
    if price > off:
        till.locator("#pay-card").click()
    till.locator("#pay-confirm").click()
    expect(till.locator("#done-number")).to_contain_text("T1-000003")
    till.set_viewport_size({"width": 390, "height": 844})  # the till's panel on a phone
    till.locator("#done-new").click()
    till.locator(f".sell-tile[data-product='{croissant}']").click()
    till.locator("#customer-q").fill(email)
    till.locator("#customer-go").click()
    expect(card).to_be_visible()
    fits(till)
    till.locator("#sell-customer").screenshot(path=str(tmp_path / "till-customer.png"))
