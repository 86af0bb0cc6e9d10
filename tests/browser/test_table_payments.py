"""Paying at the table with the test payment provider, seen from the phones and the POS.

"Order and pay": two phones share a cart, one pays and sends it, everyone sees the round.
"Pay only": staff take the order at the POS, a phone joins with the PIN and pays the bill.
Real server (PAYMENT_PROVIDER=test), real Chromium; selectors are classes and data
attributes, never UI text.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.browser import actions
from tests.browser.conftest import ADMIN, CASHIER, Venue

pytestmark = pytest.mark.browser

Phone = Callable[..., Page]
Staff = Callable[[tuple[str, str]], Page]


@pytest.fixture
def venue_env() -> dict[str, str]:
    return {"PAYMENT_PROVIDER": "test"}


def amount(text: str) -> re.Pattern[str]:
    """An amount as any locale prints it: "5,10 €" or "€5.10"."""
    return re.compile(text.replace(".", "[.,]"))


def status(name: str) -> re.Pattern[str]:
    return re.compile(rf"\bstatus-{name}\b")


def set_mode(venue: Venue, table_id: int, mode: str) -> None:
    """A manager's setting, made through the API before the story starts."""
    with httpx.Client(base_url=venue.url) as admin:
        signed_in = admin.post("/api/v1/staff/login", json={"email": ADMIN[0],
                                                            "password": ADMIN[1]})
        assert signed_in.status_code == 200, signed_in.text
        changed = admin.post(f"/api/v1/staff/tables/{table_id}/mode", json={"mode": mode})
        assert changed.status_code == 200, changed.text


def pay_on_test_provider(page: Page, table_url: str) -> None:
    """On the test provider's checkout page: pay, and come back to the table."""
    page.wait_for_url(re.compile(r"/pay/test/"))
    page.locator(".test-payment button[data-outcome=succeed]").click()
    page.wait_for_url(table_url)
    actions.wait_live(page)


def test_order_and_pay_two_phones_one_payer_everyone_sees_the_round(
    venue_server: Venue, phone: Phone, staff: Staff
) -> None:
    url, table_id = venue_server.table_url(0), venue_server.table_ids[0]
    espresso, croissant = venue_server.products["Espresso"], venue_server.products["Croissant"]
    set_mode(venue_server, table_id, "order_and_pay")
    pos = staff(CASHIER)
    actions.wait_live(pos)

    lea, tom = phone(), phone()
    pin = actions.start(lea, url, "Léa")
    actions.join(tom, url, "Tom", pin)
    actions.add(lea, espresso, quantity=2)
    actions.add(tom, croissant)
    for page in (lea, tom):
        expect(actions.cart_lines(page)).to_have_count(2)
        expect(page.locator(".cart-total")).to_have_text(amount("5.10"))
    expect(lea.locator("#cart form[hx-post$='/rounds']")).to_have_count(0)  # pay to send

    tom.locator("#cart button.pay-send").click()
    # While Tom is at the checkout, Léa sees the payment in progress and cannot pay twice.
    expect(lea.locator(".payment-pending")).to_be_visible()
    expect(lea.locator("#cart button.pay-send")).to_be_disabled()
    expect(actions.tile(pos, table_id).locator(".payment-pending")).to_be_visible()
    expect(actions.pos_round(pos, "Table 1")).to_have_count(0)  # not sent until paid
    pay_on_test_provider(tom, url)

    for page in (lea, tom):
        first = actions.my_round(page, 1)
        expect(first).to_have_class(status("to_validate"))
        expect(first.locator(".lines li")).to_have_count(2)
        expect(actions.cart_lines(page)).to_have_count(0)
        expect(page.locator(".payment-pending")).to_have_count(0)
        expect(page.locator(".bill .paid-amount")).to_have_text(amount("5.10"))
        expect(page.locator(".bill .due-amount")).to_have_text(amount("0.00"))
    waiting = actions.pos_round(pos, "Table 1")
    expect(waiting).to_have_count(1)
    expect(waiting.locator(".total")).to_have_text(amount("5.10"))
    expect(actions.tile(pos, table_id).locator(".paid")).to_contain_text(amount("5.10"))

    waiting.locator("button.validate").click()
    for page in (lea, tom):
        expect(actions.my_round(page, 1)).to_have_class(status("validated"))


def test_pay_only_staff_take_the_order_and_a_phone_pays_the_bill(
    venue_server: Venue, phone: Phone, staff: Staff
) -> None:
    url, table_id = venue_server.table_url(1), venue_server.table_ids[1]
    croque, espresso = venue_server.products["Croque-monsieur"], venue_server.products["Espresso"]
    set_mode(venue_server, table_id, "pay_only")
    pos = staff(CASHIER)
    actions.wait_live(pos)
    lea = phone()
    actions.open_page(lea, url)
    expect(lea.locator(".start")).to_have_count(0)  # phones do not open a pay-only table
    expect(lea.locator("#menu-live button.add:visible")).to_have_count(0)

    # The cashier takes the order from the table's tile.
    place = actions.tile(pos, table_id)
    place.locator("button.take-order").click()
    panel = pos.locator("#pos-order .pos-order")
    expect(panel).to_have_attribute("data-table-id", str(table_id))
    panel.locator(f".product[data-product='{croque}'] input.qty").fill("1")
    panel.locator(f".product[data-product='{croque}'] input.note").fill("sans salade")
    panel.locator(f".product[data-product='{espresso}'] input.qty").fill("2")
    with pos.expect_response(lambda r: r.url.endswith(f"/tables/{table_id}/rounds")) as sent:
        panel.locator("button[type=submit]").click()
    assert sent.value.status == 201
    expect(pos.locator("#pos-order .pos-order")).to_have_count(0)  # closed once sent
    expect(place).to_have_attribute("data-state", "in_production")
    expect(place.locator(".due")).to_have_text(amount("13.10"))  # 9.50 + 2 × 1.80
    taken = pos.locator(".production .round-line", has_text="Table 2")
    expect(taken.locator(".taken-by")).to_contain_text("Chloé Caisse")
    pin_text = place.locator(".pin").inner_text()
    pin = re.sub(r"\D", "", pin_text)

    # The phone, open all along, now offers to join; with the PIN it sees the bill.
    expect(lea.locator(".join")).to_be_visible()
    actions.join(lea, url, "Léa", pin)
    first = actions.my_round(lea, 1)
    expect(first).to_have_class(status("validated"))
    expect(first).to_contain_text("sans salade")
    expect(lea.locator(".bill .due-amount")).to_have_text(amount("13.10"))
    expect(lea.locator("#cart")).to_have_count(0)  # the phone pays; it does not order

    lea.locator(".bill button.pay-rest").click()
    expect(place.locator(".payment-pending")).to_be_visible()
    pay_on_test_provider(lea, url)
    expect(lea.locator(".live-state")).to_have_attribute("data-state", "settled")
    expect(lea.locator(".bill .due-amount")).to_have_text(amount("0.00"))
    expect(place).to_have_attribute("data-state", "settled")
    expect(place.locator("button.free")).to_be_visible()
    expect(place.locator("button.take-order")).to_have_count(0)
