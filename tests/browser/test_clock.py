"""Clocking in on a phone-sized till, and the manager's hours on a 390 px phone: nothing
wider than the screen (the week's table scrolls inside its own box), touch targets of
44 px, and the clock-in said on screen."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import ADMIN, Venue
from tests.browser.test_every_page import OVERFLOW, PHONE, SMALL_CONTROLS

pytestmark = pytest.mark.browser


def _fits(page: Page) -> None:
    assert page.evaluate(OVERFLOW) <= 0, page.url
    assert page.evaluate(SMALL_CONTROLS) == [], page.url


def test_clocking_in_on_a_phone_then_the_manager_sees_it_in_the_week(
    staff: Callable[..., Page], paired_till: Callable[..., Page], venue_server: Venue
) -> None:
    device = paired_till("Chloé Caisse", "3003", viewport=PHONE)
    device.locator("a.till-action[href='/till/clock']").click()
    device.wait_for_url(f"{venue_server.url}/till/clock")
    till = device
    _fits(till)
    till.locator(".clock-button.in").click()
    expect(till.locator("#clock-feedback[data-feedback=in]")).to_be_visible()
    expect(till.locator(".clock-button.out")).to_be_visible()
    expect(till.locator("#present li")).to_have_count(1)
    _fits(till)

    manager = staff(ADMIN, viewport=PHONE, touch=True)
    manager.goto(f"{venue_server.url}/backoffice/hours")
    expect(manager.locator("#hours tbody tr")).to_have_count(1)
    expect(manager.locator(".hours-open > li")).to_have_count(1)
    _fits(manager)
    scroller = manager.locator(".hours-scroll")
    assert scroller.evaluate("e => e.scrollWidth > e.clientWidth")  # it scrolls, not the page
    manager.locator("a[rel=next]").click()
    expect(manager.locator(".bo-empty").first).to_be_visible()
    _fits(manager)
