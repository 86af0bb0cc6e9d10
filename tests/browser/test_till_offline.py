"""The till offline (issue 16), in a real browser against the real server: the till keeps
selling with no network (Playwright's offline mode, and every request of the context
aborted, the service worker's own included), its sales wait in IndexedDB and reach the
server exactly once, however the upload is cut; two tabs of the same till never take the
same number; the day's Z is refused while a till's sales wait, then right once they are in.

The server's database is the SQLite file `venue_server` serves; it is read directly, as
test_till_records.py does, to count what the server holds.
"""

from __future__ import annotations

import re
import sqlite3
import threading
import time
from collections.abc import Callable
from contextlib import closing
from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext, Page, Route, expect

from demo.seed import PINS
from tests.browser.conftest import CASHIER, Venue, fits

pytestmark = pytest.mark.browser

SUPERVISOR = "superviseur@cafe-de-la-gare.fr"
CACHE = "comptoir-till-v1"


def _offline(context: BrowserContext) -> None:
    """No network for the pages, and none for the service worker either: Playwright's
    offline mode does not cover a worker's requests, the context's routes do."""
    context.set_offline(True)
    context.route("**/*", lambda route: route.abort("internetdisconnected"))


def _online(context: BrowserContext) -> None:
    context.unroute("**/*")
    context.set_offline(False)


def _server_sales(db: Path) -> list[tuple[str, int]]:
    """(uuid, sequence) of every sale the server holds for T1."""
    with closing(sqlite3.connect(db)) as con:
        return con.execute(
            "SELECT t.uuid, t.sequence FROM pos_ticket t JOIN till ON till.id = t.till_id "
            "WHERE till.prefix = 'T1' AND t.kind = 'sale' ORDER BY t.sequence").fetchall()


def _ready_offline(till: Page, url: str) -> None:
    """The till's service worker controls the page and keeps the sale screen and home."""
    till.goto(f"{url}/till/sell")
    till.wait_for_function("navigator.serviceWorker && navigator.serviceWorker.controller")
    till.reload()  # through the worker now: kept
    till.wait_for_function(
        f"""async () => {{
          const cache = await caches.open("{CACHE}");
          return !!(await cache.match("/till/sell")) && !!(await cache.match("/till"))
            && !!(await cache.match("/static/sell.js"));
        }}""", polling=200)
    expect(till.locator("#till-sync")).to_have_attribute("data-state", "online")


def _sell(till: Page, product: int, number: str) -> None:
    """One product, paid by card (on the terminal, offline): the number shows at once."""
    till.locator(f".sell-tile[data-product='{product}']").click()
    till.locator("#sell-pay").click()
    till.locator("#pay-card").click()
    till.locator("#pay-confirm").click()
    expect(till.locator("#done-number")).to_have_attribute("data-number", number)
    till.locator("#done-new").click()


def _waiting(till: Page, count: int) -> None:
    expect(till.locator("#till-sync")).to_have_attribute("data-waiting", str(count),
                                                          timeout=30_000)


def test_twenty_sales_offline_reach_the_server_once_even_when_the_upload_is_cut(
    venue_server: Venue, tmp_path: Path, paired_till: Callable[..., Page],
) -> None:
    url = venue_server.url
    db = tmp_path / "browser.db"
    till = paired_till("Chloé Caisse", PINS[CASHIER[0]])
    context = till.context
    _ready_offline(till, url)
    espresso = venue_server.products["Espresso"]

    # The network goes: the till still opens and sells, 20 sales, numbered at once.
    _offline(context)
    till.reload()
    expect(till.locator("#till-sync")).to_have_attribute("data-state", "offline")
    for n in range(1, 11):
        _sell(till, espresso, f"T1-{n:06d}")
    # A reload offline loses nothing, and the numbers carry on.
    till.reload()
    _waiting(till, 10)
    for n in range(11, 21):
        _sell(till, espresso, f"T1-{n:06d}")
    _waiting(till, 20)
    expect(till.locator("#pay-card-offline")).to_be_attached()
    fits(till)
    assert _server_sales(db) == []

    # Back online, the first upload reaches the server but its answer is lost (the network
    # drops again mid-way), and the page is reloaded offline: the 20 still wait.
    cut = threading.Event()

    def lose_the_answer(route: Route) -> None:
        if cut.is_set():
            route.abort("internetdisconnected")
            return
        route.fetch()  # the server records…
        cut.set()
        route.abort("internetdisconnected")  # …the till never hears it

    context.route("**/api/v1/till/sync", lose_the_answer)  # before the network returns
    _online(context)
    deadline = time.monotonic() + 30
    while not cut.is_set() and time.monotonic() < deadline:
        till.wait_for_timeout(100)
    assert cut.is_set()
    _offline(context)
    till.reload()
    _waiting(till, 20)
    assert [s for _, s in _server_sales(db)] == list(range(1, 21))

    # Online for good: the retry records nothing twice, and the queue empties.
    context.unroute("**/api/v1/till/sync")
    _online(context)
    till.locator("#sync-now").click()
    _waiting(till, 0)
    expect(till.locator("#till-sync")).to_have_attribute("data-state", "online")
    sales = _server_sales(db)
    assert [s for _, s in sales] == list(range(1, 21))
    assert len({u for u, _ in sales}) == 20
    # The next sale takes the next number.
    _sell(till, espresso, "T1-000021")


def test_two_tabs_of_one_till_offline_never_share_a_number(
    venue_server: Venue, tmp_path: Path, paired_till: Callable[..., Page],
) -> None:
    url = venue_server.url
    first = paired_till("Chloé Caisse", PINS[CASHIER[0]])
    context = first.context
    _ready_offline(first, url)
    second = context.new_page()
    second.goto(f"{url}/till/sell")
    espresso = venue_server.products["Espresso"]

    _offline(context)
    # Both tabs record at the same instant, ten each, straight into the shared counter…
    burst = """async (at) => {
      const tile = document.querySelector(".sell-tile:not([disabled])");
      const sale = () => ({ uuid: crypto.randomUUID(), sequence: 0,
        device_at: new Date().toISOString(),
        staff_id: Number(document.getElementById("sell").dataset.staff),
        takeaway: false, training: false, table_id: null,
        lines: [{ product_id: Number(tile.dataset.product), label: tile.dataset.name, quantity: 1,
                  unit_price: Number(tile.dataset.price), discount: 0,
                  vat_rate: Number(tile.dataset.vat), note: "" }],
        discount: 0, reason: "",
        payments: [{ method: "card", amount: Number(tile.dataset.price) }], approval: null });
      await new Promise((r) => setTimeout(r, Math.max(0, at - Date.now())));
      const kept = await Promise.all(
        Array.from({ length: 10 }, () => window.comptoirTill.record(sale())));
      return kept.map((k) => k.number);
    }"""
    at = int(time.time() * 1000) + 1500
    # Playwright's sync API waits for each call: the first tab's burst is left running.
    first.evaluate(f"void (window.__burst = ({burst})({at}))")
    numbers: list[str] = second.evaluate(burst, at)
    numbers += first.evaluate("window.__burst")
    # …then each sells through its screen, turn about.
    for n in range(21, 27, 2):
        _sell(first, espresso, f"T1-{n:06d}")
        _sell(second, espresso, f"T1-{n + 1:06d}")
    assert sorted(numbers) == [f"T1-{n:06d}" for n in range(1, 21)]
    _waiting(first, 26)

    _online(context)
    first.locator("#sync-now").click()
    second.locator("#sync-now").click()
    _waiting(first, 0)
    _waiting(second, 0)
    sales = _server_sales(tmp_path / "browser.db")
    assert [s for _, s in sales] == list(range(1, 27))
    assert len({u for u, _ in sales}) == 26


def test_the_z_is_refused_while_the_tills_sales_wait_then_right(
    venue_server: Venue, tmp_path: Path, paired_till: Callable[..., Page],
) -> None:
    url = venue_server.url
    till = paired_till("Sacha Superviseur", PINS[SUPERVISOR])
    context = till.context
    _ready_offline(till, url)
    espresso = venue_server.products["Espresso"]
    price = int(till.locator(f".sell-tile[data-product='{espresso}']").get_attribute(
        "data-price") or 0)

    _offline(context)
    till.reload()
    for n in range(1, 4):
        _sell(till, espresso, f"T1-{n:06d}")
    _waiting(till, 3)

    # The network is back for the pages but the till's uploads still fail: its sales wait.
    context.route("**/api/v1/till/sync", lambda route: route.abort("internetdisconnected"))
    _online(context)
    till.goto(f"{url}/till/reports")
    _waiting(till, 3)
    z = "form[hx-post='/api/v1/till/reports/z']"
    till.fill(f"{z} input[name=counted_cash]", "0")
    till.locator(f"{z} button[type=submit]").last.click()
    refusal = till.locator(f"{z} .field-error:visible, {z} [role=alert]:visible").first
    expect(refusal).to_contain_text(re.compile("T1"))
    expect(till.locator("#z-report-paper")).to_have_count(0)

    # The uploads go through: the queue empties, and the Z counts the three sales.
    context.unroute("**/api/v1/till/sync")
    till.locator("#sync-now").click()
    _waiting(till, 0)
    assert len(_server_sales(tmp_path / "browser.db")) == 3
    till.locator(f"{z} button[type=submit]").last.click()
    paper = till.locator("#z-report-paper")
    expect(paper).to_be_visible()
    expect(paper).to_contain_text("T1-000003")
    total = 3 * price
    expect(paper).to_contain_text(f"{total // 100},{total % 100:02d}")
    fits(till)
