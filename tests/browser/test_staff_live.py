"""Staff screens acting on a table, and the phones seeing it at once.

POS edits and refusals with their reasons, the production displays moving tickets, and
sold-out products leaving every open menu. Selectors are classes and data attributes;
text matched is data (names, products, reasons), never UI wording.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from tests.browser import actions
from tests.browser.conftest import CASHIER, KITCHEN, Venue

pytestmark = pytest.mark.browser

Phone = Callable[..., Page]
Staff = Callable[[tuple[str, str]], Page]


def status(name: str) -> re.Pattern[str]:
    return re.compile(rf"\bstatus-{name}\b")


def party(venue: Venue, phone: Phone, table: int) -> tuple[Page, Page]:
    """Léa opens the table, Tom joins with the PIN; both pages are live."""
    url = venue.table_url(table)
    lea, tom = phone(), phone()
    pin = actions.start(lea, url, "Léa")
    actions.join(tom, url, "Tom", pin)
    actions.wait_live(lea)
    return lea, tom


def test_pos_edit_and_refusal_reach_the_phones_with_their_reasons(
    venue_server: Venue, phone: Phone, staff: Staff
) -> None:
    products = venue_server.products
    pos = staff(CASHIER)
    actions.wait_live(pos)
    lea, tom = party(venue_server, phone, table=0)

    actions.add(lea, products["Croissant"], quantity=2)
    actions.add(tom, products["Cappuccino"])
    actions.send(tom)
    waiting = actions.pos_round(pos, "Table 1")
    expect(waiting).to_have_count(1)

    # Before production the cashier changes a quantity, with a reason for the diners.
    reason = "Il ne reste qu'un croissant"
    waiting.locator("details.edit summary").click()
    form = waiting.locator("details.edit form")
    form.locator("label:has(input[name^='qty-'])").filter(has_text="Croissant").locator(
        "input"
    ).fill("1")
    form.locator("input[name=reason]").fill(reason)
    form.locator("button[type=submit]").click()

    for page in (lea, tom):
        edited = actions.my_round(page, 1)
        expect(edited.locator(".reason")).to_contain_text(reason)
        expect(edited.locator(".lines")).to_contain_text("1 × Croissant")
        expect(edited.locator(".lines")).not_to_contain_text("2 × Croissant")
        expect(edited).to_have_class(status("to_validate"))  # still waiting, in its new form
        actions.wait_toasts(page, reason, 1)
    expect(waiting.locator(".lines")).to_contain_text("1 × Croissant")
    # The saved edit form starts afresh: no stale reason waiting to be sent twice.
    expect(form.locator("input[name=reason]")).to_have_value("")
    waiting.locator("button.validate").click()
    expect(actions.my_round(lea, 1)).to_have_class(status("validated"))

    # A second round is refused, with a reason.
    actions.add(lea, products["Salade niçoise"])
    actions.send(lea)
    expect(waiting).to_have_count(1)
    reason = "Plus de salade niçoise ce midi"
    waiting.locator("details.refuse summary").click()
    waiting.locator("details.refuse input[name=reason]").fill(reason)
    waiting.locator("details.refuse button[type=submit]").click()
    expect(waiting).to_have_count(0)
    for page in (lea, tom):
        refused = actions.my_round(page, 2)
        expect(refused).to_have_class(status("refused"))
        expect(refused.locator(".reason")).to_contain_text(reason)
        actions.wait_toasts(page, reason, 1)
        expect(actions.my_round(page, 1)).to_have_class(status("validated"))
    # Nothing refused is owed: the POS asks only for the first round (1 × 1.50 + 3.80).
    expect(actions.tile(pos, venue_server.table_ids[0]).locator(".due")).to_have_text(
        re.compile(r"5[.,]30")
    )


def test_production_displays_move_tickets_and_everyone_sees_the_status(
    venue_server: Venue, phone: Phone, staff: Staff
) -> None:
    products = venue_server.products
    pos = staff(CASHIER)
    kitchen = staff(KITCHEN)
    bar = kitchen.context.new_page()
    actions.open_page(bar, venue_server.station_url("bar"))
    for page in (pos, kitchen):
        actions.wait_live(page)
    lea, tom = party(venue_server, phone, table=1)

    actions.add(lea, products["Quiche lorraine"], note="bien chaude")
    actions.add(tom, products["Citronnade maison"])
    actions.send(lea)
    waiting = actions.pos_round(pos, "Table 2")
    round_id = waiting.get_attribute("data-round-id")
    waiting.locator("button.validate").click()

    # Each station gets its own part of the round.
    food = kitchen.locator(".ticket[data-table='Table 2']")
    drink = bar.locator(".ticket[data-table='Table 2']")
    expect(food).to_have_class(status("queued"))
    expect(food).to_contain_text("Quiche lorraine")
    expect(food).to_contain_text("bien chaude")
    expect(food).not_to_contain_text("Citronnade")
    expect(drink).to_contain_text("Citronnade maison")
    expect(drink).not_to_contain_text("Quiche")
    in_kitchen = pos.locator(f".production .round-line[data-round-id='{round_id}']")
    expect(in_kitchen).to_have_count(1)
    expect(in_kitchen.locator(".taken-by")).to_have_count(0)  # sent by a phone

    def everyone_sees(round_status: str) -> None:
        for page in (lea, tom):
            expect(actions.my_round(page, 1)).to_have_class(status(round_status))
        # The POS shows the same status label as the phones (whatever the language).
        label = lea.locator("#table-live .round[data-round='1'] .round-status").inner_text()
        expect(in_kitchen.locator(".badge")).to_have_text(label.strip())

    # A tap on the whole card moves it on (tests/browser/test_station_display.py).
    food.click()
    expect(food).to_have_class(status("in_preparation"))
    everyone_sees("in_production")

    food.click()
    expect(food).to_have_class(status("ready"))
    everyone_sees("in_production")  # the lemonade is not ready yet
    drink.click()
    expect(drink).to_have_class(status("in_preparation"))
    drink.click()
    everyone_sees("ready")

    food.click()  # served asks for a second tap
    expect(food).to_have_class(re.compile(r"\bconfirming\b"))
    food.click()
    expect(food).to_have_count(0)  # served tickets leave the display
    everyone_sees("ready")
    drink.click()
    expect(drink).to_have_class(re.compile(r"\bconfirming\b"))
    drink.click()
    expect(drink).to_have_count(0)
    for page in (lea, tom):
        expect(actions.my_round(page, 1)).to_have_class(status("served"))
    expect(in_kitchen).to_have_count(0)
    expect(actions.tile(pos, venue_server.table_ids[1])).to_have_attribute(
        "data-state", "to_settle"
    )


def test_sold_out_leaves_every_open_menu_and_comes_back(
    venue_server: Venue, phone: Phone, staff: Staff
) -> None:
    tatin, croissant = venue_server.products["Tarte Tatin"], venue_server.products["Croissant"]
    pos = staff(CASHIER)
    actions.wait_live(pos)
    lea, tom = party(venue_server, phone, table=2)
    stranger = actions.open_page(phone(), venue_server.table_url(5))  # another table
    phones = (lea, tom, stranger)
    for page in phones:
        expect(actions.product(page, tatin)).to_be_visible()

    # Tom has a tarte in the cart; Léa is halfway through a note on her croissant when the
    # menu changes (and with it the cart, whose tarte is marked).
    actions.add(tom, tatin)
    actions.add(lea, croissant)
    note = actions.own_line(lea, croissant).locator("details.line-note")
    note.locator("summary").click()
    note.locator("input[name=note]").fill("bien doré")

    pos.locator("details.menu-admin summary").click()
    item = pos.locator(f"#menu-live .product[data-product='{tatin}']")
    item.locator("button[type=submit]").click()
    expect(item).to_have_class(re.compile(r"\bsold-out\b"))  # staff still see it, marked
    for page in phones:
        expect(actions.product(page, tatin)).to_have_count(0)
        expect(actions.product(page, croissant)).to_be_visible()
    for page in (lea, tom):
        expect(page.locator("#cart .line.gone").filter(has_text="Tarte Tatin")).to_have_count(1)
    expect(note.locator("input[name=note]")).to_have_value("bien doré")

    item.locator("button[type=submit]").click()
    expect(item).not_to_have_class(re.compile(r"\bsold-out\b"))
    for page in phones:
        expect(actions.product(page, tatin)).to_be_visible()
    for page in (lea, tom):
        expect(page.locator("#cart .line.gone")).to_have_count(0)
    actions.add(tom, tatin)  # one more on the same line
    tom_tatin = actions.line_of(lea, actions.member_id(tom), "Tarte Tatin")
    expect(tom_tatin).to_have_count(1)
    actions.quantity_is(tom_tatin, 2)
