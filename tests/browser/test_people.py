"""The people pages in a browser, on a tablet (1024×768) and a phone (390×844): an
administrator searches, approves two waiting people at once with a role and a group,
invites a customer (who follows the mailed link, read from the server's log as no mail
server is set, chooses a password and lands signed in), renames them, and deletes their
account after the page that says what goes. No page is wider than the screen, and every
control is at least 44 px high."""

from __future__ import annotations

import asyncio
import re
import sqlite3
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect
from sqlalchemy import select

from customers.models import Consumer, GroupMember, UserGroup
from db.engine import make_engine, make_sessionmaker
from tests.browser.conftest import ADMIN, TIMEOUT_MS, Template, watch_policy
from tests.browser.test_backoffice import overflow, shot
from tests.conftest import Server

pytestmark = pytest.mark.browser

SCREENS = {"tablet": {"width": 1024, "height": 768}, "phone": {"width": 390, "height": 844}}
WAITING = ("Anna Lambert", "Bruno Petit")

# Every control a finger uses on these pages: links of lists and actions, buttons, fields,
# and the labels that hold a tick box.
_SMALL = """() => [...document.querySelectorAll(
    '.bo-main button, .bo-main a.button, .bo-list a, .bo-tabs a, .bo-pager a, ' +
    '.bo-form-actions a, .bo-main select, ' +
    '.bo-main input:not([type=hidden]):not([type=checkbox]), ' +
    '.tick-box, .bo-confirm, .bo-choices label, main form button, main input[type=password]')]
    .filter((e) => e.offsetParent !== null && e.getBoundingClientRect().height < 44)
    .map((e) => e.outerHTML.slice(0, 80))"""


def _fits(page: Page, what: str, screen: str) -> None:
    assert overflow(page) == 0, (what, screen)
    assert page.evaluate(_SMALL) == [], (what, screen)
    page.screenshot(path=shot(f"people-{what}-{screen}.png"), full_page=True)


async def _add_waiting(url: str) -> None:
    engine = make_engine(url)
    try:
        async with make_sessionmaker(engine)() as session, session.begin():
            company = await session.scalar(select(UserGroup.company_id))
            session.add_all(Consumer(
                company_id=company, email=f"{name.split()[0].lower()}@exemple.fr", name=name,
                password_hash="x", email_confirmed=True, verified=False) for name in WAITING)
    finally:
        await engine.dispose()


async def _read(url: str, email: str) -> tuple[Consumer | None, list[int]]:
    engine = make_engine(url)
    try:
        async with make_sessionmaker(engine)() as session:
            found = await session.scalar(select(Consumer).where(Consumer.email == email))
            groups = [] if found is None else list((await session.scalars(
                select(GroupMember.group_id).where(GroupMember.consumer_id == found.id))).all())
            return found, groups
    finally:
        await engine.dispose()


def _in_thread(work: Callable[[], object]) -> object:
    """Database work on its own loop: Playwright's sync API holds this thread's."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(work).result()


@pytest.fixture
def server(tmp_path: Path, seeded_template: Template) -> Iterator[tuple[Server, str]]:
    """The demo with two people waiting for approval; mail goes to the server's log."""
    db_path = tmp_path / "browser.db"
    with closing(sqlite3.connect(seeded_template.path)) as source, closing(
        sqlite3.connect(db_path)
    ) as target:
        source.backup(target)
    url = f"sqlite+aiosqlite:///{db_path}"
    _in_thread(lambda: asyncio.run(_add_waiting(url)))
    running = Server(env={"DATABASE_URL": url, "MACHINE_SWEEP_S": "0.2", "SMTP_URL": ""})
    try:
        yield running, url
    finally:
        running.stop()
        print(running.logs)


def _browser_at(browser: Browser, contexts: list[BrowserContext],
                violations: list[dict[str, object]], screen: dict[str, int]) -> Page:
    context = browser.new_context(viewport=screen, locale="fr-FR",  # type: ignore[arg-type]
                                  has_touch=True, is_mobile=screen["width"] < 600)
    watch_policy(context, violations)
    context.set_default_timeout(TIMEOUT_MS)
    contexts.append(context)
    return context.new_page()


def _logged_link(server: Server) -> str:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        found = re.search(r"https?://[^\s]+(/account/invite/[\w-]+)", server.logs)
        if found:
            return found.group(1)
        time.sleep(0.1)
    raise AssertionError("no invitation link in the server's log")


@pytest.mark.parametrize("screen", list(SCREENS))
def test_search_approve_invite_edit_and_delete_people(
    screen: str, server: tuple[Server, str], browser: Browser,
    contexts: list[BrowserContext], csp_violations: list[dict[str, object]],
) -> None:
    running, url = server
    base = running.url
    admin = _browser_at(browser, contexts, csp_violations, SCREENS[screen])
    admin.goto(f"{base}/staff/login")
    admin.fill("input[name=email]", ADMIN[0])
    admin.fill("input[name=password]", ADMIN[1])
    admin.click("form button[type=submit]")
    admin.wait_for_url(f"{base}/pos/**")

    # Search.
    admin.goto(f"{base}/backoffice/people")
    rows = admin.locator(".people-list tbody tr")
    expect(rows).to_have_count(3)  # the demo's customer and the two waiting
    _fits(admin, "list", screen)
    admin.fill("input[name=q]", "petit")
    admin.locator("form[role=search] button[type=submit]").click()
    admin.wait_for_url(re.compile(r".*q=petit"))
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Bruno Petit")

    # Approve both waiting at once, as staff, into the demo's group.
    admin.locator(".bo-tabs a[href$='waiting=1']").click()
    admin.wait_for_url(re.compile(r".*waiting=1"))
    expect(rows).to_have_count(2)
    _fits(admin, "queue", screen)
    for row in range(2):
        rows.nth(row).locator(".tick-box").click()
    admin.select_option("select[name=role]", "staff")
    group = admin.locator("select[name=group] option").nth(1)
    group_id = int(group.get_attribute("value") or "0")
    admin.select_option("select[name=group]", str(group_id))
    admin.locator(".bo-approve button[type=submit]").click()
    expect(admin.locator(".people-list td.empty")).to_be_visible()
    for name in WAITING:
        found, groups = _in_thread(lambda n=name: asyncio.run(  # type: ignore[misc]
            _read(url, f"{n.split()[0].lower()}@exemple.fr")))
        assert found is not None and found.verified and found.role == "staff"
        assert groups == [group_id]

    # Invite a customer; they follow the mailed link on their phone.
    admin.goto(f"{base}/backoffice/people")
    admin.locator("a[href='/backoffice/people/invite']").click()
    admin.wait_for_url(f"{base}/backoffice/people/invite")
    _fits(admin, "invite", screen)
    admin.fill("input[name=name]", "Inès Moreau")
    admin.fill("input[name=email]", "ines@exemple.fr")
    admin.locator("main form button[type=submit]").click()
    admin.wait_for_url(re.compile(r".*/backoffice/people/\d+\?invited=sent"))
    expect(admin.locator(".notice.ok")).to_contain_text("ines@exemple.fr")
    _fits(admin, "person", screen)
    link = _logged_link(running)
    invited = _browser_at(browser, contexts, csp_violations, SCREENS["phone"])
    invited.goto(f"{base}{link}")
    expect(invited.locator("main")).to_contain_text("ines@exemple.fr")
    _fits(invited, "accept", "phone")
    invited.fill("input[name=password]", "un long mot de passe")
    invited.locator("main form button[type=submit]").click()
    invited.wait_for_url(f"{base}/account")
    expect(invited.locator("main")).to_contain_text("Inès Moreau")

    # Edit: a new name.
    admin.reload()
    admin.fill("input[name=name]", "Inès Moreau-Roy")
    admin.locator("main form.bo-form button[type=submit]").click()
    expect(admin.locator(".bo-title, h1").first).to_contain_text("Inès Moreau-Roy")

    # Delete: the page says what goes, then asks to tick before it deletes.
    admin.locator("a.button.danger").click()
    admin.wait_for_url(re.compile(r".*/delete$"))
    expect(admin.locator(".bo-danger-zone li")).to_have_count(4)
    _fits(admin, "delete", screen)
    admin.locator("main form button.danger").click()  # not ticked: the browser refuses
    expect(admin.locator("main form button.danger")).to_be_visible()
    assert _in_thread(lambda: asyncio.run(_read(url, "ines@exemple.fr")))[0] is not None  # type: ignore[index]
    admin.locator(".bo-confirm").click()
    admin.locator("main form button.danger").click()
    admin.wait_for_url(f"{base}/backoffice/people")
    expect(admin.locator(".people-list")).not_to_contain_text("ines@exemple.fr")
    assert _in_thread(lambda: asyncio.run(_read(url, "ines@exemple.fr")))[0] is None  # type: ignore[index]
