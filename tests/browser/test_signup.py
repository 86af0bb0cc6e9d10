"""A newcomer starts from nothing on a phone (390 px): signs up, is told what is wrong next
to the field, cannot sign in before confirming, confirms by the link the server wrote to its
log (no mail server, as in the demo), signs in, names the company and lands signed in as its
admin; another phone then signs in as that admin. Nothing is refused by the policy, nothing
is wider than the screen, and the controls are big enough for a thumb."""

from __future__ import annotations

import re
import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import closing
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import Template
from tests.conftest import Server

pytestmark = pytest.mark.browser

Phone = Callable[..., Page]
EMAIL, PASSWORD = "zoe@example.com", "un long mot de passe"


@pytest.fixture
def server(tmp_path: Path, seeded_template: Template) -> Iterator[Server]:
    """The demo database, served without a mail server: mail goes to the server's log."""
    db_path = tmp_path / "browser.db"
    with closing(sqlite3.connect(seeded_template.path)) as source, closing(
        sqlite3.connect(db_path)
    ) as target:
        source.backup(target)
    running = Server(env={"DATABASE_URL": f"sqlite+aiosqlite:///{db_path}",
                          "MACHINE_SWEEP_S": "0.2", "SMTP_URL": ""})
    try:
        yield running
    finally:
        running.stop()
        print(running.logs)


def _logged_link(server: Server) -> str:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        found = re.search(r"https?://[^\s]+(/signup/confirm/[\w-]+)", server.logs)
        if found:
            return found.group(1)
        time.sleep(0.1)
    raise AssertionError("no confirmation link in the server's log")


def _fits_and_thumb_sized(page: Page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    small = page.evaluate("""() => [...document.querySelectorAll(
        '.account-form input:not([type=hidden]), .account-form select, .account-form button')]
        .filter((el) => el.getBoundingClientRect().height < 44).map((el) => el.outerHTML)""")
    assert small == []


def test_sign_up_to_the_first_admin_sign_in_on_a_phone(server: Server, phone: Phone) -> None:
    base = server.url
    page = phone()
    page.goto(f"{base}/signup")
    _fits_and_thumb_sized(page)

    # A refused field says why, next to it, in French.
    page.fill("input[name=email]", EMAIL)
    page.fill("input[name=password]", "court")
    page.click("form button[type=submit]")
    error = page.locator("[data-error-for=password]")
    expect(error).to_be_visible()
    expect(error).to_contain_text("8 à 200 caractères")
    expect(page.locator("input[name=password]")).to_have_attribute("aria-invalid", "true")

    page.fill("input[name=password]", PASSWORD)
    page.click("form button[type=submit]")
    page.wait_for_url(f"{base}/signup?sent=1")
    expect(page.locator(".sent")).to_be_visible()
    link = _logged_link(server)

    # Not confirmed yet: the sign-in says so.
    page.goto(f"{base}/staff/login")
    _fits_and_thumb_sized(page)
    page.fill("input[name=email]", EMAIL)
    page.fill("input[name=password]", PASSWORD)
    page.click("form button[type=submit]")
    expect(page.locator("[data-error-for=form]")).to_contain_text("Confirmez d'abord")

    page.goto(f"{base}{link}")
    expect(page.locator("h1")).to_contain_text("confirmée")
    page.click("a.button")
    page.wait_for_url(f"{base}/staff/login")
    page.fill("input[name=email]", EMAIL)
    page.fill("input[name=password]", PASSWORD)
    page.click("form button[type=submit]")
    page.wait_for_url(f"{base}/signup/company")
    _fits_and_thumb_sized(page)

    page.fill("input[name=company]", "Le Zinc")
    page.fill("input[name=name]", "Zoé Martin")
    page.select_option("select[name=currency]", "CHF")
    page.select_option("select[name=timezone]", "Europe/Zurich")
    page.click("form button[type=submit]")
    page.wait_for_url(f"{base}/backoffice")  # the getting-started checklist
    expect(page.locator("main")).to_contain_text("Le Zinc")
    _fits_and_thumb_sized(page)

    # The first sign-in as the admin, on another phone.
    other = phone()
    other.goto(f"{base}/staff/login")
    other.fill("input[name=email]", EMAIL)
    other.fill("input[name=password]", PASSWORD)
    other.click("form button[type=submit]")
    other.wait_for_url(f"{base}/backoffice")
    expect(other.locator("main")).to_contain_text("Le Zinc")
