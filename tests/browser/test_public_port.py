"""Another port, no PUBLIC_URL (as `PORT=8200 make demo`): what a browser is shown and sent
names the port the server listens on, never :8000 (issue 14, item 3).

A phone signs up and follows the confirmation link the server wrote to its log; an
administrator reads the payment provider's webhook address; the machine's display shows the
address its QR code encodes. tests/test_public_url.py runs `comptoir demo` itself and checks
the printed addresses and the tables' QR codes."""

from __future__ import annotations

import re
import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import closing
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import ADMIN, Template
from tests.conftest import Server

pytestmark = pytest.mark.browser

Phone = Callable[..., Page]


@pytest.fixture
def server(tmp_path: Path, seeded_template: Template) -> Iterator[Server]:
    db_path = tmp_path / "browser.db"
    with closing(sqlite3.connect(seeded_template.path)) as source, closing(
        sqlite3.connect(db_path)
    ) as target:
        source.backup(target)
    running = Server(env={"DATABASE_URL": f"sqlite+aiosqlite:///{db_path}", "SMTP_URL": ""},
                     public_url=False)
    try:
        yield running
    finally:
        running.stop()


def _logged_link(server: Server) -> str:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        found = re.search(r"https?://\S+/signup/confirm/[\w-]+", server.logs)
        if found:
            return found.group(0)
        time.sleep(0.1)
    raise AssertionError("no confirmation link in the server's log")


def test_links_shown_and_mailed_follow_the_port_listened_on(
    server: Server, phone: Phone, seeded_template: Template
) -> None:
    base = server.url
    assert not base.endswith(":8000")
    page = phone()
    page.goto(f"{base}/signup")
    page.fill("input[name=email]", "zoe@example.com")
    page.fill("input[name=password]", "un long mot de passe")
    page.click("form button[type=submit]")
    page.wait_for_url(f"{base}/signup?sent=1")
    link = _logged_link(server)
    assert link.startswith(f"{base}/signup/confirm/"), link
    page.goto(link)  # the mailed link opens, on this port
    expect(page.locator("h1")).to_contain_text("confirmée")

    token = seeded_template.demo.machines[0].token
    page.goto(f"{base}/m/{token}/display")
    expect(page.locator(".url")).to_have_text(f"{base}/m/{token}")

    admin = phone()
    admin.goto(f"{base}/staff/login")
    admin.fill("input[name=email]", ADMIN[0])
    admin.fill("input[name=password]", ADMIN[1])
    admin.click("form button[type=submit]")
    admin.wait_for_url(re.compile(r".*/(pos|backoffice)/?.*"))
    admin.goto(f"{base}/staff/machines/payments")
    webhook = admin.locator("code", has_text="/api/v1/")
    expect(webhook.first).to_contain_text(f"{base}/api/v1/")
    assert ":8000" not in admin.content() and ":8000" not in page.content()
