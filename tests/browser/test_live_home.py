"""The back office's home shows the day as it happens: a diner's round sent from a phone, a
sale at a till, a simulated coffee machine coming online and brewing, reach the manager's
home without a reload, each within a second (two allowed here, for a loaded test
machine)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from playwright.sync_api import Page, expect

from demo.seed import PINS
from machines.simulator import Behaviour
from tests.browser import actions
from tests.browser.conftest import ADMIN, DESK, PHONE, TABLET, Template, Venue, fits
from tests.browser.test_machines import Simulator

pytestmark = pytest.mark.browser
LIVE_MS = 2_000


@pytest.fixture
def venue_env() -> dict[str, str]:
    return {"MACHINE_HEARTBEAT_S": "1"}


@pytest.fixture
def simulator() -> Iterator[Simulator]:
    running = Simulator()
    yield running
    running.stop()


def _kpi(home: Page, name: str) -> object:
    return home.locator(f"#live-day .kpi-{name}").first


def _secret(home: Page, machine_id: str) -> str:
    """A new secret for the machine, as its page's button asks it (the administrator's)."""
    csrf = home.evaluate("JSON.parse(document.body.getAttribute('hx-headers'))['X-CSRF-Token']")
    answer = home.request.post(f"{home.url.split('/backoffice')[0]}/api/v1/staff/machines/"
                               f"{machine_id}/secret", headers={"X-CSRF-Token": csrf}, data={})
    assert answer.ok, answer.text()
    secret: str = answer.json()["secret"]
    return secret


def test_the_home_follows_a_phone_a_till_and_a_machine_live(
    venue_server: Venue, seeded_template: Template, staff: Callable[..., Page],
    phone: Callable[..., Page], paired_till: Callable[..., Page], simulator: Simulator,
) -> None:
    till = paired_till("Chloé Caisse", PINS["caisse@cafe-de-la-gare.fr"])
    home = staff(ADMIN)
    home.goto(f"{venue_server.url}/backoffice")
    actions.wait_live(home)
    waiting = _kpi(home, "waiting-rounds")
    expect(waiting).to_have_attribute("data-value", "0")
    expect(_kpi(home, "machines-online")).to_have_attribute("data-value", "0")
    expect(_kpi(home, "revenue")).to_have_attribute("data-value", "0")

    # A sale at the till: two croissants by card, in the day's revenue at once.
    till.locator("a.till-action[href='/till/sell']").click()
    croissant = till.locator(f".sell-tile[data-product='{venue_server.products['Croissant']}']")
    croissant.click()
    croissant.click()
    price = 2 * int(croissant.get_attribute("data-price") or 0)
    till.locator("#sell-pay").click()
    till.locator("#pay-card").click()
    till.locator("#pay-confirm").click()
    expect(till.locator("#done-number")).to_be_visible()
    expect(_kpi(home, "revenue")).to_have_attribute("data-value", str(price), timeout=LIVE_MS)
    expect(_kpi(home, "tickets")).to_have_attribute("data-value", "1")
    counter = home.locator("#live-day [data-by='channel'] [data-key='counter'] .amount")
    expect(counter).to_have_attribute("data-value", str(price))

    # A diner sends a round from a phone: it waits for validation, on the home at once.
    diner = phone()
    actions.start(diner, venue_server.table_url(2), "Léa")
    expect(_kpi(home, "open-tables")).to_have_attribute("data-value", "1", timeout=LIVE_MS)
    actions.add(diner, venue_server.products["Croissant"])
    actions.send(diner)
    expect(waiting).to_have_attribute("data-value", "1", timeout=LIVE_MS)
    expect(home.locator("#live-day .live-waiting li[data-table='Table 3']")).to_be_visible()
    expect(_kpi(home, "orders")).to_have_attribute("data-value", "1")

    # The hall's machine is switched on: online, live.
    hall = next(m for m in seeded_template.demo.machines if m.mode == "open")
    row = home.locator("#live-day .live-machine-list li", has_text=hall.name)
    machine_id = row.get_attribute("data-machine-id")
    assert machine_id is not None
    simulator.start(venue_server.url, _secret(home, machine_id), Behaviour(speed=4, steps=5))
    expect(row).to_have_attribute("data-online", "yes", timeout=LIVE_MS)
    expect(_kpi(home, "machines-online")).to_have_attribute("data-value", "1")

    # Someone at the machine asks for an espresso: brewing, then done, live.
    drinker = phone()
    drinker.goto(f"{venue_server.url}/m/{hall.token}")
    actions.wait_live(drinker)
    drinker.locator(".drink[data-type='espresso'] button").click()
    expect(row).to_have_attribute("data-brewing", "yes", timeout=LIVE_MS)
    expect(_kpi(home, "machines-brewing")).to_have_attribute("data-value", "1")
    expect(row).to_have_attribute("data-brewing", "no", timeout=10_000)
    expect(_kpi(home, "brews")).to_have_attribute("data-value", "1", timeout=LIVE_MS)

    # Nothing of it needed a reload; the page fits a phone, a tablet and a desktop.
    assert home.evaluate("performance.getEntriesByType('navigation').length") == 1
    for size in (PHONE, TABLET, DESK):
        home.set_viewport_size(size)
        fits(home)
