"""Screens shaped by role (issue 14, item 4): the kitchen's POS has no Order, Validate,
Settle or Free button and no PINs, live as on load; a cashier sees no link to the QR codes
nor to any page they cannot open; a refused page is French, with a way back."""

from __future__ import annotations

import secrets
from collections.abc import Callable

import httpx
from playwright.sync_api import Page, expect

from tests.browser.actions import open_page
from tests.browser.conftest import ADMIN, CASHIER, KITCHEN, Venue

CASHIER_CONTROLS = (".take-order", ".pos-round .validate", ".pos-round details.refuse",
                    ".table-tile .pin")
# Shown for tables in some states only; never to the kitchen.
ALSO_HIDDEN = (".table-tile details.settle", ".table-tile .free", ".lift-pin-limit")


def _diners_send_a_round(venue: Venue, index: int, product: str) -> None:
    """A phone opens the table and sends a round (through the API, as its page does)."""
    token = venue.tokens[index]
    with httpx.Client(base_url=venue.url) as phone:
        assert phone.post(f"/api/v1/tables/{token}/start", json={"name": "Léa"}).is_success
        added = phone.post(f"/api/v1/tables/{token}/cart/lines", json={
            "client_id": secrets.token_hex(8), "product_id": venue.products[product],
            "quantity": 1})
        assert added.is_success, added.text
        sent = phone.post(f"/api/v1/tables/{token}/rounds",
                          json={"idempotency_key": secrets.token_hex(8)})
        assert sent.is_success, sent.text


def test_the_kitchen_sees_no_cashier_controls_nor_pins(
    staff: Callable[[tuple[str, str]], Page], venue_server: Venue
) -> None:
    _diners_send_a_round(venue_server, 0, "Espresso")
    till = open_page(staff(CASHIER), venue_server.pos_url)
    kitchen = open_page(staff(KITCHEN), venue_server.pos_url)
    # The cashier's POS has them all (so their absence below means something).
    for control in CASHIER_CONTROLS:
        expect(till.locator(control).first).to_be_visible()
    expect(kitchen.locator(".pos-round")).to_have_count(1)  # it sees the queue…
    for control in CASHIER_CONTROLS + ALSO_HIDDEN:  # …but none of what it may not do
        expect(kitchen.locator(control)).to_have_count(0)
    expect(kitchen.locator("a[href$='/qr']")).to_have_count(0)
    # Live: a new round reaches the kitchen's POS with no controls either.
    _diners_send_a_round(venue_server, 1, "Croissant")
    expect(kitchen.locator(".pos-round")).to_have_count(2)
    expect(till.locator(".pos-round .validate")).to_have_count(2)
    # The cashier validates the first: its table can now be settled, at the till only.
    till.locator(".pos-round .validate").first.click()
    expect(till.locator(".table-tile details.settle")).to_have_count(1)
    expect(kitchen.locator(".pos-round")).to_have_count(1)
    for control in CASHIER_CONTROLS + ALSO_HIDDEN:
        expect(kitchen.locator(control)).to_have_count(0)
    expect(kitchen.locator(".menu-admin")).to_have_count(1)  # sold out: the kitchen may


def test_a_cashier_sees_no_link_to_a_page_they_cannot_open(
    staff: Callable[[tuple[str, str]], Page], venue_server: Venue
) -> None:
    till = open_page(staff(CASHIER), venue_server.pos_url)
    expect(till.locator("a[href$='/qr']")).to_have_count(0)
    for start in (venue_server.pos_url, f"{venue_server.url}/backoffice",
                  f"{venue_server.url}/staff/machines"):
        till.goto(start)
        hrefs = till.eval_on_selector_all(
            "a[href^='/']", "links => links.map(link => link.getAttribute('href'))")
        assert hrefs, start
        for href in sorted(set(hrefs)):
            if href.startswith(("/staff/logout", "/lang/")):
                continue
            answer = till.request.get(venue_server.url + href, max_redirects=0)
            assert answer.status not in (403, 404), (start, href, answer.status)


def test_a_refused_page_is_french_with_a_way_back(
    staff: Callable[[tuple[str, str]], Page], venue_server: Venue
) -> None:
    till = open_page(staff(CASHIER), venue_server.pos_url)
    till.goto(f"{venue_server.pos_url}/qr")
    expect(till.locator(".error-message")).to_contain_text("Vous n'êtes pas autorisé")
    expect(till.locator("body")).not_to_contain_text("Forbidden")
    back = till.locator("a[data-back]")
    expect(back).to_have_text("Retour")
    box = back.bounding_box()
    assert box and box["height"] >= 44
    back.click()
    till.wait_for_url(venue_server.pos_url)


def test_payment_settings_and_mail_have_the_back_office_navigation(
    staff: Callable[[tuple[str, str]], Page], venue_server: Venue
) -> None:
    """Issue 14, item 10: no dead ends; from either page the rest of the back office is
    one click away."""
    admin = staff(ADMIN)
    for path, here in (("/staff/machines/payments", "/staff/machines/payments"),
                       ("/account/outbox", "/staff/machines")):
        admin.goto(venue_server.url + path)
        nav = admin.locator("nav.bo-nav")
        expect(nav).to_be_visible()
        expect(nav.locator(f"a[href='{here}']")).to_have_attribute("aria-current", "page")
        expect(nav.locator("a[href='/backoffice/tables']")).to_be_visible()
        expect(admin.locator("nav.bo-crumbs a[href='/backoffice']")).to_be_visible()
    admin.locator("nav.bo-nav a[href='/staff']").click()
    admin.wait_for_url(venue_server.pos_url)
