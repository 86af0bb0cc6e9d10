"""A till's refund approved by a supervisor's PIN on the cashier's screen, then the X, then
the Z, on a phone-sized touch screen: each page fits 390 px and every control is a thumb
high (the rules of test_every_page.py, whose walk cannot reach a paired till's pages)."""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from accounts.models import Staff
from db.engine import make_engine, make_sessionmaker
from demo.seed import PINS
from pos.models import Till
from pos.records import Method, Origin, PaymentInput, Sale, record_sale
from pos.vat import INTERMEDIATE, Line
from realtime.bus import make_bus
from realtime.events import run
from tests.browser.conftest import CASHIER, PHONE, Venue, fits

pytestmark = pytest.mark.browser

SUPERVISOR = "superviseur@cafe-de-la-gare.fr"


async def _sell(url: str) -> None:
    """Two coffees sold at T1 by the cashier, in cash (the sale screen is another page's)."""
    engine = make_engine(url)
    bus = make_bus(None)
    try:
        async with make_sessionmaker(engine)() as session:
            till = await session.scalar(select(Till).where(Till.prefix == "T1"))
            cashier = await session.scalar(select(Staff.id).where(Staff.email == CASHIER[0]))
        assert till is not None and cashier is not None
        sale = Sale(Origin(uuid.uuid4(), till.id, till.company_id, cashier),
                    [Line("Café", 2, 150, INTERMEDIATE)], [PaymentInput(Method.CASH, 300)])
        await run(make_sessionmaker(engine), bus, lambda tx: record_sale(tx, sale))
    finally:
        await bus.close()
        await engine.dispose()


def _approve(page: Page, form: str) -> None:
    """The server asked for a supervisor: the approval appears; Sacha types their PIN."""
    approval = page.locator(f"{form} [data-approval]")
    expect(approval).to_be_visible()
    fits(page)
    approval.locator("select[name=approval_staff_id]").select_option(label="Sacha Superviseur")
    approval.locator("input[name=approval_pin]").fill(PINS[SUPERVISOR])
    page.locator(f"{form} button[type=submit]").last.click()


def test_a_refund_approved_by_pin_then_the_x_then_the_z(
    venue_server: Venue, tmp_path: Path, paired_till: Callable[..., Page],
) -> None:
    url = venue_server.url
    # The administrator pairs a phone as the till; the cashier switches in with her PIN.
    till = paired_till("Chloé Caisse", PINS[CASHIER[0]], viewport=PHONE)
    expect(till.locator("a.till-action[href='/till/tickets']")).to_be_visible()
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(asyncio.run, _sell(f"sqlite+aiosqlite:///{tmp_path / 'browser.db'}")
                    ).result()
    # Her tickets; the refund of one coffee, which a supervisor approves by PIN.
    till.locator("a.till-action[href='/till/tickets']").click()
    expect(till.locator(".till-ticket .number").first).to_have_text("T1-000001")
    fits(till)
    till.locator(".till-ticket a[href$='/refund']").first.click()
    refund = "form.till-refund"
    expect(till.locator(refund)).to_be_visible()
    fits(till)
    till.fill(f"{refund} input[name=qty-1]", "1")
    till.fill(f"{refund} input[name=reason]", "Café froid")
    till.locator(f"{refund} button[type=submit]").last.click()
    _approve(till, refund)
    till.wait_for_url(re.compile(r".*/till/tickets\?done=\d+"))
    expect(till.locator(".notice.ok")).to_contain_text("T1-000002")
    fits(till)
    # The X report, then the day's Z with the cash counted.
    till.goto(f"{url}/till")
    till.locator("a.till-action[href='/till/reports']").click()
    till.wait_for_url(f"{url}/till/reports")
    fits(till)
    x = "form[hx-post='/api/v1/till/reports/x']"
    till.locator(f"{x} button[type=submit]").last.click()
    _approve(till, x)
    expect(till.locator("#x-report-paper")).to_be_visible()
    expect(till.locator("#x-report-paper")).to_contain_text("1,50")
    fits(till)
    z = "form[hx-post='/api/v1/till/reports/z']"
    till.fill(f"{z} input[name=counted_cash]", "1,50")
    till.locator(f"{z} button[type=submit]").last.click()
    _approve(till, z)
    paper = till.locator("#z-report-paper")
    expect(paper).to_be_visible()
    expect(paper.locator(".report-signature")).to_be_visible()
    expect(paper).to_contain_text("T1-000002")
    fits(till)
