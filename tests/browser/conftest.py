"""Browser fixtures: a real server on a fresh demo database, Debian's Chromium, phones and staff.

Everything here is synchronous: Playwright's sync API refuses to run inside a running asyncio
loop, and pytest-asyncio only runs its loop for async tests and fixtures. Database set-up runs
on its own event loop in a worker thread, so the session loop of the other tests is untouched.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect, sync_playwright
from sqlalchemy import select

from db.engine import make_engine, make_sessionmaker
from db.migrate import upgrade
from demo.seed import DemoVenue, seed
from ordering.models import DiningTable, Product
from tests.conftest import Server

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
PHONE = {"width": 390, "height": 844}
DESK = {"width": 1280, "height": 900}
TABLET = {"width": 1024, "height": 768}
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"

CASHIER = ("caisse@cafe-de-la-gare.fr", "caisse-demo")
ADMIN = ("admin@cafe-de-la-gare.fr", "admin-demo")
KITCHEN = ("cuisine@cafe-de-la-gare.fr", "cuisine-demo")

# Toasts fade after a few seconds; this log keeps every one a page showed, so a test can
# count them without racing the fade.
TOAST_LOG = """
window.__toasts = [];
document.addEventListener("DOMContentLoaded", () => {
  const box = document.getElementById("toasts");
  if (!box) return;
  new MutationObserver((changes) => {
    for (const change of changes) {
      for (const node of change.addedNodes) {
        if (node.nodeType === 1) window.__toasts.push({text: node.textContent});
      }
    }
  }).observe(box, {childList: true});
});
"""

# Every Content-Security-Policy violation a page meets goes to the test (web/headers.py):
# a browser journey that needed inline code or style fails, even where the page looked fine.
CSP_LOG = """
document.addEventListener("securitypolicyviolation", (event) => {
  window.__comptoirCsp({directive: event.effectiveDirective, blocked: event.blockedURI,
                        source: event.sourceFile, line: event.lineNumber, sample: event.sample,
                        page: location.pathname});
});
"""

# Long enough for a loaded CI machine, short enough that a broken page fails quickly.
TIMEOUT_MS = 10_000
expect.set_options(timeout=TIMEOUT_MS)


@dataclass(frozen=True)
class Venue:
    """The seeded demo as a browser test needs it: where to go and what to click."""

    url: str
    site_id: int
    tokens: list[str]  # by table position: tokens[0] is "Table 1"
    table_ids: list[int]
    products: dict[str, int]  # product name (seed data, not a UI string) -> id

    def table_url(self, index: int) -> str:
        return f"{self.url}/t/{self.tokens[index]}"

    @property
    def pos_url(self) -> str:
        return f"{self.url}/pos/{self.site_id}"

    def station_url(self, station: str) -> str:
        return f"{self.url}/pos/{self.site_id}/station/{station}"


async def _seed(url: str) -> tuple[DemoVenue, dict[str, int], list[int]]:
    engine = make_engine(url)
    try:
        async with make_sessionmaker(engine)() as session, session.begin():
            venue = await seed(session)
            products = {p.name: p.id for p in await session.scalars(select(Product))}
            tokens = [token for _, token in venue.table_tokens]
            ids = {t.token: t.id for t in await session.scalars(select(DiningTable))}
            return venue, products, [ids[token] for token in tokens]
    finally:
        await engine.dispose()


def _prepare(url: str) -> tuple[DemoVenue, dict[str, int], list[int]]:
    upgrade(url)
    return asyncio.run(_seed(url))


@dataclass(frozen=True)
class Template:
    path: Path
    demo: DemoVenue
    products: dict[str, int]
    table_ids: list[int]


@pytest.fixture(scope="session")
def seeded_template(tmp_path_factory: pytest.TempPathFactory) -> Template:
    """Migrated and seeded once (password hashing is slow on purpose); copied per test."""
    path = tmp_path_factory.mktemp("browser") / "template.db"
    # asyncio.run (here and inside Alembic's env) would replace the main thread's event loop.
    with ThreadPoolExecutor(max_workers=1) as pool:
        demo, products, table_ids = pool.submit(_prepare, f"sqlite+aiosqlite:///{path}").result()
    return Template(path, demo, products, table_ids)


@pytest.fixture
def venue_env() -> dict[str, str]:
    """The server's extra environment; a test module overrides it (e.g. a payment provider)."""
    return {}


@contextmanager
def serve_copy(template: Template, folder: Path, env: dict[str, str]) -> Iterator[Venue]:
    """A fresh copy of the migrated, seeded SQLite database, served by `comptoir serve`."""
    db_path = folder / "browser.db"
    # The backup API copies a consistent database whatever the journal (WAL) holds.
    with closing(sqlite3.connect(template.path)) as source, closing(
        sqlite3.connect(db_path)
    ) as target:
        source.backup(target)
    url = f"sqlite+aiosqlite:///{db_path}"
    demo = template.demo
    server = Server(env={"DATABASE_URL": url, **env})
    try:
        yield Venue(
            url=server.url,
            site_id=demo.site_id,
            tokens=[token for _, token in demo.table_tokens],
            table_ids=template.table_ids,
            products=template.products,
        )
    finally:
        server.stop()
        print(server.logs)  # on teardown, so that a failing test shows it


@pytest.fixture
def venue_server(
    tmp_path: Path, seeded_template: Template, venue_env: dict[str, str]
) -> Iterator[Venue]:
    with serve_copy(seeded_template, tmp_path, venue_env) as venue:
        yield venue


# Package scope, not session: while Playwright's sync API runs, the main thread has a running
# event loop, and every async test after it (tests/machines, tests/ordering…) would fail.
@pytest.fixture(scope="package")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def csp_violations() -> list[dict[str, object]]:
    """What the pages of a test reported as refused by the policy, in order."""
    return []


@pytest.fixture
def contexts(
    browser: Browser, csp_violations: list[dict[str, object]]
) -> Iterator[list[BrowserContext]]:
    opened: list[BrowserContext] = []
    yield opened
    for context in opened:
        context.close()
    assert csp_violations == [], "the Content-Security-Policy refused something"


def watch_policy(context: BrowserContext, violations: list[dict[str, object]]) -> None:
    context.expose_binding("__comptoirCsp", lambda _source, seen: violations.append(seen))
    context.add_init_script(CSP_LOG)


@pytest.fixture
def phone(
    browser: Browser, contexts: list[BrowserContext], csp_violations: list[dict[str, object]]
) -> Callable[..., Page]:
    """A new phone: its own browser context, so its own cookie and device id.

    `scale=2` gives a sharp screenshot; 1 keeps the other phones cheap to render.
    """

    def make(scale: int = 1) -> Page:
        context = browser.new_context(
            viewport=PHONE, device_scale_factor=scale, is_mobile=True, has_touch=True,
            locale="fr-FR",
        )
        context.add_init_script(TOAST_LOG)
        watch_policy(context, csp_violations)
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        return context.new_page()

    return make


def new_page(browser: Browser, contexts: list[BrowserContext],
             violations: list[dict[str, object]], viewport: dict[str, int],
             touch: bool) -> Page:
    """A page of a new French browser of that size (a touch screen's, if `touch`), its
    toasts logged and its Content-Security-Policy watched; closed with the test."""
    context = browser.new_context(viewport=viewport, locale="fr-FR", has_touch=touch,
                                  is_mobile=touch)
    context.add_init_script(TOAST_LOG)
    watch_policy(context, violations)
    context.set_default_timeout(TIMEOUT_MS)
    contexts.append(context)
    return context.new_page()


@pytest.fixture
def staff(
    browser: Browser, contexts: list[BrowserContext], venue_server: Venue,
    csp_violations: list[dict[str, object]],
) -> Callable[..., Page]:
    """A signed-in staff browser (desktop size, or `viewport`; `touch`: a tablet's or a
    phone's touch screen) through the real sign-in form."""

    def sign_in(account: tuple[str, str], viewport: dict[str, int] | None = None,
                touch: bool = False) -> Page:
        page = new_page(browser, contexts, csp_violations, viewport or DESK, touch)
        page.goto(f"{venue_server.url}/staff/login")
        page.fill("input[name=email]", account[0])
        page.fill("input[name=password]", account[1])
        page.click("form button[type=submit]")
        page.wait_for_url(f"{venue_server.url}/pos/**")
        return page

    return sign_in



def pairing_code(admin: Page, url: str, prefix: str = "T1") -> str:
    """The administrator adds a till (unless the page lists it already) and asks its
    pairing code, as the back office shows it."""
    admin.goto(f"{url}/backoffice/tills")
    card = admin.locator(".till-card", has_text=prefix)
    if card.count() == 0:
        admin.fill("#f-new-name", f"Caisse {prefix}")
        admin.fill("#f-new-prefix", prefix)
        admin.locator("form[hx-post='/backoffice/tills'] button[type=submit]").click()
        expect(card).to_be_visible()
    card.locator("form[hx-post$='/pairing'] button").click()
    code = admin.locator("#pairing-code")
    expect(code).to_be_visible()
    return code.inner_text().strip()


def fits(page: Page) -> None:
    """The page is no wider than its screen, and every control is at least 44 px (the rules
    of test_every_page.py, for pages its walk cannot reach, such as a paired till's)."""
    from tests.browser.test_every_page import OVERFLOW, SMALL_CONTROLS

    # A click that navigates may leave a document whose body is not parsed yet.
    page.wait_for_load_state("load")
    wide = page.evaluate("""() => [...document.querySelectorAll('body *')].filter(
      e => e.getBoundingClientRect().right > document.documentElement.clientWidth + 1)
      .slice(0, 8).map(e => e.tagName + '.' + e.className)""")
    assert page.evaluate(OVERFLOW) <= 0, f"{page.url} is wider than its screen: {wide}"
    assert page.evaluate(SMALL_CONTROLS) == [], page.url


def switch_in(till: Page, name: str, pin: str) -> None:
    """A member of staff taps their name on the till, then their PIN on its keypad."""
    till.locator(".till-person", has_text=name).click()
    for digit in pin:
        till.locator(f".pin-key[data-digit='{digit}']").click()
    till.locator(".till-pin button[type=submit]").click()
    expect(till.locator(".till-acting h1")).to_contain_text(name)


@pytest.fixture
def paired_till(
    browser: Browser, contexts: list[BrowserContext], venue_server: Venue,
    staff: Callable[..., Page], csp_violations: list[dict[str, object]],
) -> Callable[..., Page]:
    """A till: a device paired through the pages (the administrator's code typed on it),
    with `name` switched in by their PIN; a tablet's touch screen unless told."""

    def paired(name: str, pin: str, viewport: dict[str, int] | None = None,
               touch: bool = True, prefix: str = "T1") -> Page:
        code = pairing_code(staff(ADMIN), venue_server.url, prefix)
        page = new_page(browser, contexts, csp_violations, viewport or TABLET, touch)
        page.goto(f"{venue_server.url}/till/pair")
        page.fill("input[name=code]", code)
        page.locator("form[hx-post='/api/v1/till/pair'] button[type=submit]").click()
        page.wait_for_url(f"{venue_server.url}/till")
        switch_in(page, name, pin)
        return page

    return paired
