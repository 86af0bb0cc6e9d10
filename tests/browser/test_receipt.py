"""A cashier opens a sale's receipt on a phone-sized screen: the 80 mm receipt with its
total, nothing wider than the screen, nothing refused by the policy; Print asks the
browser to print, and the print media is 80 mm wide."""

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
from pos.records import Method, Origin, PaymentInput, Sale, record_sale
from pos.tills import NewTill, create_till
from pos.vat import INTERMEDIATE, Line
from realtime.bus import make_bus
from realtime.events import run
from tests.browser.conftest import CASHIER, PHONE, Venue

pytestmark = pytest.mark.browser


async def _sell(url: str, site_id: int) -> int:
    engine = make_engine(url)
    bus = make_bus(None)
    try:
        sessions = make_sessionmaker(engine)
        async with sessions() as session:
            cashier = await session.scalar(select(Staff).where(Staff.email == CASHIER[0]))
            assert cashier is not None
        till = await run(sessions, bus, lambda tx: create_till(tx, NewTill(
            cashier.company_id, site_id, "T9", "Comptoir", cashier.id)))
        sale = Sale(Origin(uuid.uuid4(), till.id, cashier.company_id, cashier.id),
                    [Line("Café", 2, 150, INTERMEDIATE)], [PaymentInput(Method.CASH, 300, 500)])
        recorded = await run(sessions, bus, lambda tx: record_sale(tx, sale))
        return recorded.ticket.id
    finally:
        await bus.close()
        await engine.dispose()


def _printed(page: Page, times: int) -> None:
    """The page asked the browser to print `times` times (polled from outside the page:
    its policy refuses the eval that wait_for_function would use)."""
    for _ in range(100):
        if page.evaluate("window.__printed") == times:
            return
        page.wait_for_timeout(100)
    assert page.evaluate("window.__printed") == times


def test_the_receipt_page_on_a_phone_and_on_paper(
    venue_server: Venue, tmp_path: Path, paired_till: Callable[..., Page],
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'browser.db'}"  # the served copy
    with ThreadPoolExecutor(max_workers=1) as pool:
        ticket = pool.submit(asyncio.run, _sell(url, venue_server.site_id)).result()
    # At a till (a phone paired through the pages), where receipts are printed.
    page = paired_till("Chloé Caisse", PINS[CASHIER[0]], viewport=PHONE)
    page.add_init_script("window.__printed = 0; window.print = () => { window.__printed++; };")
    page.goto(f"{venue_server.url}/till/tickets/{ticket}")
    receipt = page.locator("article.receipt")
    expect(receipt).to_contain_text("T9-000001")
    expect(page.locator(".receipt-total")).to_contain_text("3,00")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    button = page.locator("form[data-browser-print] button")
    box = button.bounding_box()
    assert box and box["height"] >= 44 and box["width"] >= 44
    button.click()
    _printed(page, 1)
    # Printed again from the page: a recorded duplicate, whose own page prints.
    button.click()
    page.wait_for_url(re.compile(r".*/till/tickets/\d+\?print=1"))
    expect(page.locator(".receipt-duplicate")).to_contain_text("DUPLICATA 1")
    _printed(page, 1)  # the duplicate's page prints once, as it loads
    expect(page.locator("article.receipt")).to_contain_text("T1-000001")  # this till numbers it
    button = page.locator("form[data-browser-print] button")
    page.emulate_media(media="print")
    expect(page.locator("header.bar")).to_be_hidden()
    expect(button).to_be_hidden()
    width = receipt.bounding_box()
    assert width and 265 <= width["width"] <= 275  # 72 mm printable at 96 px an inch
