"""A manager edits a drink's price in the selections editor; a phone already on that
machine's page sees the new price without reloading."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import Venue

pytestmark = pytest.mark.browser
ADMIN = ("admin@cafe-de-la-gare.fr", "admin-demo")
ESPRESSO = "select[name=type] option[value=espresso][selected]"


def test_price_edit_reaches_a_phone_live(
    venue_server: Venue, staff: Callable[[tuple[str, str]], Page], phone: Callable[[], Page]
) -> None:
    manager = staff(ADMIN)
    manager.goto(f"{venue_server.url}/staff/machines")
    card = manager.locator(".machine-card").first
    consumer_page = card.locator("a[href^='/m/']").first.get_attribute("href")
    assert consumer_page is not None
    # Each drink paid by card: anyone at the machine sees the prices.
    card.locator("h2 a").click()
    manager.select_option("form.set-mode select[name=mode]", "payment")
    with manager.expect_navigation():  # saved, then the page reloads
        manager.click("form.set-mode button[type=submit]")
    expect(manager.locator("form.set-mode select[name=mode]")).to_have_value("payment")

    diner = phone()
    diner.goto(f"{venue_server.url}{consumer_page}")
    diner.wait_for_function(
        """() => { const t = JSON.parse(document.body.dataset.topics || "[]");
                   return t.length > 0 && window.comptoir
                          && t.every((x) => x in window.comptoir.versions); }"""
    )
    espresso = diner.locator(".drink[data-type='espresso'] .price")
    assert "0,80" in espresso.inner_text()

    manager.locator("form.set-selection a[href^='/staff/selections/']").click()
    row = manager.locator(".drink-row").filter(has=manager.locator(ESPRESSO)).first
    row.locator("input[name=price]").fill("1,10")
    with manager.expect_response(lambda r: "/api/v1/staff/drinks/" in r.url) as saved:
        row.locator("button[type=submit]").click()
    assert saved.value.status == 200

    expect(espresso).to_contain_text("1,10")  # live, no reload
    assert diner.evaluate("performance.getEntriesByType('navigation').length") == 1

    # The save refreshes the list (data-refresh): once that is in, a refused price says why
    # beside the form and keeps what was typed (a slow refresh would otherwise swap the row
    # the refusal was written in).
    manager.wait_for_function("() => !document.querySelector('.htmx-request')")
    expect(row.locator("input[name=price]")).to_have_value("1,10")
    row.locator("input[name=price]").fill("abc")
    row.locator("button[type=submit]").click()
    expect(row.locator("output.error")).not_to_be_empty()
    expect(row.locator("input[name=price]")).to_have_value("abc")
    expect(espresso).to_contain_text("1,10")
