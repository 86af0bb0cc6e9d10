"""The main pages work under the strict Content-Security-Policy (web/headers.py): a phone
orders at a table, another joins, the POS and a station follow, a manager goes through the
machine pages and a phone opens a machine, and the browser refuses nothing. The policy is
really in force: inline code added to a page is refused.

Every browser test records violations (tests/browser/conftest.py); this one visits the pages
the journeys do not, and checks what moved out of the templates still works: a member's own
lines and name, the print buttons, a secret shown once.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.browser import actions
from tests.browser.conftest import ADMIN, CASHIER, Venue

pytestmark = pytest.mark.browser

Phone = Callable[..., Page]
Staff = Callable[[tuple[str, str]], Page]
NO_PRINT = "window.print = () => { window.__printed = (window.__printed || 0) + 1; };"


def _shot(page: Page, name: str) -> None:
    """Screenshots to look at (COMPTOIR_POLICY_SHOTS=dir): the pages after their styles moved."""
    where = os.environ.get("COMPTOIR_POLICY_SHOTS")
    if where:
        page.screenshot(path=str(Path(where) / f"{name}.png"), full_page=True)


def _after(page: Page, selector: str) -> str:
    text: str = page.locator(selector).first.evaluate(
        "(el) => getComputedStyle(el, '::after').content"
    )
    return text


def test_tables_pos_and_machines_run_with_nothing_refused(
    venue_server: Venue, phone: Phone, staff: Staff, csp_violations: list[dict[str, object]]
) -> None:
    espresso, croissant = venue_server.products["Espresso"], venue_server.products["Croissant"]
    pos = staff(CASHIER)
    actions.wait_live(pos)

    lea = phone(scale=2)
    pin = actions.start(lea, venue_server.table_url(0), "Léa")
    actions.add(lea, espresso, quantity=2, note="serré")
    tom = phone()
    actions.join(tom, venue_server.table_url(0), "Tom", pin)
    actions.add(tom, croissant)
    lea_id, tom_id = actions.member_id(lea), actions.member_id(tom)
    # Each phone marks its own lines (their buttons) and name, live, from the same HTML.
    expect(actions.line_of(lea, tom_id, "Croissant")).to_be_visible()
    expect(actions.line_of(lea, lea_id, "Espresso").locator(".mine")).to_be_visible()
    expect(actions.line_of(lea, tom_id, "Croissant").locator(".mine")).to_be_hidden()
    expect(actions.line_of(tom, tom_id, "Croissant").locator(".mine")).to_be_visible()
    assert _after(lea, f"#cart .line[data-owner='{lea_id}'] .who") == '" (vous)"'
    assert _after(lea, f"#cart .line[data-owner='{tom_id}'] .who") in ("none", "normal")
    _shot(lea, "table")

    station = pos.context.new_page()
    actions.open_page(station, venue_server.station_url("bar"))
    actions.send(lea)
    expect(actions.pos_round(pos, "Table 1")).to_have_count(1)
    _shot(pos, "pos")

    manager = staff(ADMIN)
    manager.add_init_script(NO_PRINT)
    for sheet in (f"/pos/{venue_server.site_id}/qr", "/staff/machines/qr"):
        manager.goto(venue_server.url + sheet)
        manager.locator("button[data-print]").click()
        assert manager.evaluate("window.__printed") == 1
    manager.goto(f"{venue_server.url}/staff/machines")
    card = manager.locator(".machine-card").first
    machine_url = card.locator("a[href^='/m/']").first.get_attribute("href")
    assert machine_url is not None
    manager.once("dialog", lambda dialog: dialog.accept())
    card.locator("form.show-secret button[type=submit]").click()
    expect(card.locator("form.show-secret output.secret")).not_to_be_empty()  # shown once
    _shot(manager, "staff-machines")
    for path in ("/staff/selections", "/staff/groups", "/staff/machines/payments"):
        manager.goto(venue_server.url + path)
        expect(manager.locator("main")).to_be_visible()
    manager.goto(f"{venue_server.url}/staff/machines")
    manager.locator(".machine-card h2 a").first.click()
    expect(manager.locator("form.set-mode")).to_be_visible()
    manager.locator("form.set-selection a[href^='/staff/selections/']").click()
    expect(manager.locator(".drink-row").first).to_be_visible()

    visitor = phone(scale=2)
    visitor.goto(venue_server.url + machine_url)
    actions.wait_live(visitor)
    expect(visitor.locator(".drink").first).to_be_visible()
    _shot(visitor, "machine")
    visitor.goto(f"{venue_server.url}{machine_url}/display")
    actions.wait_live(visitor)
    visitor.goto(f"{venue_server.url}{machine_url}/login")
    expect(visitor.locator("input[name=email]")).to_be_visible()
    _shot(visitor, "machine-login")
    visitor.goto(f"{venue_server.url}/t/no-such-table")
    _shot(visitor, "error")

    assert csp_violations == []
    # The policy is in force: what an injection would add is refused, and reported here.
    visitor.goto(venue_server.url + machine_url)
    visitor.evaluate("""() => {
      const style = document.createElement("style");
      style.textContent = "body { display: none; }";
      document.head.appendChild(style);
      const script = document.createElement("script");
      script.textContent = "window.__ran = true;";
      document.head.appendChild(script);
    }""")
    expect(visitor.locator("main")).to_be_visible()
    assert visitor.evaluate("window.__ran === undefined")
    visitor.wait_for_function("() => true")  # lets the reports reach the test
    refused = {str(v["directive"]) for v in csp_violations}
    assert {"style-src-elem", "script-src-elem"} <= refused, csp_violations
    csp_violations.clear()

