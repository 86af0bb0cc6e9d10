"""The shared cart on a phone (390×844): a bar at the bottom counts it wherever the diner
is in the menu, one add control per product, jump links, photos; cart controls a thumb can
hit; and a cart that follows the menu (sold out, re-priced) on every phone at once.

Selectors are classes and data attributes; text matched is data (names, counts, amounts).
"""

from __future__ import annotations

import io
import re
import tempfile
from collections.abc import Callable
from pathlib import Path

import pytest
from PIL import Image
from playwright.sync_api import Page, expect

from tests.browser import actions
from tests.browser.conftest import ADMIN, CASHIER, Venue

pytestmark = pytest.mark.browser

SCRATCH = Path(tempfile.gettempdir()) / "comptoir-screenshots"
Phone = Callable[..., Page]
Staff = Callable[[tuple[str, str]], Page]


def amount(text: str) -> re.Pattern[str]:
    return re.compile(text.replace(".", "[.,]"))


def box(page: Page, selector: str) -> dict[str, float]:
    found = page.locator(selector).first.bounding_box()
    assert found is not None, selector
    return found


def in_view(page: Page, selector: str) -> bool:
    return bool(page.locator(selector).first.evaluate(
        "(e) => { const r = e.getBoundingClientRect();"
        " return r.top >= 0 && r.top < window.innerHeight; }"))


def test_adding_low_in_the_menu_shows_in_the_bar_and_the_bar_opens_the_cart(
    venue_server: Venue, phone: Phone
) -> None:
    lea = phone(scale=2)
    actions.start(lea, venue_server.table_url(0), "Léa")
    gourmand = venue_server.products["Café gourmand"]  # the menu's last product

    bar = lea.locator("#cart-bar .cart-bar-link")
    expect(bar).to_be_visible()
    expect(bar.locator(".cart-count")).to_have_text(re.compile(r"^0 article$"))

    # Every product has one compact control, at least 44 px, and no quantity box or note.
    rows = lea.locator("#menu-live .product")
    expect(lea.locator("#menu-live .product input[type=number]")).to_have_count(0)
    expect(lea.locator("#menu-live .product input[name=note]")).to_have_count(0)
    assert lea.locator("#menu-live .product button.add").count() == rows.count()
    add = actions.product(lea, gourmand).locator("button.add")
    add.scroll_into_view_if_needed()
    assert min(box(lea, f"#menu-live .product[data-product='{gourmand}'] button.add")[k]
               for k in ("width", "height")) >= 44
    assert not in_view(lea, "#cart")  # the cart is far above

    with lea.expect_response(lambda r: r.url.endswith("/cart/lines") and r.status == 201):
        add.click()
    # Feedback where Léa is: the bar counts it and pulses; a screen reader hears it.
    expect(bar.locator(".cart-count")).to_have_text("1 article")
    expect(bar.locator(".cart-bar-total")).to_have_text(amount("8.50"))
    expect(lea.locator("#cart-bar")).to_have_class(re.compile(r"\bpulse\b"))
    expect(lea.locator("#cart-announce")).to_contain_text("Café gourmand")
    bar_box = box(lea, "#cart-bar .cart-bar-link")
    assert bar_box["y"] + bar_box["height"] <= 844 and bar_box["y"] > 844 - 100
    assert bar_box["height"] >= 44
    SCRATCH.mkdir(parents=True, exist_ok=True)
    lea.screenshot(path=str(SCRATCH / "phone-cart-bar.png"))

    # Again: one more on the same line, "2 articles".
    with lea.expect_response(lambda r: "/cart/lines/" in r.url and r.ok):
        add.click()
    expect(bar.locator(".cart-count")).to_have_text("2 articles")
    expect(bar.locator(".cart-bar-total")).to_have_text(amount("17.00"))
    expect(actions.cart_lines(lea)).to_have_count(1)

    bar.click()
    expect(lea.locator("#cart")).to_be_in_viewport()
    actions.quantity_is(actions.cart_lines(lea).first, 2)

    # Jump links lead to each category.
    jumps = lea.locator("#menu-live .menu-jump a")
    assert jumps.count() == lea.locator("#menu-live .category").count() > 1
    last = jumps.last
    assert box(lea, "#menu-live .menu-jump a")["height"] >= 44
    target = last.get_attribute("href") or ""
    last.click()
    expect(lea.locator(target)).to_be_in_viewport()
    assert lea.evaluate("document.documentElement.scrollWidth") <= 390


def test_cart_controls_are_labelled_and_big_enough_for_a_thumb(
    venue_server: Venue, phone: Phone
) -> None:
    lea = phone()
    actions.start(lea, venue_server.table_url(1), "Léa")
    croissant = venue_server.products["Croissant"]
    actions.add(lea, croissant, quantity=2, note="bien doré")
    line = actions.cart_lines(lea).first
    expect(line.locator("details.line-note")).not_to_have_attribute("open", "")  # saved: closed
    controls = line.locator(".mine button:visible, .mine summary:visible")
    assert controls.count() == 4  # −, +, remove, note
    for index in range(controls.count()):
        control = controls.nth(index)
        size = control.bounding_box()
        assert size is not None and size["width"] >= 44 and size["height"] >= 44, (
            control.inner_text(), size)
    for step in ("down", "up"):
        label = line.locator(f"button[data-step={step}]").get_attribute("aria-label") or ""
        assert "Croissant" in label
    assert "Croissant" in (line.locator("button.remove").get_attribute("aria-label") or "")

    with lea.expect_response(lambda r: "/cart/lines/" in r.url and r.ok):
        line.locator("button[data-step=down]").click()
    actions.quantity_is(line, 1)
    with lea.expect_response(lambda r: "/cart/lines/" in r.url and r.ok):
        line.locator("button.remove").click()
    expect(actions.cart_lines(lea)).to_have_count(0)


def test_a_product_photo_shows_on_the_phone(
    venue_server: Venue, phone: Phone, staff: Staff
) -> None:
    croissant = venue_server.products["Croissant"]
    admin = staff(ADMIN)
    admin.goto(f"{venue_server.url}/backoffice/menu/products/{croissant}")
    picture = io.BytesIO()
    Image.new("RGB", (120, 90), (200, 140, 60)).save(picture, "JPEG")
    admin.locator("input[name=photo]").set_input_files(
        files=[{"name": "croissant.jpg", "mimeType": "image/jpeg", "buffer": picture.getvalue()}])
    with admin.expect_response(lambda r: r.url.endswith("/photo") and r.ok):
        admin.locator("form[hx-encoding] button[type=submit]").click()

    lea = phone()
    actions.start(lea, venue_server.table_url(2), "Léa")
    photo = actions.product(lea, croissant).locator("img.product-photo")
    expect(photo).to_be_visible()
    assert photo.evaluate("(img) => img.complete && img.naturalWidth") == 120
    assert actions.product(lea, venue_server.products["Espresso"]).locator("img").count() == 0


def test_sold_out_and_new_prices_reach_the_carts_of_two_phones_before_they_send(
    venue_server: Venue, phone: Phone, staff: Staff
) -> None:
    tatin, espresso = venue_server.products["Tarte Tatin"], venue_server.products["Espresso"]
    url = venue_server.table_url(3)
    lea, tom = phone(), phone()
    pin = actions.start(lea, url, "Léa")
    actions.join(tom, url, "Tom", pin)
    actions.add(lea, tatin)
    actions.add(tom, espresso, quantity=2)
    for page in (lea, tom):
        expect(page.locator(".cart-total")).to_have_text(amount("10.10"))  # 6.50 + 2 × 1.80

    # The kitchen marks the tarte sold out from the POS's menu.
    pos = staff(CASHIER)
    actions.wait_live(pos)
    pos.locator("details.menu-admin summary").click()
    pos.locator(f"#menu-live .product[data-product='{tatin}'] button[type=submit]").click()
    for page in (lea, tom):
        gone = page.locator("#cart .line.gone")
        expect(gone).to_have_count(1)
        expect(gone).to_contain_text("Tarte Tatin")
        expect(page.locator("#cart .gone-notice")).to_contain_text("Tarte Tatin")
        actions.wait_toasts(page, "Tarte Tatin", 1)

    # Tom tries to send: refused, with the line named, in French; nothing reaches the POS.
    with tom.expect_response(lambda r: r.url.endswith("/rounds")) as answer:
        tom.locator("#cart button.send").click()
    assert answer.value.status == 409
    assert answer.value.json()["error"]["code"] == "cart_unavailable"
    error = tom.locator("#toasts .toast.error")
    expect(error).to_contain_text("Tarte Tatin")
    expect(error).to_contain_text("Plus disponible")
    expect(actions.pos_round(pos, "Table 4")).to_have_count(0)
    expect(actions.cart_lines(tom)).to_have_count(2)

    # The espresso's price goes up in the back office: both phones see it before sending.
    admin = staff(ADMIN)
    admin.goto(f"{venue_server.url}/backoffice/menu/products/{espresso}")
    admin.locator("input[name=price]").fill("2.00")
    with admin.expect_response(lambda r: f"/products/{espresso}" in r.url and r.ok):
        admin.locator(f"form[hx-post='/backoffice/menu/products/{espresso}'] "
                      "button[type=submit]").click()
    for page in (lea, tom):
        repriced = page.locator("#cart .line.repriced")
        expect(repriced).to_have_count(1)
        expect(repriced.locator(".amount")).to_have_text(amount("4.00"))
        expect(repriced.locator(".price-was")).to_contain_text(re.compile("1[.,]80"))
        expect(page.locator(".cart-total")).to_have_text(amount("10.50"))
        expect(page.locator("#cart-bar .cart-bar-total")).to_have_text(amount("10.50"))

    SCRATCH.mkdir(parents=True, exist_ok=True)
    lea.locator("#cart").scroll_into_view_if_needed()
    lea.screenshot(path=str(SCRATCH / "phone-cart-sold-out.png"))

    # Léa removes her tarte; the order goes, at the new price.
    with lea.expect_response(lambda r: "/cart/lines/" in r.url and r.ok):
        lea.locator("#cart .line.gone button.remove").click()
    expect(tom.locator("#cart .line.gone")).to_have_count(0)
    expect(tom.locator("#cart .gone-notice")).to_have_count(0)
    actions.send(tom)
    waiting = actions.pos_round(pos, "Table 4")
    expect(waiting).to_have_count(1)
    expect(waiting.locator(".total")).to_have_text(amount("4.00"))
    expect(actions.my_round(lea, 1).locator(".total")).to_have_text(amount("4.00"))
