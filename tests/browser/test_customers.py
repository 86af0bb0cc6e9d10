"""The customers pages in a browser, on a tablet (1024×768) and a phone (390×844): a manager
adds a customer (a bad phone number first: its message under the field), adds a visit by
hand, reads the history, edits the customer and deletes them after the page that says what
is kept. No page is wider than the screen, and every control is at least 44 px high."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from tests.browser.conftest import ADMIN
from tests.browser.test_backoffice import overflow, shot
from tests.browser.test_people import SCREENS, _browser_at, server  # noqa: F401  (its fixture)
from tests.conftest import Server

pytestmark = pytest.mark.browser

_SMALL = """() => [...document.querySelectorAll(
    '.bo-main button, .bo-main a.button, .bo-list a, .bo-pager a, .bo-form-actions a, ' +
    '.bo-main select, .bo-main input:not([type=hidden]):not([type=checkbox]):not([type=radio]), ' +
    '.bo-confirm, .bo-choices label')]
    .filter((e) => e.offsetParent !== null && e.getBoundingClientRect().height < 44)
    .map((e) => e.outerHTML.slice(0, 80))"""


def _fits(page: Page, what: str, screen: str) -> None:
    assert overflow(page) == 0, (what, screen)
    assert page.evaluate(_SMALL) == [], (what, screen)
    page.screenshot(path=shot(f"customers-{what}-{screen}.png"), full_page=True)


@pytest.mark.parametrize("screen", list(SCREENS))
def test_add_a_customer_a_visit_by_hand_edit_and_delete(
    screen: str, server: tuple[Server, str], browser: Browser,  # noqa: F811
    contexts: list[BrowserContext], csp_violations: list[dict[str, object]],
) -> None:
    running, _ = server
    base = running.url
    admin = _browser_at(browser, contexts, csp_violations, SCREENS[screen])
    admin.goto(f"{base}/staff/login")
    admin.fill("input[name=email]", ADMIN[0])
    admin.fill("input[name=password]", ADMIN[1])
    admin.click("form button[type=submit]")
    admin.wait_for_url(f"{base}/pos/**")

    admin.goto(f"{base}/backoffice/customers")
    _fits(admin, "list", screen)
    admin.locator("a[href='/backoffice/customers/new']").click()
    admin.wait_for_url(f"{base}/backoffice/customers/new")
    admin.fill("input[name=name]", "Zoé Martin")
    admin.fill("input[name=email]", "zoe@exemple.fr")
    admin.fill("input[name=phone]", "12")
    admin.locator("main form button[type=submit]").click()
    expect(admin.locator("#e-phone")).not_to_be_empty()
    # Measured after the refusal's swap: a screenshot leaves an empty style attribute on
    # the fields, which htmx's settle would copy (a refusal of the page's policy).
    _fits(admin, "new", screen)
    admin.fill("input[name=phone]", "06 12 34 56 78")
    admin.locator("main form button[type=submit]").click()
    admin.wait_for_url(re.compile(r".*/backoffice/customers/\d+\?said=added"))
    expect(admin.locator(".notice.ok")).to_be_visible()

    admin.fill("input[name=points]", "12")
    admin.fill("input[name=spent]", "9,50")
    admin.fill("input[name=reason]", "Ticket oublié")
    admin.locator("#hand button[type=submit]").click()
    admin.wait_for_url(re.compile(r".*\?said=visit"))
    expect(admin.locator("#balance")).to_have_text("12")
    expect(admin.locator("tr.visit")).to_have_count(1)
    expect(admin.locator("tr.visit")).to_contain_text("Café de la Gare")  # the first site
    _fits(admin, "person", screen)

    admin.locator("a[href$='/edit']").click()
    admin.wait_for_url(re.compile(r".*/edit$"))
    admin.fill("input[name=name]", "Zoé Martin-Roy")
    admin.locator("main form button[type=submit]").click()
    admin.wait_for_url(re.compile(r".*\?said=saved"))
    expect(admin.locator(".bo-title")).to_contain_text("Zoé Martin-Roy")

    admin.locator("a.button.danger").click()
    admin.wait_for_url(re.compile(r".*/delete$"))
    _fits(admin, "delete", screen)
    admin.locator(".bo-confirm").click()
    admin.locator("main form button.danger").click()
    admin.wait_for_url(re.compile(r".*/backoffice/customers\?deleted=1"))
    expect(admin.locator("main")).not_to_contain_text("zoe@exemple.fr")
