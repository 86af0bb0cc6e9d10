"""A table seen from the phones around it and from the POS, all live at once.

Real server, real Chromium: each phone is its own browser context (its own device cookie).
Selectors are classes and data attributes, never UI text (translations change it); what is
matched as text is data: names, products, notes, amounts.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.browser import actions
from tests.browser.conftest import CASHIER, SCREENSHOTS, Venue

pytestmark = pytest.mark.browser

Phone = Callable[..., Page]
Staff = Callable[[tuple[str, str]], Page]


def amount(text: str) -> re.Pattern[str]:
    """An amount as any locale prints it: "5,10 €" or "€5.10"."""
    return re.compile(text.replace(".", "[.,]"))


def status(name: str) -> re.Pattern[str]:
    return re.compile(rf"\bstatus-{name}\b")


def test_simple_order_reaches_the_pos_and_validation_reaches_the_phone(
    venue_server: Venue, phone: Phone, staff: Staff
) -> None:
    pos = staff(CASHIER)
    actions.wait_live(pos)
    espresso, croissant = venue_server.products["Espresso"], venue_server.products["Croissant"]

    lea = phone()
    actions.open_page(lea, venue_server.table_url(0))
    # Before starting, the phone shows the menu but cannot order yet.
    expect(lea.locator("#menu-live .category").first).to_be_visible()
    expect(actions.product(lea, espresso).locator("button.add")).to_be_hidden()
    actions.start(lea, venue_server.table_url(0), "Léa")

    expect(lea.locator(".live-state")).to_have_attribute("data-can-order", "yes")
    expect(lea.locator("#cart .send")).to_be_disabled()  # nothing to send yet
    actions.add(lea, espresso, quantity=2, note="bien serré")
    actions.add(lea, croissant)
    lines = actions.cart_lines(lea)
    expect(lines).to_have_count(2)
    expect(lines.nth(0)).to_contain_text("Espresso")
    expect(lines.nth(0).locator(".qty")).to_contain_text("2")
    expect(lines.nth(0).locator(".note")).to_contain_text("bien serré")
    expect(lines.nth(1)).to_contain_text("Croissant")
    expect(lea.locator(".cart-total")).to_have_text(amount("5.10"))  # 2 × 1.80 + 1.50
    # One compact control per product: no quantity box, no note field on the menu.
    row = actions.product(lea, espresso)
    expect(row.locator("input:visible, textarea:visible, select:visible")).to_have_count(0)
    expect(row.locator("button:visible")).to_have_count(1)

    expect(actions.tile(pos, venue_server.table_ids[0])).to_have_attribute(
        "data-state", "ordering"
    )
    actions.send(lea)

    # The POS, open all along, shows the round waiting for validation.
    waiting = actions.pos_round(pos, "Table 1")
    expect(waiting).to_have_count(1)
    expect(waiting.locator(".lines li")).to_have_count(2)
    expect(waiting).to_contain_text("bien serré")
    expect(waiting.locator(".total")).to_have_text(amount("5.10"))
    expect(actions.tile(pos, venue_server.table_ids[0])).to_have_attribute(
        "data-state", "to_validate"
    )
    # The phone: cart emptied, round #1 sent and waiting.
    expect(actions.cart_lines(lea)).to_have_count(0)
    first = actions.my_round(lea, 1)
    expect(first).to_have_class(status("to_validate"))
    expect(first.locator(".lines li")).to_have_count(2)
    # The cashier is told who sent it; Léa, who sent it, gets no notice of her own act.
    actions.wait_toasts(pos, "Léa", 1)
    assert actions.toasts_shown(lea, "Léa") == []

    # For the README: the POS with a round waiting and the table map.
    pos.screenshot(path=str(_screenshot("pos.png")), full_page=True)

    waiting.locator("button.validate").click()
    expect(first).to_have_class(status("validated"))
    expect(waiting).to_have_count(0)
    expect(actions.tile(pos, venue_server.table_ids[0])).to_have_attribute(
        "data-state", "in_production"
    )


def test_coming_back_later_shows_sent_rounds_and_allows_another(
    venue_server: Venue, phone: Phone
) -> None:
    url = venue_server.table_url(1)
    espresso, tatin = venue_server.products["Espresso"], venue_server.products["Tarte Tatin"]
    lea = phone()
    pin = actions.start(lea, url, "Léa")
    actions.add(lea, espresso)
    actions.send(lea)
    expect(actions.my_round(lea, 1)).to_be_visible()

    # Later, the same phone (same cookie) opens the page again.
    actions.open_page(lea, url)
    expect(lea.locator(".pin-code")).to_have_text(pin)
    first = actions.my_round(lea, 1)
    expect(first).to_contain_text("Espresso")
    expect(first.locator("button, input, form")).to_have_count(0)  # sent: read-only
    expect(actions.cart_lines(lea)).to_have_count(0)

    actions.add(lea, tatin)
    expect(actions.cart_lines(lea)).to_have_count(1)
    actions.send(lea)
    expect(actions.my_round(lea, 2)).to_contain_text("Tarte Tatin")
    expect(first).to_contain_text("Espresso")

    # A friend joins with the PIN and sees what was already sent.
    tom = phone()
    actions.join(tom, url, "Tom", pin)
    expect(tom.locator("#table-live .round")).to_have_count(2)
    expect(actions.my_round(tom, 1)).to_contain_text("Espresso")
    expect(actions.my_round(tom, 2)).to_contain_text("Tarte Tatin")
    expect(tom.locator(".member")).to_have_count(2)


def test_group_order_is_shared_live_between_three_phones(
    venue_server: Venue, phone: Phone
) -> None:
    url = venue_server.table_url(2)
    cappuccino = venue_server.products["Cappuccino"]
    croque = venue_server.products["Croque-monsieur"]
    juice = venue_server.products["Jus d'orange pressé"]

    lea, tom, zoe = phone(scale=2), phone(), phone()
    pin = actions.start(lea, url, "Léa")
    actions.join(tom, url, "Tom", pin)
    actions.join(zoe, url, "Zoé", pin)
    for page in (lea, tom, zoe):
        actions.wait_live(page)
        expect(page.locator(".member")).to_have_count(3)
    ids = {name: actions.member_id(page) for name, page in
           (("Léa", lea), ("Tom", tom), ("Zoé", zoe))}
    assert len(set(ids.values())) == 3

    actions.add(lea, cappuccino, quantity=2)
    for page in (lea, tom, zoe):
        line = actions.line_of(page, ids["Léa"], "Cappuccino")
        expect(line).to_have_count(1)
        expect(line.locator(".by")).to_contain_text("Léa")
        expect(line.locator(".qty")).to_contain_text("2")
    # The others are told (added, then one more); the one who added is not (her page has
    # the change already).
    for page in (tom, zoe):
        expect(page.locator("#toasts .toast").filter(has_text="Cappuccino").first).to_be_visible()
        actions.wait_toasts(page, "Cappuccino", 2)
    assert actions.toasts_shown(lea, "Cappuccino") == []

    actions.add(tom, croque, note="sans salade")
    for page in (lea, tom, zoe):
        line = actions.line_of(page, ids["Tom"], "Croque-monsieur")
        expect(line.locator(".by")).to_contain_text("Tom")
        expect(line.locator(".note")).to_contain_text("sans salade")
        # Per-diner subtotals and the shared total.
        expect(subtotal(page, ids["Léa"])).to_have_text(amount("7.60"))
        expect(subtotal(page, ids["Tom"])).to_have_text(amount("9.50"))
        expect(page.locator(".cart-total")).to_have_text(amount("17.10"))
    for page in (lea, zoe):
        actions.wait_toasts(page, "Croque-monsieur", 1)
    assert actions.toasts_shown(tom, "Croque-monsieur") == []

    # Only one's own lines can be changed: Tom sees no buttons on Léa's line.
    expect(actions.line_of(tom, ids["Léa"], "Cappuccino").locator(".mine")).to_be_hidden()
    expect(actions.line_of(tom, ids["Tom"], "Croque-monsieur").locator(".mine")).to_be_visible()

    # For the README: Léa's phone, the shared cart of two diners at the top.
    lea.evaluate("window.scrollTo(0, 0)")
    lea.screenshot(path=str(_screenshot("phone.png")))

    actions.add(zoe, juice)
    expect(actions.cart_lines(lea)).to_have_count(3)
    # Zoé changes her mind: removed at once everywhere, with a notice to the others.
    with zoe.expect_response(lambda r: "/cart/lines/" in r.url and r.ok):
        actions.line_of(zoe, ids["Zoé"], "Jus d'orange").locator("button[hx-delete]").click()
    for page in (lea, tom, zoe):
        expect(actions.cart_lines(page)).to_have_count(2)
        expect(subtotal(page, ids["Zoé"])).to_have_count(0)
    for page in (lea, tom):
        actions.wait_toasts(page, "Jus d'orange", 2)  # added, then removed
    assert actions.toasts_shown(zoe, "Jus d'orange") == []

    # Léa takes one more cappuccino with her "+" button: everyone sees 3.
    with lea.expect_response(lambda r: "/cart/lines/" in r.url and r.ok):
        actions.line_of(lea, ids["Léa"], "Cappuccino").locator("button[data-step=up]").click()
    for page in (lea, tom, zoe):
        expect(actions.line_of(page, ids["Léa"], "Cappuccino").locator(".qty")).to_contain_text(
            "3"
        )
        expect(page.locator(".cart-total")).to_have_text(amount("20.90"))


def test_latecomer_reads_the_menu_and_joins_only_with_the_right_pin(
    venue_server: Venue, phone: Phone
) -> None:
    url = venue_server.table_url(3)
    espresso = venue_server.products["Espresso"]
    lea = phone()
    pin = actions.start(lea, url, "Léa")
    actions.add(lea, espresso)

    late = phone()
    actions.open_page(late, url)
    # Read-only: the menu and prices, no add buttons, no cart, no PIN, the PIN form.
    expect(actions.product(late, espresso).locator(".price")).to_be_visible()
    expect(late.locator("#menu-live button.add").first).to_be_hidden()
    expect(late.locator("#menu-live button.add:visible")).to_have_count(0)
    expect(late.locator("#cart")).to_have_count(0)
    expect(late.locator(".pin-code")).to_have_count(0)
    expect(late.locator(".join input[name=pin]")).to_be_visible()

    # The party's activity must not wipe what the latecomer is typing.
    late.locator(".join input[name=name]").fill("Max")
    late.locator(".join input[name=pin]").fill(wrong_pin(pin))
    actions.add(lea, venue_server.products["Croissant"])
    expect(actions.cart_lines(lea)).to_have_count(2)
    version = lea.locator(".live-state").get_attribute("data-version") or ""
    expect(late.locator(".live-state")).to_have_attribute("data-version", version)
    expect(late.locator(".join input[name=name]")).to_have_value("Max")

    with late.expect_response(lambda r: r.url.endswith("/join")) as answer:
        late.locator(".join button[type=submit]").click()
    assert answer.value.status == 403
    expect(late.locator("#toasts .toast.error")).to_have_count(1)
    expect(late.locator(".pin-code")).to_have_count(0)
    expect(late.locator("#menu-live button.add:visible")).to_have_count(0)

    late.locator(".join input[name=name]").fill("Max")
    late.locator(".join input[name=pin]").fill(pin)
    with late.expect_navigation():
        late.locator(".join button[type=submit]").click()
    actions.wait_live(late)
    expect(late.locator(".pin-code")).to_have_text(pin)
    expect(actions.cart_lines(late)).to_have_count(2)  # the party's cart, now shared
    expect(actions.product(late, espresso).locator("button.add")).to_be_visible()
    expect(lea.locator(".member")).to_have_count(2)


def test_new_party_waits_until_the_table_is_settled_and_freed(
    venue_server: Venue, phone: Phone, staff: Staff
) -> None:
    url = venue_server.table_url(4)
    table_id = venue_server.table_ids[4]
    espresso = venue_server.products["Espresso"]
    pos = staff(CASHIER)
    actions.wait_live(pos)

    lea = phone()
    old_pin = actions.start(lea, url, "Léa")
    actions.add(lea, espresso, quantity=2)
    actions.send(lea)
    actions.pos_round(pos, "Table 5").locator("button.validate").click()
    expect(actions.my_round(lea, 1)).to_have_class(status("validated"))
    actions.add(lea, espresso)  # an unsent line, in the cart when the party leaves

    newcomer = phone()
    actions.open_page(newcomer, url)
    expect(newcomer.locator(".live-state")).to_have_attribute("data-can-order", "no")
    expect(newcomer.locator("#menu-live button.add:visible")).to_have_count(0)
    expect(newcomer.locator(".start")).to_have_count(0)  # no fresh order on an open table

    # The cashier settles in cash, the amount due prefilled as a French cashier types it.
    place = actions.tile(pos, table_id)
    expect(place.locator(".due")).to_have_text(amount("3.60"))
    place.locator("details.settle summary").click()
    expect(place.locator("input[name=tendered]")).to_have_value("3,60")
    place.locator("select[name=method]").select_option("cash")
    place.locator("details.settle button[type=submit]").click()
    expect(place).to_have_attribute("data-state", "settled")
    expect(lea.locator(".live-state")).to_have_attribute("data-state", "settled")
    # Settled but not yet freed: still no new order.
    expect(newcomer.locator(".live-state")).to_have_attribute("data-state", "settled")
    expect(newcomer.locator(".start")).to_have_count(0)

    place.locator("button.free").click()
    expect(place).to_have_attribute("data-state", "free")
    # The old phone lost the cart and the PIN; the newcomer may start, live.
    expect(lea.locator(".pin-code")).to_have_count(0)
    expect(lea.locator("#cart")).to_have_count(0)
    expect(lea.locator("#table-live .round")).to_have_count(0)
    expect(newcomer.locator(".start")).to_be_visible()

    new_pin = actions.start(newcomer, url, "Nina")
    expect(actions.cart_lines(newcomer)).to_have_count(0)
    expect(newcomer.locator("#table-live .round")).to_have_count(0)
    expect(newcomer.locator(".member")).to_have_count(1)
    actions.add(newcomer, espresso)
    expect(actions.cart_lines(newcomer)).to_have_count(1)
    # The old phone, even reloaded, is a stranger to the new party.
    actions.open_page(lea, url)
    expect(lea.locator(".pin-code")).to_have_count(0)
    expect(lea.locator(".join")).to_be_visible()
    expect(lea.locator("#menu-live button.add:visible")).to_have_count(0)
    if new_pin != old_pin:  # the old PIN no longer opens the table
        actions.open_page(lea, url)
        lea.locator(".join input[name=name]").fill("Léa")
        lea.locator(".join input[name=pin]").fill(old_pin)
        with lea.expect_response(lambda r: r.url.endswith("/join")) as answer:
            lea.locator(".join button[type=submit]").click()
        assert answer.value.status == 403


def subtotal(page: Page, member: str) -> Locator:
    return page.locator(f"#cart .subtotals li[data-owner='{member}'] .amount")


def wrong_pin(pin: str) -> str:
    return ("1" if pin[0] != "1" else "2") + pin[1:]


def _screenshot(name: str) -> Path:
    """Where a screenshot goes: the README's own with `make screenshots`, else a scratch
    folder, so that running the tests leaves the checkout as it was."""
    folder = SCREENSHOTS if os.environ.get("COMPTOIR_SCREENSHOTS") else SCRATCH
    folder.mkdir(parents=True, exist_ok=True)
    return folder / name


SCRATCH = Path(tempfile.gettempdir()) / "comptoir-screenshots"
