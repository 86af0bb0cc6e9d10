"""What a diner or a staff member does on a page, by stable selectors (never by text)."""

from __future__ import annotations

import re

from playwright.sync_api import Locator, Page, Response, expect

_DIGITS = re.compile(r"^\s*\d{4,12}\s*$")

# True once every topic the page watches has had its snapshot: from then on the page
# sees each change as a live event (and its toast), not folded into a first snapshot.
_LIVE = """() => {
  const topics = JSON.parse(document.body.dataset.topics || "[]");
  return !!window.comptoir && topics.every((t) => t in window.comptoir.versions);
}"""


def wait_live(page: Page) -> None:
    page.wait_for_function(_LIVE)


def open_page(page: Page, url: str) -> Page:
    page.goto(url)
    wait_live(page)
    return page


def start(page: Page, url: str, name: str) -> str:
    """Scan the table, start an order with a first name; returns the PIN shown."""
    open_page(page, url)
    page.locator(".start input[name=name]").fill(name)
    with page.expect_navigation():  # the API answers HX-Refresh: the page reloads as a member
        page.locator(".start button[type=submit]").click()
    wait_live(page)
    pin = page.locator(".pin-code")
    expect(pin).to_have_text(_DIGITS)
    return pin.inner_text().strip()


def join(page: Page, url: str, name: str, pin: str) -> None:
    open_page(page, url)
    page.locator(".join input[name=name]").fill(name)
    page.locator(".join input[name=pin]").fill(pin)
    with page.expect_navigation():
        page.locator(".join button[type=submit]").click()
    wait_live(page)
    expect(page.locator(".pin-code")).to_have_text(pin)


def product(page: Page, product_id: int) -> Locator:
    return page.locator(f"#menu-live .product[data-product='{product_id}']")


def own_line(page: Page, product_id: int) -> Locator:
    """My cart line of this product without a note: the one the menu's add button bumps."""
    me = member_id(page)
    return page.locator(f"#cart .line[data-owner='{me}'][data-product='{product_id}'][data-plain]")


def quantity_is(line: Locator, quantity: int) -> None:
    expect(line.locator(".qty")).to_have_text(re.compile(rf"^\s*{quantity}\s*×"))


def _changed(response: Response) -> bool:
    return "/cart/lines" in response.url and response.ok


def add(page: Page, product_id: int, quantity: int = 1, note: str = "") -> None:
    """The menu's one add control, then the cart's "+" and note for the rest: as a diner
    does it. A product already in my cart without a note gets one more on its line."""
    plain = own_line(page, product_id).first
    had = int(re.sub(r"\D", "", plain.locator(".qty").inner_text())) if plain.count() else 0
    with page.expect_response(_changed):
        product(page, product_id).locator("button.add").click()
    quantity_is(plain, had + 1)
    line = page.locator(f"#cart .line[data-line='{plain.get_attribute('data-line')}']")
    for wanted in range(had + 2, had + quantity + 1):
        with page.expect_response(_changed):
            line.locator("button[data-step=up]").click()
        quantity_is(line, wanted)
    if note:
        line.locator("details.line-note summary").click()
        line.locator("input[name=note]").fill(note)
        with page.expect_response(_changed):
            line.locator("button.save-note").click()
        expect(line.locator(".note")).to_contain_text(note)


def cart_lines(page: Page) -> Locator:
    return page.locator("#cart .line")


def line_of(page: Page, member_id: str, product_name: str) -> Locator:
    return page.locator(f"#cart .line[data-owner='{member_id}']").filter(has_text=product_name)


def member_id(page: Page) -> str:
    return page.locator("body").get_attribute("data-me") or ""


def send(page: Page) -> None:
    with page.expect_response(lambda r: r.url.endswith("/rounds") and r.status in (200, 201)):
        page.locator("#cart button.send").click()


def my_round(page: Page, number: int) -> Locator:
    return page.locator(f"#table-live .round[data-round='{number}']")


def pos_round(pos: Page, table_label: str) -> Locator:
    return pos.locator(f".pos-round[data-table='{table_label}']")


def tile(pos: Page, table_id: int) -> Locator:
    return pos.locator(f".table-tile[data-table-id='{table_id}']")



def toasts_shown(page: Page, about: str) -> list[str]:
    """Every toast this page showed since it loaded whose text mentions `about`."""
    texts: list[str] = page.evaluate("() => window.__toasts.map((t) => t.text)")
    return [text for text in texts if about in text]


def wait_toasts(page: Page, about: str, count: int) -> None:
    page.wait_for_function(
        "([about, count]) => window.__toasts.filter((t) => t.text.includes(about)).length"
        " >= count",
        arg=[about, count],
    )
