"""The POS as a cashier uses it, on a desktop (1280×800) and a touch tablet (1024×768).

Cash settlement shows the change until dismissed and tells a malformed amount from too
little; notifications name their table, keep clear of the controls and come once; every
control is big enough for a finger. Selectors are classes and data attributes; expected
wording comes from the catalogs, not from the test.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

import pytest
from playwright.sync_api import Browser, BrowserContext, Locator, Page, expect

from ordering.errors import BadAmount, Underpaid
from ordering.live import notification
from tests.browser import actions
from tests.browser.conftest import (
    CASHIER,
    KITCHEN,
    TABLET,
    TIMEOUT_MS,
    TOAST_LOG,
    Venue,
    watch_policy,
)
from web.i18n import gettext

pytestmark = pytest.mark.browser

DESKTOP = {"width": 1280, "height": 800}
MIN_TOUCH = 44

Phone = Callable[..., Page]
SignIn = Callable[..., Page]


@pytest.fixture
def till(
    browser: Browser, contexts: list[BrowserContext], venue_server: Venue,
    csp_violations: list[dict[str, object]],
) -> Iterator[SignIn]:
    """A staff member signed in on a screen of the given size (a tablet is touch)."""

    def sign_in(account: tuple[str, str], viewport: dict[str, int] = DESKTOP,
                touch: bool = False) -> Page:
        context = browser.new_context(viewport=viewport, has_touch=touch, locale="fr-FR")
        context.add_init_script(TOAST_LOG)
        watch_policy(context, csp_violations)
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        page = context.new_page()
        page.goto(f"{venue_server.url}/staff/login")
        page.fill("input[name=email]", account[0])
        page.fill("input[name=password]", account[1])
        page.click("form button[type=submit]")
        page.wait_for_url(f"{venue_server.url}/pos/**")
        actions.wait_live(page)
        return page

    yield sign_in


def order(venue: Venue, phone: Phone, table: int, *products: str) -> Page:
    """A diner opens the table, orders the products and sends the round."""
    diner = phone()
    actions.start(diner, venue.table_url(table), "Léa")
    for name in products:
        actions.add(diner, venue.products[name])
    actions.send(diner)
    return diner


def settle(tile: Locator, typed: str) -> None:
    form = tile.locator("details.settle form")
    if not form.is_visible():
        tile.locator("details.settle summary").click()
    form.locator("select[name=method]").select_option("cash")
    form.locator("input[name=tendered]").fill(typed)
    form.locator("button[type=submit]").click()


def digits(text: str) -> str:
    """An amount's digits and separators, whatever spaces and symbol a locale puts."""
    return re.sub(r"[^\d.,]", "", text)


# Item 1 -------------------------------------------------------------------------------

def test_cash_settlement_shows_the_change_until_dismissed_and_refuses_a_malformed_amount(
    venue_server: Venue, phone: Phone, till: SignIn
) -> None:
    pos = till(CASHIER)
    order(venue_server, phone, 2, "Croque-monsieur", "Crème brûlée")  # 9,50 + 6,00
    waiting = actions.pos_round(pos, "Table 3")
    waiting.locator("button.validate").click()
    expect(waiting).to_have_count(0)
    tile = actions.tile(pos, venue_server.table_ids[2])
    expect(tile.locator(".due")).to_have_text(re.compile(r"15,50"))

    # The amount received is prefilled as a French cashier types it.
    tile.locator("details.settle summary").click()
    expect(tile.locator("input[name=tendered]")).to_have_value("15,50")

    error = tile.locator("[data-error-for=tendered]")
    malformed = gettext("fr", BadAmount.message)
    for typed in ("abc", "12,3,4", "-5"):
        settle(tile, typed)
        expect(error).to_be_visible()
        expect(error).to_have_text(malformed)
    expect(pos.locator("#toasts .toast.error")).to_have_count(0)  # said once, by the field
    settle(tile, "10")
    expect(error).to_have_text(gettext("fr", Underpaid.message))
    expect(tile).to_have_attribute("data-state", "in_production")  # nothing was taken

    settle(tile, "50")
    change = pos.locator("#pos-change")
    expect(change).to_be_visible()
    amount = change.locator(".pos-change-amount")
    said = gettext("fr", "Change: %(amount)s").replace("%(amount)s", "").strip()
    expect(amount).to_contain_text(said)
    assert digits(amount.inner_text()) == "34,50"
    assert float(amount.evaluate("e => parseFloat(getComputedStyle(e).fontSize)")) >= 32
    expect(change.locator(".pos-change-table")).to_have_text("Table 3")

    # The tile turns settled live, nothing left due, and the change stays up meanwhile.
    expect(tile).to_have_attribute("data-state", "settled")
    expect(tile.locator(".due")).to_have_count(0)
    expect(tile).not_to_contain_text("15,50")
    order(venue_server, phone, 4, "Espresso")  # another table's news reaches the POS
    expect(actions.pos_round(pos, "Table 5")).to_have_count(1)
    expect(change).to_be_visible()
    box = change.locator(".pos-change-done").bounding_box()
    assert box and box["height"] >= MIN_TOUCH and box["width"] >= MIN_TOUCH
    change.locator(".pos-change-done").click()
    expect(change).to_be_hidden()


def test_an_english_till_takes_the_amount_the_english_way(
    venue_server: Venue, phone: Phone, till: SignIn
) -> None:
    pos = till(CASHIER)
    pos.goto(f"{venue_server.url}/lang/en?next=/pos/{venue_server.site_id}")
    actions.wait_live(pos)
    order(venue_server, phone, 3, "Croissant")  # 1.50
    actions.pos_round(pos, "Table 4").locator("button.validate").click()
    tile = actions.tile(pos, venue_server.table_ids[3])
    tile.locator("details.settle summary").click()
    expect(tile.locator("input[name=tendered]")).to_have_value("1.50")
    settle(tile, "5.00")
    amount = pos.locator("#pos-change .pos-change-amount")
    expect(amount).to_be_visible()
    expect(amount).to_contain_text(gettext("en", "Change: %(amount)s").split("%")[0].strip())
    assert digits(amount.inner_text()) == "3.50"


# Item 5 -------------------------------------------------------------------------------

def overlaps(page: Page, boxes_of: str) -> list[str]:
    """The visible toasts that cover one of the elements `boxes_of` selects."""
    found: list[str] = page.evaluate(
        """(selector) => {
          const toasts = Array.from(document.querySelectorAll("#toasts .toast"));
          const targets = Array.from(document.querySelectorAll(selector)).filter(
            (e) => e.getClientRects().length && !e.closest("#toasts"));
          const hit = (a, b) => a.left < b.right && b.left < a.right
                                && a.top < b.bottom && b.top < a.bottom;
          const out = [];
          for (const t of toasts) {
            const tb = t.getBoundingClientRect();
            for (const e of targets) {
              if (hit(tb, e.getBoundingClientRect())) out.push(t.textContent + " over "
                + e.tagName + "." + e.className + " " + e.textContent.trim().slice(0, 30));
            }
          }
          return out;
        }""",
        boxes_of,
    )
    return found


CONTROLS = "main button, main summary, main input:not([type=hidden]), main select, main a"


@pytest.mark.parametrize("viewport", [DESKTOP, TABLET], ids=["desktop", "tablet"])
def test_pos_notifications_name_the_table_keep_clear_and_come_once(
    venue_server: Venue, phone: Phone, till: SignIn, viewport: dict[str, int]
) -> None:
    pos = till(CASHIER, viewport, touch=viewport is TABLET)
    kitchen = till(KITCHEN)
    bar = kitchen.context.new_page()
    actions.open_page(kitchen, venue_server.station_url("kitchen"))
    actions.open_page(bar, venue_server.station_url("bar"))
    lea = order(venue_server, phone, 2, "Quiche lorraine", "Citronnade maison")
    actions.pos_round(pos, "Table 3").locator("button.validate").click()

    food = kitchen.locator(".ticket[data-table='Table 3']")
    drink = bar.locator(".ticket[data-table='Table 3']")
    # Two stations: each of their moves used to repeat the round's status to the diners.
    for station, status in ((food, "in_preparation"), (drink, "in_preparation"),
                            (food, "ready"), (drink, "ready"),
                            (food, "served"), (drink, "served")):
        station.click()  # a tap on the card moves it on; served asks for a second tap
        if status == "served":
            expect(station).to_have_class(re.compile(r"\bconfirming\b"))
            station.click()
        else:
            expect(station).to_have_class(re.compile(rf"\bstatus-{status}\b"))
    expect(drink).to_have_count(0)

    for step in ("in_production", "ready", "served"):
        said = notification({"round": 1, "round_status": step}, "round.progress", "fr")
        assert said
        actions.wait_toasts(lea, said, 1)
        actions.wait_toasts(pos, said, 1)
    told = lea.evaluate("() => window.__toasts.map((t) => t.text)")
    assert len(told) == len(set(told)), told  # each status once
    # Every POS notification names its table first.
    told_pos: list[str] = pos.evaluate("() => window.__toasts.map((t) => t.text)")
    validated = notification({"round": 1}, "round.validated", "fr", "Table 3")
    assert validated in told_pos
    assert told_pos and all(text.startswith("Table 3 — ") for text in told_pos), told_pos
    progress = [t for t in told_pos if "Table 3 — " in t]
    assert len(progress) == len(set(progress)), told_pos

    # A few at most, in a column of their own: not over a tile, nor the edit form's Save.
    toasts = pos.locator("#toasts .toast")
    expect(toasts.first).to_be_visible()
    # An older one giving way fades for a quarter of a second: count what is still shown.
    assert pos.locator("#toasts .toast:not(.leaving)").count() <= 3
    order(venue_server, phone, 5, "Espresso")
    waiting = actions.pos_round(pos, "Table 6")
    waiting.locator("details.edit summary").click()
    expect(waiting.locator("details.edit button[type=submit]")).to_be_visible()
    expect(toasts.first).to_be_visible()
    for selector in (".table-tile", CONTROLS):
        assert overlaps(pos, selector) == []
    pos.locator(".table-map").scroll_into_view_if_needed()
    for selector in (".table-tile", CONTROLS):
        assert overlaps(pos, selector) == []

    # Each can be dismissed with a finger-sized button, and fades by itself anyway.
    newest = toasts.last
    text = newest.locator(".toast-text").inner_text()
    close = newest.locator(".toast-close")
    box = close.bounding_box()
    assert box and box["width"] >= MIN_TOUCH and box["height"] >= MIN_TOUCH
    close.click()
    expect(toasts.filter(has_text=text)).to_have_count(0)
    expect(toasts).to_have_count(0, timeout=9_000)


# Item 6 -------------------------------------------------------------------------------

TOO_SMALL = """(min) => Array.from(document.querySelectorAll(
    "button, summary, a, input:not([type=hidden]), select, textarea, [role=button]"))
  .filter((e) => e.getClientRects().length && getComputedStyle(e).visibility !== "hidden")
  .map((e) => [e, e.getBoundingClientRect()])
  .filter(([e, r]) => r.width > 0 && (r.width < min || r.height < min))
  .map(([e, r]) => `${e.tagName}.${e.className} "${(e.textContent || e.name || "").trim()
    .slice(0, 30)}" ${Math.round(r.width)}x${Math.round(r.height)}`)"""


def test_every_pos_control_is_a_labelled_button_a_finger_can_hit_on_a_tablet(
    venue_server: Venue, phone: Phone, till: SignIn
) -> None:
    pos = till(CASHIER, TABLET, touch=True)
    order(venue_server, phone, 0, "Croissant")
    order(venue_server, phone, 1, "Tarte Tatin")
    waiting = actions.pos_round(pos, "Table 1")
    actions.pos_round(pos, "Table 2").locator("button.validate").click()

    # Refuse and Edit are buttons, not disclosure triangles, and their reasons are labelled.
    for action in ("refuse", "edit"):
        opener = waiting.locator(f"details.{action} > summary")
        expect(opener).to_be_visible()
        assert opener.evaluate("e => getComputedStyle(e).display") != "list-item"
        box = opener.bounding_box()
        for _ in range(50):  # the live view may be swapping the card in (Table 2 validated)
            if box:
                break
            pos.wait_for_timeout(100)
            box = opener.bounding_box()
        assert box and box["width"] >= MIN_TOUCH and box["height"] >= MIN_TOUCH
        opener.click()
        reason = waiting.locator(f"details.{action} input[name=reason]")
        expect(reason).to_be_visible()
        label = waiting.locator(f"details.{action} label:has(input[name=reason])")
        expect(label).to_be_visible()
        wording = label.evaluate("e => e.firstChild.textContent.trim()")
        assert wording == gettext("fr", "Reason shown to the diners")

    # "Back on sale" looks as enabled as it is: not faded with its sold-out product.
    pos.locator("details.menu-admin > summary").click()
    quiche = venue_server.products["Quiche lorraine"]
    sold_out = pos.locator(f"#menu-live .product[data-product='{quiche}']")
    sold_out.locator("button[type=submit]").click()
    expect(sold_out).to_have_class(re.compile(r"\bsold-out\b"))
    back = sold_out.locator("button[type=submit]")
    expect(back).to_be_enabled()
    shown = back.evaluate("""(e) => { let o = 1; for (let n = e; n; n = n.parentElement)
        o *= parseFloat(getComputedStyle(n).opacity); return o; }""")
    assert shown == 1

    # Every control on the page, with every form open, is at least 44×44.
    tile = actions.tile(pos, venue_server.table_ids[1])
    tile.locator("details.settle > summary").click()
    actions.tile(pos, venue_server.table_ids[4]).locator("button.take-order").click()
    expect(pos.locator("#pos-order .pos-order")).to_be_visible()
    assert pos.evaluate(TOO_SMALL, MIN_TOUCH) == []
