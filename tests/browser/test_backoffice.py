"""The back office in a browser: its home at a phone's, a tablet's and a desk's width,
nothing wider than the screen, touch targets of 44 px; a form's refusal shown next to its
field; archiving asks first."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import ADMIN, SCREENSHOTS, Venue

pytestmark = pytest.mark.browser
WIDTHS = {"phone": 390, "tablet": 768, "desk": 1280}
SCRATCH = Path(tempfile.gettempdir()) / "comptoir-screenshots"


# The ones the README shows; `make screenshots` retakes them into docs/screenshots.
README_SHOTS = {"backoffice-desk.png", "backoffice-phone.png", "station-1920x1080.png"}


def shot(name: str) -> Path:
    """The README's folder for its pictures with `make screenshots`, else a scratch folder."""
    wanted = os.environ.get("COMPTOIR_SCREENSHOTS") and name in README_SHOTS
    folder = SCREENSHOTS if wanted else SCRATCH
    folder.mkdir(parents=True, exist_ok=True)
    return folder / name


def overflow(page: Page) -> int:
    """How many pixels the page is wider than the screen (0: none)."""
    return int(page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"))


def small_targets(page: Page) -> list[str]:
    """The visible links and buttons of the back office shorter than 44 px."""
    found: list[str] = page.evaluate("""() => [...document.querySelectorAll(
        '.bo-nav a, .bo-steps a, .bo-main button, .bo-list a')]
        .filter((e) => e.offsetParent !== null && e.getBoundingClientRect().height < 44)
        .map((e) => e.textContent.trim())""")
    return found


def test_the_home_fits_a_phone_a_tablet_and_a_desk(
    venue_server: Venue, staff: Callable[[tuple[str, str]], Page]
) -> None:
    admin = staff(ADMIN)
    for name, width in WIDTHS.items():
        admin.set_viewport_size({"width": width, "height": 900})
        admin.goto(f"{venue_server.url}/backoffice")
        expect(admin.locator(".bo-steps li")).to_have_count(9)
        assert overflow(admin) == 0, name
        assert small_targets(admin) == [], name
        admin.screenshot(path=shot(f"backoffice-{name}.png"), full_page=True)
    # Every other page keeps the checklist's progress in reach; forms and lists fit a phone.
    for name, width in WIDTHS.items():
        admin.set_viewport_size({"width": width, "height": 900})
        for page in ("company", "audit", "machines"):
            path = "/staff/machines" if page == "machines" else f"/backoffice/{page}"
            admin.goto(f"{venue_server.url}{path}")
            expect(admin.locator(".bo-nav .bo-progress progress")).to_be_visible()  # fetched
            assert overflow(admin) == 0, (page, name)
            if page != "machines":  # the machines' own small buttons: as they were
                assert small_targets(admin) == [], (page, name)
            admin.screenshot(path=shot(f"backoffice-{page}-{name}.png"), full_page=True)


def test_a_refused_field_is_shown_next_to_it_and_archiving_asks_first(
    venue_server: Venue, staff: Callable[[tuple[str, str]], Page]
) -> None:
    admin = staff(ADMIN)
    admin.goto(f"{venue_server.url}/backoffice/company")
    form = admin.locator("#company-form")
    form.locator("input[name=name]").fill("")
    form.locator("input[name=timezone]").fill("Europe/Atlantis")
    form.locator("button[type=submit]").click()
    expect(admin.locator("#company-form [data-error-for=name]")).not_to_be_empty()
    expect(admin.locator("#company-form [data-error-for=timezone]")).not_to_be_empty()
    expect(admin.locator("#company-form input[name=timezone]")).to_have_value("Europe/Atlantis")
    expect(admin.locator("#company-form input[name=name]")).to_be_focused()

    admin.locator(f"a[href='/backoffice/sites/{venue_server.site_id}']").first.click()
    asked: list[str] = []

    def dismiss(dialog: object) -> None:
        asked.append(dialog.message)  # type: ignore[attr-defined]
        dialog.dismiss()  # type: ignore[attr-defined]

    admin.once("dialog", dismiss)
    admin.locator("button.bo-danger").click()
    expect(admin.locator("button.bo-danger")).to_be_visible()
    assert asked and "Café de la Gare" in asked[0]
    admin.once("dialog", lambda dialog: dialog.accept())
    with admin.expect_navigation(url=f"{venue_server.url}/backoffice/company"):
        admin.locator("button.bo-danger").click()
    expect(admin.locator("tr[data-archived]")).to_have_count(1)
