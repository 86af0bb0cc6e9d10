"""From an empty database to a first order validated, through the pages only (issue 13).

A newcomer signs up, confirms by the link the server logged (no mail server), names the
company, adds a site, tables T1–T5 as a range, categories and the menu imported from the
template workbook (checked, then applied), invites a supervisor and a cashier who accept and
set their PINs, sets their own PIN, connects the test payment provider and picks a launch
date. Then a phone at T1 orders and the cashier validates the round on the POS. Once on
SQLite, once on PostgreSQL. A screenshot at 390 px of each step is kept in the test's
temporary folder.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from db.migrate import upgrade
from tests.browser import actions
from tests.browser.conftest import CSP_LOG, PHONE, TIMEOUT_MS, TOAST_LOG
from tests.conftest import PG_URL, Server, _reachable, unavailable

pytestmark = pytest.mark.browser

ADMIN = ("zoe@example.com", "un long mot de passe")
SUPERVISOR = ("sam@example.com", "le mot de passe de Sam")
CASHIER = ("cleo@example.com", "le mot de passe de Cléo")


def _empty_database(url: str) -> str:
    """A migrated, empty database: on PostgreSQL one of the walk's own, beside the test
    database (the other tests may be using that one meanwhile)."""
    if url.startswith("postgresql"):
        import asyncpg

        own = url.rsplit("/", 1)[0] + "/" + url.rsplit("/", 1)[1] + "_walk"

        async def reset() -> None:
            server = await asyncpg.connect(
                url.replace("postgresql+asyncpg", "postgresql").rsplit("/", 1)[0] + "/postgres")
            try:
                name = own.rsplit("/", 1)[1]
                if not await server.fetchval("SELECT 1 FROM pg_database WHERE datname = $1",
                                             name):
                    await server.execute(f'CREATE DATABASE "{name}"')
            finally:
                await server.close()
            conn = await asyncpg.connect(own.replace("postgresql+asyncpg", "postgresql"))
            await conn.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public;")
            await conn.close()

        asyncio.run(reset())
        url = own
    upgrade(url)
    return url


@pytest.fixture(params=["sqlite", "postgresql"])
def server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Server]:
    """A migrated database with nothing in it, served without a mail server."""
    if request.param == "postgresql":
        if not _reachable("127.0.0.1", 5432):
            unavailable("PostgreSQL")
        url = PG_URL
    else:
        url = f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}"
    # asyncio.run (here and in Alembic's env) would replace the main thread's event loop.
    with ThreadPoolExecutor(max_workers=1) as pool:
        url = pool.submit(_empty_database, url).result()
    running = Server(env={"DATABASE_URL": url, "SMTP_URL": "", "PAYMENT_PROVIDER": "none"})
    try:
        yield running
    finally:
        running.stop()
        print(running.logs)


class Walk:
    """The phones of the walk, and a screenshot of each step."""

    def __init__(self, browser: Browser, server: Server, folder: Path,
                 contexts: list[BrowserContext], violations: list[dict[str, object]]) -> None:
        self.browser, self.server, self.folder = browser, server, folder
        self.contexts, self.violations = contexts, violations
        self.shots = 0

    def phone(self) -> Page:
        context = self.browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True,
                                           locale="fr-FR")
        context.add_init_script(TOAST_LOG)
        context.expose_binding("__comptoirCsp",
                               lambda _source, seen: self.violations.append(seen))
        context.add_init_script(CSP_LOG)
        context.set_default_timeout(TIMEOUT_MS)
        self.contexts.append(context)
        page = context.new_page()
        page.on("dialog", lambda dialog: dialog.accept())  # hx-confirm questions
        return page

    def shot(self, page: Page, name: str) -> None:
        self.shots += 1
        # From the top: a full-page capture of a scrolled page draws the sticky bar midway.
        page.evaluate("window.scrollTo(0, 0)")
        page.screenshot(path=str(self.folder / f"{self.shots:02d}-{name}.png"), full_page=True)

    def go(self, page: Page, path: str) -> None:
        page.goto(self.server.url + path)

    def mailed(self, pattern: str, to: str) -> str:
        """The path of the link in the last mail the server logged for `to`."""
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            logs = self.server.logs
            at = logs.rfind(to)
            if at >= 0:
                found = re.search(r"https?://[^\s\"']+(" + pattern + r"[\w-]+)", logs[at:])
                if found:
                    return found.group(1)
            time.sleep(0.2)
        raise AssertionError(f"no link {pattern} for {to} in the server's log")

    def sign_in(self, page: Page, account: tuple[str, str]) -> None:
        self.go(page, "/staff/login")
        page.fill("input[name=email]", account[0])
        page.fill("input[name=password]", account[1])
        page.click("form button[type=submit]")
        page.wait_for_url(re.compile(r"/(staff|pos|backoffice|signup)"))

    def set_pin(self, page: Page, pin: str, name: str) -> None:
        if not page.url.endswith("/backoffice/pin"):
            self.go(page, "/backoffice/pin")
        page.fill("input[name=pin]", pin)
        page.click("main form button[type=submit]")
        expect(page.locator("main .saved")).to_be_visible()
        self.shot(page, f"pin-{name}")


@pytest.fixture
def walk(browser: Browser, server: Server, tmp_path: Path, contexts: list[BrowserContext],
         csp_violations: list[dict[str, object]]) -> Walk:
    folder = tmp_path / "screens"
    folder.mkdir()
    return Walk(browser, server, folder, contexts, csp_violations)


def _step_done(page: Page, code: str) -> None:
    expect(page.locator(f".bo-steps li[data-step={code}]")).to_have_attribute("data-done", "yes")


def test_from_an_empty_database_to_a_validated_order(walk: Walk) -> None:
    admin = walk.phone()

    # Sign up, confirm by the logged link, sign in, name the company.
    walk.go(admin, "/signup")
    admin.fill("input[name=email]", ADMIN[0])
    admin.fill("input[name=password]", ADMIN[1])
    admin.click("form button[type=submit]")
    admin.wait_for_url("**/signup?sent=1")
    walk.shot(admin, "signup-sent")
    walk.go(admin, walk.mailed("/signup/confirm/", ADMIN[0]))
    expect(admin.locator("h1")).to_contain_text("confirmée")
    walk.sign_in(admin, ADMIN)
    admin.wait_for_url("**/signup/company")
    admin.fill("input[name=company]", "Le Zinc")
    admin.fill("input[name=name]", "Zoé Martin")
    walk.shot(admin, "company-new")
    admin.click("form button[type=submit]")
    admin.wait_for_url(re.compile(r"/(staff|backoffice)$"))

    # The checklist: everything to do.
    walk.go(admin, "/backoffice")
    expect(admin.locator(".bo-steps li")).to_have_count(9)
    # The count and the warning are two sentences, not "9.Il reste…".
    expect(admin.locator("main .bo-section > p").first).to_contain_text("sur 9. Il reste 4")
    walk.shot(admin, "checklist-empty")

    # A site with its address.
    walk.go(admin, "/backoffice/company")
    site_form = admin.locator("#site-form")
    site_form.locator("input[name=name]").fill("Le Zinc – Gare")
    site_form.locator("input[name=address]").fill("1 place de la Gare, 69000 Lyon")
    site_form.locator("select[name=table_mode]").select_option("order")
    site_form.locator("button[type=submit]").click()
    site_row = admin.locator("#sites tr[data-site]")
    expect(site_row).to_have_count(1)
    site_id = int(site_row.get_attribute("data-site") or "0")
    walk.shot(admin, "site")

    # Tables T1–T5 as a range.
    walk.go(admin, "/backoffice/tables")
    admin.fill("input[name=range]", "T1–T5")
    admin.locator("input[name=range]").locator("xpath=ancestor::form").locator(
        "button[type=submit]").click()
    expect(admin.locator(".tables-list input[name=label]")).to_have_count(5)
    walk.shot(admin, "tables")

    # The categories the template's rows use, then the template itself: checked, applied.
    for name, station in (("Cafés", "bar"), ("Petit-déjeuner", "kitchen")):
        walk.go(admin, f"/backoffice/menu/{site_id}/categories/new")
        admin.fill("main input[name=name]", name)
        admin.fill("main input[name=station]", station)
        admin.click("main form button[type=submit]")
        admin.wait_for_url(re.compile(rf"/backoffice/menu/{site_id}(\?.*)?$"))
    walk.go(admin, f"/backoffice/menu/{site_id}")
    admin.click(f"a[href='/backoffice/menu/{site_id}/import']")
    admin.wait_for_url(f"**/backoffice/menu/{site_id}/import")
    with admin.expect_download() as download:
        admin.click("a[href='/backoffice/menu/template.xlsx']")
    workbook = walk.folder.parent / "menu-template.xlsx"
    download.value.save_as(workbook)
    admin.set_input_files("input[name=file]", str(workbook))
    admin.click(f"button[hx-post='/backoffice/menu/{site_id}/import/preview']")
    preview = admin.locator("#import-result .notice")
    expect(preview).to_have_attribute("data-created", "2")
    walk.shot(admin, "menu-import-preview")
    admin.click(f"button[hx-post='/backoffice/menu/{site_id}/import/apply']")
    expect(admin.locator("#import-result .notice.ok")).to_have_attribute("data-created", "2")
    walk.go(admin, f"/backoffice/menu/{site_id}")
    expect(admin.locator(".menu-products tbody tr")).to_have_count(2)
    walk.shot(admin, "menu")

    # A supervisor and a cashier, invited; each accepts, signs in and sets a PIN.
    for (email, password), name, role, pin in (
        (SUPERVISOR, "Sam", "supervisor", "4821"), (CASHIER, "Cléo", "cashier", "7305"),
    ):
        walk.go(admin, "/backoffice/staff/new")
        admin.fill("main input[name=name]", name)
        admin.fill("main input[name=email]", email)
        admin.select_option("main select[name=role]", role)
        admin.check("main input[name=all_sites]")
        admin.click("main form button[type=submit]")
        admin.wait_for_url("**/backoffice/staff")
        member = walk.phone()
        walk.go(member, walk.mailed("/staff/invite/", email))
        member.fill("input[name=password]", password)
        member.click("main form button[type=submit]")
        member.wait_for_url("**/backoffice/pin")  # signed in, on to choose their PIN
        walk.set_pin(member, pin, role)
        if role == "cashier":
            cashier = member
        else:
            member.context.close()
            walk.contexts.remove(member.context)
    walk.go(admin, "/backoffice/staff")
    walk.shot(admin, "staff")

    # The admin's own PIN.
    walk.set_pin(admin, "1357", "admin")

    # The test payment provider.
    walk.go(admin, "/staff/machines/payments")
    admin.select_option("select[name=provider]", "test")
    with admin.expect_navigation():  # saved, the page reloads with the settings in force
        admin.click(".payment-settings button[type=submit]")
    expect(admin.locator(".payment-settings")).to_have_attribute("data-provider", "test")

    # A launch date five days ahead.
    walk.go(admin, "/backoffice/company")
    launch = (date.today() + timedelta(days=6)).isoformat()
    admin.fill("#company-form input[name=launch_on]", launch)
    admin.click("#company-form button[type=submit]")
    expect(admin.locator("#company-form .bo-saved")).to_be_visible()

    # The checklist: every step needed to sell is done.
    walk.go(admin, "/backoffice")
    for code in ("site", "tables", "menu", "supervisor", "pins", "payment", "launch"):
        _step_done(admin, code)
    expect(admin.locator(".bo-steps .bo-tag")).to_have_count(0)
    walk.shot(admin, "checklist-ready")

    # T1's QR URL: the sheet shows only images, so read it from the table codes.
    codes = admin.request.get(f"{walk.server.url}/api/v1/staff/sites/{site_id}/table-codes")
    assert codes.ok, codes.text()
    t1 = next(t for t in codes.json()["tables"] if t["label"] == "T1")

    # The cashier's POS, open before the order arrives.
    walk.go(cashier, f"/pos/{site_id}")
    actions.wait_live(cashier)

    # A diner at T1 orders and sends.
    diner = walk.phone()
    actions.start(diner, t1["url"], "Léa")
    espresso = diner.locator("#menu-live .product").filter(has_text="Espresso")
    product_id = int(espresso.first.get_attribute("data-product") or "0")
    actions.add(diner, product_id, quantity=2)
    walk.shot(diner, "diner-cart")
    actions.send(diner)
    first = actions.my_round(diner, 1)
    expect(first).to_have_count(1)

    # The cashier validates it on the POS; the phone sees it.
    waiting = actions.pos_round(cashier, "T1")
    expect(waiting).to_have_count(1)
    walk.shot(cashier, "pos")
    waiting.locator("button.validate").click()
    expect(waiting).to_have_count(0)
    expect(first).to_have_class(re.compile(r"\bstatus-validated\b"))
    walk.shot(diner, "diner-validated")
    walk.shot(cashier, "pos-validated")


