"""Adding a machine in a browser, at a tablet's and a phone's size: the wizard's three steps
(a wrong serial refused next to its field), then the device secret, shown once: reloading,
going back or coming again never shows it."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import ADMIN, Venue
from tests.browser.test_backoffice import overflow, shot, small_targets

pytestmark = pytest.mark.browser
SIZES = {"tablet": {"width": 1024, "height": 768}, "phone": {"width": 390, "height": 844}}


def _walk(admin: Page, url: str, name: str, serial: str) -> str:
    """The wizard from the machines list to the secret; the secret."""
    admin.goto(f"{url}/staff/machines")
    admin.get_by_role("link", name="Ajouter une machine").click()
    expect(admin.locator("[data-step=model]")).to_be_visible()
    admin.screenshot(path=shot(f"machine-wizard-model-{name}.png"), full_page=True)
    admin.select_option("#f-model", "Jura X8")
    admin.get_by_role("button", name="Étape suivante").click()
    expect(admin.locator("[data-step=serial]")).to_be_visible()
    admin.fill("#f-serial", "pas un numéro")
    admin.get_by_role("button", name="Étape suivante").click()
    expect(admin.locator("#e-serial")).to_contain_text("numéro de série")
    expect(admin.locator("#f-serial")).to_be_focused()
    admin.screenshot(path=shot(f"machine-wizard-serial-error-{name}.png"), full_page=True)
    assert overflow(admin) == 0, name
    admin.fill("#f-serial", serial)
    admin.get_by_role("button", name="Étape suivante").click()
    expect(admin.locator("[data-step=place]")).to_be_visible()
    admin.fill("#f-name", f"Machine {name}")
    admin.select_option("#f-site_id", label="Café de la Gare")
    admin.select_option("#f-mode", "prepaid")
    assert small_targets(admin) == [], name
    admin.screenshot(path=shot(f"machine-wizard-place-{name}.png"), full_page=True)
    admin.get_by_role("button", name="Ajouter la machine").click()
    secret = admin.locator("#device-secret")
    expect(secret).to_be_visible()
    admin.screenshot(path=shot(f"machine-wizard-secret-{name}.png"), full_page=True)
    assert overflow(admin) == 0, name
    text = secret.text_content() or ""
    assert re.fullmatch(r"cm\d+_[\w-]{20,}", text), text
    return text


def test_the_wizard_adds_a_machine_and_shows_its_secret_once(
    venue_server: Venue, staff: Callable[[tuple[str, str]], Page]
) -> None:
    admin = staff(ADMIN)
    for number, (name, size) in enumerate(SIZES.items()):
        admin.set_viewport_size(size)
        secret = _walk(admin, venue_server.url, name, f"JX8-B{number}")
        expect(admin.locator(".bo-qr svg")).to_be_visible()
        admin.reload()  # the wizard's address: its first step, no secret
        expect(admin.locator("[data-step=model]")).to_be_visible()
        assert secret not in admin.content()
        admin.go_back()  # the page before; then forward again: still no secret
        admin.go_forward()
        assert secret not in admin.content()
        admin.goto(f"{venue_server.url}/staff/machines")
        expect(admin.get_by_text(f"Machine {name}")).to_be_visible()
        assert secret not in admin.content()
        admin.go_back()
        assert secret not in admin.content()
