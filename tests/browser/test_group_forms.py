"""The groups page's forms in a browser, at a phone's size: a recharge typed the French way
is saved; a wrong amount is refused next to its field, the rest of the page as it was."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import ADMIN, Venue
from tests.browser.test_backoffice import overflow, shot

pytestmark = pytest.mark.browser


def test_a_recharge_and_the_top_up_amounts_are_set_from_a_phone(
    venue_server: Venue, staff: Callable[[tuple[str, str]], Page]
) -> None:
    admin = staff(ADMIN)
    admin.set_viewport_size({"width": 390, "height": 844})
    admin.goto(f"{venue_server.url}/staff/groups")
    group = admin.locator("form.group-settings").first
    group.locator("select[name=recharge_every]").select_option("week")
    group.locator("input[name=recharge_amount]").fill("2,505")
    group.get_by_role("button", name="Enregistrer").click()
    refused = admin.locator("form.group-settings [aria-invalid=true]")
    expect(refused).to_have_attribute("name", "recharge_amount")
    message = admin.locator("form.group-settings [data-error-for=recharge_amount]").first
    expect(message).to_contain_text("Indiquez un montant comme 2,50")
    admin.screenshot(path=shot("groups-recharge-error-phone.png"), full_page=True)
    assert overflow(admin) == 0
    admin.locator("form.group-settings input[name=recharge_amount]").first.fill("2,50")
    admin.locator("form.group-settings").first.get_by_role("button", name="Enregistrer").click()
    expect(admin.locator("form.group-settings input[name=recharge_amount]").first).to_have_value(
        "2,50")
    expect(admin.locator("form.group-settings [aria-invalid=true]")).to_have_count(0)
    expect(admin.locator("form.group-settings [data-saved]")).to_be_visible()
    topups = admin.locator("form.topups")
    topups.locator("input[name=topup-3]").fill("7,5")
    topups.get_by_role("button", name="Enregistrer").click()
    expect(admin.locator("form.topups input[name=topup-1]")).to_have_value("7,50")
    admin.screenshot(path=shot("groups-phone.png"), full_page=True)
    assert overflow(admin) == 0
