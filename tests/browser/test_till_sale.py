"""A counter sale on a till, as staff live it on a tablet (1024×768, touch): an
administrator pairs the till, the cashier switches in with their PIN, sells, is paid half by
card and half in cash with the change shown, and gets the receipt link; then a discount
above the limit is approved on the cashier's screen by a supervisor typing their PIN, and a
table's bill taken at the POS is paid through the same screen, settling the table. The
screen fits a 390 px phone and a tablet with every control at least 44 px.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from demo.seed import PINS
from tests.browser.conftest import ADMIN, Venue, fits, switch_in
from web.i18n import gettext

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
CASHIER_NAME = "Chloé Caisse"
SUPERVISOR_NAME = "Sacha Superviseur"
CASHIER_PIN = PINS["caisse@cafe-de-la-gare.fr"]
SUPERVISOR_PIN = PINS["superviseur@cafe-de-la-gare.fr"]


def _type_pin(scope: Page | object, pin: str) -> None:
    for digit in pin:
        scope.locator(f".pin-key[data-digit='{digit}']").click()  # type: ignore[attr-defined]


def test_a_counter_sale_split_between_card_and_cash_then_an_approved_discount(
    venue_server: Venue, staff: Callable[..., Page], paired_till: Callable[..., Page],
) -> None:
    # The administrator pairs the till (its code typed on the tablet); the cashier
    # switches in with her PIN.
    till = paired_till(CASHIER_NAME, CASHIER_PIN)
    till.locator("a.till-action[href='/till/sell']").click()
    till.wait_for_url(f"{venue_server.url}/till/sell")
    fits(till)

    # Two croissants and an espresso; the ticket survives a reload.
    products = venue_server.products
    croissant = till.locator(f".sell-tile[data-product='{products['Croissant']}']")
    coffee = till.locator(f".sell-tile[data-product='{products['Espresso']}']")
    croissant.click()
    croissant.click()
    coffee.click()
    line = till.locator(".sell-line").first
    expect(line.locator(".sell-qty-n")).to_have_text("2")
    total = 2 * int(croissant.get_attribute("data-price") or 0) + int(
        coffee.get_attribute("data-price") or 0)
    till.reload()
    expect(till.locator(".sell-line")).to_have_count(2)
    expect(till.locator("#sell-total")).to_have_text(re.compile(
        re.escape(f"{total // 100},{total % 100:02d}")))
    # Search finds the espressos, not the croissant.
    till.locator("#sell-search").fill("espr")
    expect(coffee).to_be_visible()
    expect(croissant).to_be_hidden()
    till.locator("#sell-search").fill("")

    # Half by card, the rest in cash with a 20 € note: the change shows in large type.
    till.locator("#sell-pay").click()
    payment = till.locator("#sell-payment")
    expect(payment).to_be_visible()
    fits(till)
    till.locator("#pay-half").click()
    till.locator("#pay-card").click()
    card = (total + 1) // 2
    cash = total - card
    expect(till.locator("#pay-due")).to_have_text(re.compile(
        re.escape(f"{cash // 100},{cash % 100:02d}")))
    till.locator("[data-note='2000']").click()
    expect(till.locator("#pay-confirm")).to_be_enabled()
    till.locator("#pay-confirm").click()
    change = 2000 - cash
    shown = till.locator("#done-change")
    expect(shown).to_be_visible()
    expect(shown).to_have_text(re.compile(re.escape(f"{change // 100},{change % 100:02d}")))
    receipt = till.locator("#done-receipt")
    expect(receipt).to_have_attribute("href", re.compile(r"^/till/tickets/\d+$"))
    expect(till.locator("#done-number")).to_contain_text("T1-000001")
    fits(till)
    till.locator("#done-dismiss").click()
    expect(shown).to_be_hidden()
    expect(receipt).to_be_visible()

    # A new sale: half off a croissant, above the 10 % limit: a reason, then a supervisor.
    till.locator("#done-new").click()
    expect(till.locator(".sell-line")).to_have_count(0)
    croissant.click()
    details = till.locator(".sell-line-more").first
    details.locator("summary").click()
    details.locator("[data-field=discount]").fill("50")
    details.locator("[data-field=discount]").press("Enter")
    details.locator("[data-field=discount]").blur()
    expect(till.locator("#sell-over")).to_be_visible()
    till.locator("#sell-reason").fill("Viennoiserie de la veille")
    till.locator("#sell-reason").blur()
    till.locator("#sell-pay").click()
    till.locator("#pay-card").click()
    till.locator("#pay-confirm").click()
    approval = till.locator("#sell-approval")
    expect(approval).to_be_visible()
    approval.locator("[data-approver]", has_text=SUPERVISOR_NAME).click()
    _type_pin(approval, "0000")
    approval.locator("button[type=submit]").click()
    error = till.locator("#approval-error")
    expect(error).to_be_visible()
    expect(error).to_have_text(gettext("fr", "Wrong PIN, or this person may not do this here."))
    _type_pin(approval, SUPERVISOR_PIN)
    approval.locator("button[type=submit]").click()
    expect(till.locator("#done-number")).to_contain_text("T1-000002")
    expect(approval).to_be_hidden()
    expect(till.locator("#done-change-box")).to_be_hidden()  # paid by card: no change

    # A table's bill, ordered at the POS, is paid through the same screen.
    table = venue_server.table_ids[4]
    admin = staff(ADMIN)
    taken = admin.request.post(
        f"{venue_server.url}/api/v1/staff/tables/{table}/rounds",
        data={"idempotency_key": "till-browser-table-5",
              "lines": [{"product_id": products["Croissant"], "quantity": 2}]})
    assert taken.status == 201, taken.text()
    till.locator("#done-new").click()
    till.reload()
    till.locator(f".sell-tables a[href='/till/sell?table={table}']").click()
    till.wait_for_url(f"{venue_server.url}/till/sell?table={table}")
    expect(till.locator(".sell-line")).to_have_count(1)
    till.locator("#sell-pay").click()
    till.locator("#pay-cash").click()
    till.locator("#pay-confirm").click()
    expect(till.locator("#done-number")).to_contain_text("T1-000003")
    admin.goto(venue_server.pos_url)
    expect(admin.locator(f".table-tile[data-table-id='{table}']")).to_have_attribute(
        "data-state", "settled")

    # On a phone the catalog and the ticket stack, and still fit.
    till.locator("#done-new").click()
    till.wait_for_url(f"{venue_server.url}/till/sell")
    till.set_viewport_size(PHONE)
    till.reload()
    fits(till)

    # The supervisor takes over the same till with her own PIN; the cashier is out.
    till.goto(f"{venue_server.url}/till")
    switch_in(till, SUPERVISOR_NAME, SUPERVISOR_PIN)
    expect(till.locator(".till-acting h1")).not_to_contain_text(CASHIER_NAME)
