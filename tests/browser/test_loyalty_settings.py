"""A manager sets loyalty up on a 390 px phone: the rules (a mistake named next to its field,
then saved, with a confirmation), then a reward typed the French way, archived and brought
back; every page fits the phone and its controls are touchable."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import ADMIN, PHONE, Venue, fits

pytestmark = pytest.mark.browser


def test_a_manager_sets_the_rules_and_a_reward_up_on_a_phone(
    staff: Callable[..., Page], venue_server: Venue
) -> None:
    admin = staff(ADMIN, viewport=PHONE, touch=True)
    admin.on("dialog", lambda dialog: dialog.accept())
    admin.goto(f"{venue_server.url}/backoffice/loyalty/settings")
    fits(admin)
    form = admin.locator("#loyalty-rules")
    form.locator("input[name=enabled]").check()
    admin.fill("#f-points_per_visit", "-1")
    admin.fill("#f-points_per_unit", "1")
    admin.fill("#f-min_delay", "2")
    admin.select_option("select[name=min_delay_unit]", "hours")
    form.locator("button[type=submit]").click()
    expect(admin.locator("#e-points_per_visit")).not_to_be_empty()
    fits(admin)
    admin.fill("#f-points_per_visit", "2")
    admin.locator("#loyalty-rules button[type=submit]").click()
    expect(admin.locator(".bo-saved[role=status]")).to_be_visible()
    expect(admin.locator("#f-min_delay")).to_have_value("2")

    admin.locator(".bo-tabs a[href='/backoffice/loyalty/rewards']").click()
    expect(admin.locator(".bo-empty")).to_be_visible()
    fits(admin)
    admin.locator("a[href='/backoffice/loyalty/rewards/new']").click()
    admin.wait_for_url(f"{venue_server.url}/backoffice/loyalty/rewards/new")
    fits(admin)
    admin.fill("#f-name", "Deux euros cinquante")
    admin.fill("#f-cost_points", "30")
    admin.fill("#f-amount", "2,50")
    admin.fill("#f-venue_cost", "2,50")
    admin.locator("#reward-form button[type=submit]").click()
    row = admin.locator("#offered tr[data-reward]")
    expect(row).to_have_count(1)
    expect(row.locator("[data-effect]")).to_contain_text("2,50")
    expect(row.locator("[data-effect]")).to_contain_text("de remise")
    fits(admin)
    row.locator("form.confirm button").click()
    expect(admin.locator("#archived tr[data-archived]")).to_have_count(1)
    expect(admin.locator("#offered .bo-empty")).to_be_visible()
    fits(admin)
    admin.locator("#archived form button[type=submit]").click()
    expect(admin.locator("#offered tr[data-reward]")).to_have_count(1)
