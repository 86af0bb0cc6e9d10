"""A price changed and a product sold out in the back office reach an open sale screen at
its next sync: drawn again at once while no ticket is open."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from contextlib import closing
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from demo.seed import PINS
from tests.browser.conftest import CASHIER, Venue

pytestmark = pytest.mark.browser


def test_a_menu_change_reaches_an_open_sale_screen_at_its_next_sync(
    venue_server: Venue, tmp_path: Path, paired_till: Callable[..., Page]
) -> None:
    till = paired_till("Chloé Caisse", PINS[CASHIER[0]])
    till.goto(f"{venue_server.url}/till/sell")
    croissant = venue_server.products["Croissant"]
    espresso = venue_server.products["Espresso"]
    tile = till.locator(f".sell-tile[data-product='{croissant}']")
    expect(tile).to_contain_text("1,50")
    till.locator("#sync-now").click()  # the till knows the catalog's version
    expect(till.locator("#sync-state")).not_to_have_text("")
    till.wait_for_timeout(500)
    with closing(sqlite3.connect(tmp_path / "browser.db")) as db, db:
        db.execute("UPDATE product SET price = 170 WHERE id = ?", (croissant,))
        db.execute("UPDATE product SET available = 0 WHERE id = ?", (espresso,))
    till.locator("#sync-now").click()
    expect(tile).to_contain_text("1,70")
    expect(till.locator(f".sell-tile[data-product='{espresso}']")).to_have_class(
        "sell-tile sold-out")


def test_a_product_sold_out_at_the_pos_reaches_an_open_sale_screen_live(
    venue_server: Venue, staff: Callable[..., Page], paired_till: Callable[..., Page]
) -> None:
    till = paired_till("Chloé Caisse", PINS[CASHIER[0]])
    till.goto(f"{venue_server.url}/till/sell")
    tart = venue_server.products["Tarte Tatin"]
    tile = till.locator(f".sell-tile[data-product='{tart}']")
    expect(tile).not_to_have_class("sell-tile sold-out")
    till.locator("#sync-now").click()  # the till knows the catalog's version
    till.wait_for_timeout(500)
    pos = staff(CASHIER)
    answer = pos.request.post(
        f"{venue_server.url}/api/v1/staff/products/{tart}/availability",
        data={"available": False})
    assert answer.ok, answer.text()
    # No tap on the till: the menu's live event makes it sync and draw the catalog again.
    expect(tile).to_have_class("sell-tile sold-out")
