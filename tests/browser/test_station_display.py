"""Kitchen and bar displays as the people at the pass use them: read from two metres on a
wide screen and a tablet, each ticket's waiting time turning amber then red after the site's
thresholds, a ticket moved on by a tap (with an undo, and a second tap for "served"), a
chime on a new ticket when the sound is on, and a way back to the POS or out.

Tickets are made through the staff API (the POS's own order route), so these tests do not
depend on the POS page; selectors are classes and data attributes, never UI wording.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from tests.browser import actions
from tests.browser.conftest import (
    ADMIN,
    CASHIER,
    KITCHEN,
    TABLET,
    TIMEOUT_MS,
    TOAST_LOG,
    Venue,
    watch_policy,
)
from tests.browser.test_backoffice import overflow, shot

pytestmark = pytest.mark.browser

WIDE = {"width": 1920, "height": 1080}
LAPTOP = {"width": 1280, "height": 800}
FOOD = ["Quiche lorraine", "Croque-monsieur", "Salade niçoise", "Soupe du jour",
        "Omelette aux fines herbes", "Tarte Tatin"]

Display = Callable[..., Page]


@pytest.fixture
def display(
    browser: Browser, contexts: list[BrowserContext], venue_server: Venue,
    csp_violations: list[dict[str, object]],
) -> Display:
    """A station's screen signed in as `account`, at `viewport`, touch or not; `clock`
    installs Playwright's clock first, so a test moves time instead of waiting."""

    def open_display(account: tuple[str, str], viewport: dict[str, int], station: str = "kitchen",
                     touch: bool = False, clock: bool = False) -> Page:
        context = browser.new_context(viewport=viewport, locale="fr-FR", has_touch=touch)
        context.add_init_script(TOAST_LOG)
        watch_policy(context, csp_violations)
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        page = context.new_page()
        if clock:
            page.clock.install(time=datetime.now(UTC))
        page.goto(f"{venue_server.url}/staff/login")
        page.fill("input[name=email]", account[0])
        page.fill("input[name=password]", account[1])
        page.click("form button[type=submit]")
        page.wait_for_url(re.compile(r".*/(pos|backoffice)\b.*"))
        return actions.open_page(page, venue_server.station_url(station))

    return open_display


@pytest.fixture
def till(display: Display) -> Iterator[Page]:
    """The cashier's browser, which takes orders for tables (they go straight to the
    stations)."""
    yield display(CASHIER, LAPTOP, station="bar")


def order(till: Page, venue: Venue, table: int, *products: str) -> None:
    csrf = till.evaluate("JSON.parse(document.body.getAttribute('hx-headers'))['X-CSRF-Token']")
    answer = till.request.post(
        f"{venue.url}/api/v1/staff/tables/{venue.table_ids[table]}/rounds",
        data={"idempotency_key": uuid.uuid4().hex,
              "lines": [{"product_id": venue.products[p], "quantity": 1} for p in products]},
        headers={"X-CSRF-Token": csrf},
    )
    assert answer.status == 201, answer.text()


def px(page: Page, selector: str, prop: str = "font-size") -> float:
    value = page.locator(selector).first.evaluate(
        f"(e) => getComputedStyle(e).getPropertyValue('{prop}')")
    return float(str(value).removesuffix("px"))


def first_row(page: Page) -> list[dict[str, float]]:
    boxes: list[dict[str, float]] = page.evaluate("""() => {
        const cards = [...document.querySelectorAll('#station-live .ticket')]
          .map((c) => c.getBoundingClientRect());
        return cards.filter((r) => Math.abs(r.top - cards[0].top) < 1)
          .map((r) => ({left: r.left, right: r.right, width: r.width}));
    }""")
    return boxes


@pytest.mark.parametrize("viewport, columns", [(WIDE, 4), (LAPTOP, 3), (TABLET, 2)],
                         ids=["1920x1080", "1280x800", "1024x768"])
def test_tickets_are_large_fill_the_screen_and_come_oldest_first(
    venue_server: Venue, display: Display, till: Page, viewport: dict[str, int], columns: int
) -> None:
    kitchen = display(CASHIER, viewport)
    tables = [3, 1, 4, 0, 2, 5]  # ordered in this order: the display keeps it
    for table, product in zip(tables, FOOD, strict=True):
        order(till, venue_server, table, product)
    cards = kitchen.locator("#station-live .ticket")
    expect(cards).to_have_count(len(tables))
    assert cards.evaluate_all("(cs) => cs.map((c) => c.dataset.table)") == [
        f"Table {t + 1}" for t in tables]

    line = px(kitchen, ".ticket-lines li")
    assert line >= 28, line
    assert px(kitchen, ".ticket-table") > line
    assert px(kitchen, ".ticket-wait") >= 28
    # A full first row: as many cards as fit, edge to edge of the display's area.
    row = first_row(kitchen)
    area = kitchen.locator("#station-live .tickets").bounding_box()
    assert area is not None
    assert len(row) == columns, row
    assert abs(row[0]["left"] - area["x"]) < 1
    assert abs(row[-1]["right"] - (area["x"] + area["width"])) < 1
    assert min(r["width"] for r in row) > 0.9 * max(r["width"] for r in row)
    assert area["width"] > 0.95 * viewport["width"] - 40  # not a narrow column in the middle
    assert overflow(kitchen) == 0
    # The whole card is the button; the header's controls are thumb-sized.
    heights = cards.evaluate_all("(cs) => cs.map((c) => c.getBoundingClientRect().height)")
    assert min(heights) >= 44, heights
    for control in kitchen.locator(".station-tools button, .station-tools a").all():
        box = control.bounding_box()
        assert box is not None and box["height"] >= 44 and box["width"] >= 44
    kitchen.screenshot(path=shot(f"station-{viewport['width']}x{viewport['height']}.png"))


def test_the_header_names_the_place_and_leads_back_only_where_the_viewer_may_go(
    venue_server: Venue, display: Display
) -> None:
    cashier = display(CASHIER, TABLET)
    expect(cashier.locator(".station-site")).to_have_text("Café de la Gare")
    expect(cashier.locator(".station-name")).not_to_be_empty()
    back = cashier.locator("[data-back-to-pos]")
    expect(back).to_have_attribute("href", f"/pos/{venue_server.site_id}")
    kitchen = display(KITCHEN, TABLET)
    expect(kitchen.locator("[data-back-to-pos]")).to_have_count(0)  # the POS is not for them
    kitchen.locator(".station-tools .sign-out").click()
    kitchen.wait_for_url(re.compile(r".*/staff/login$"))
    kitchen.goto(venue_server.station_url("kitchen"))
    kitchen.wait_for_url(re.compile(r".*/staff/login$"))  # signed out indeed
    cashier.set_viewport_size({"width": 390, "height": 844})  # on a phone it still fits
    assert overflow(cashier) == 0
    back.click()
    cashier.wait_for_url(f"{venue_server.url}/pos/{venue_server.site_id}")


def test_waiting_time_turns_amber_then_red_after_the_sites_thresholds(
    venue_server: Venue, display: Display, till: Page
) -> None:
    admin = display(ADMIN, LAPTOP)
    admin.goto(f"{venue_server.url}/backoffice/sites/{venue_server.site_id}")
    form = admin.locator("#site-form")
    form.locator("input[name=ticket_amber_min]").fill("2")
    form.locator("input[name=ticket_red_min]").fill("5")
    form.locator("button[type=submit]").click()
    expect(admin.locator("#site-form .bo-saved")).to_be_visible()

    kitchen = display(KITCHEN, WIDE, clock=True)
    order(till, venue_server, 2, "Quiche lorraine")
    card = kitchen.locator("#station-live .ticket[data-table='Table 3']")
    expect(card).to_have_attribute("data-wait", "ok")
    expect(card.locator(".wait-clock")).to_have_text(re.compile(r"^0:0\d$"))
    kitchen.clock.fast_forward("01:30")
    expect(card.locator(".wait-clock")).to_have_text(re.compile(r"^1:3\d$"))
    expect(card).to_have_attribute("data-wait", "ok")
    kitchen.clock.fast_forward("00:35")  # past 2 minutes
    expect(card).to_have_attribute("data-wait", "amber")
    amber = card.locator(".ticket-wait").evaluate("(e) => getComputedStyle(e).backgroundColor")
    kitchen.screenshot(path=shot("station-amber.png"))
    kitchen.clock.fast_forward("03:00")  # past 5 minutes
    expect(card).to_have_attribute("data-wait", "red")
    expect(card.locator(".wait-clock")).to_have_text(re.compile(r"^5:\d\d$"))
    red = card.locator(".ticket-wait").evaluate("(e) => getComputedStyle(e).backgroundColor")
    assert amber != red and "0, 0, 0, 0" not in amber and "0, 0, 0, 0" not in red
    kitchen.screenshot(path=shot("station-red.png"))


def test_a_tap_moves_a_ticket_on_with_an_undo_and_served_asks_twice(
    venue_server: Venue, display: Display, till: Page
) -> None:
    tablet = display(KITCHEN, TABLET, touch=True)
    order(till, venue_server, 1, "Croque-monsieur")
    card = tablet.locator("#station-live .ticket[data-table='Table 2']")
    expect(card).to_have_attribute("data-status", "queued")

    card.locator(".ticket-lines").tap()  # anywhere on the card
    expect(card).to_have_attribute("data-status", "in_preparation")
    undo = tablet.locator("#station-undo")
    expect(undo).to_be_visible()
    expect(undo.locator(".undo-table")).to_have_text("Table 2")
    tablet.screenshot(path=shot("station-undo.png"))
    undo.locator(".undo-button").tap()
    expect(card).to_have_attribute("data-status", "queued")
    expect(undo).to_be_hidden()

    card.tap()
    expect(card).to_have_attribute("data-status", "in_preparation")
    card.tap()
    expect(card).to_have_attribute("data-status", "ready")
    card.tap()  # served is final: one tap only asks
    expect(card).to_have_class(re.compile(r"\bconfirming\b"))
    expect(card.locator(".confirm-hint")).to_be_visible()
    tablet.screenshot(path=shot("station-confirm.png"))
    expect(card).to_have_attribute("data-status", "ready")
    card.tap()
    expect(card).to_have_count(0)
    expect(tablet.locator("#station-live .empty")).to_be_visible()


def test_a_confirmation_not_given_lapses(
    venue_server: Venue, display: Display, till: Page
) -> None:
    tablet = display(KITCHEN, TABLET, touch=True, clock=True)
    order(till, venue_server, 0, "Croissant")
    card = tablet.locator("#station-live .ticket[data-table='Table 1']")
    card.tap()
    expect(card).to_have_attribute("data-status", "in_preparation")
    card.tap()
    expect(card).to_have_attribute("data-status", "ready")
    card.tap()
    expect(card).to_have_class(re.compile(r"\bconfirming\b"))
    tablet.clock.fast_forward("00:05")
    expect(card).not_to_have_class(re.compile(r"\bconfirming\b"))
    expect(card).to_have_attribute("data-status", "ready")


def test_the_sound_toggle_is_remembered_and_a_new_ticket_chimes(
    venue_server: Venue, display: Display, till: Page
) -> None:
    kitchen = display(KITCHEN, TABLET, touch=True)
    toggle = kitchen.locator("[data-sound-toggle]")
    expect(toggle).to_have_attribute("aria-pressed", "false")
    toggle.tap()
    expect(toggle).to_have_attribute("aria-pressed", "true")
    expect(toggle).to_have_attribute("data-played", "1")  # heard at once, as a check

    kitchen.reload()
    actions.wait_live(kitchen)
    expect(toggle).to_have_attribute("aria-pressed", "true")
    order(till, venue_server, 3, "Tarte Tatin")
    expect(kitchen.locator("#station-live .ticket[data-table='Table 4']")).to_have_count(1)
    expect(toggle).to_have_attribute("data-played", "1")  # the new ticket
    # A ticket moving on is no new ticket: no chime.
    kitchen.locator("#station-live .ticket[data-table='Table 4']").tap()
    expect(kitchen.locator("#station-live .ticket[data-table='Table 4']")).to_have_attribute(
        "data-status", "in_preparation")
    expect(toggle).to_have_attribute("data-played", "1")

    toggle.tap()
    expect(toggle).to_have_attribute("aria-pressed", "false")
    kitchen.reload()
    actions.wait_live(kitchen)
    expect(toggle).to_have_attribute("aria-pressed", "false")
    order(till, venue_server, 4, "Soupe du jour")
    expect(kitchen.locator("#station-live .ticket[data-table='Table 5']")).to_have_count(1)
    expect(toggle).not_to_have_attribute("data-played", re.compile(r"[1-9]"))
