"""A phone at a simulated coffee machine: scan, sign in, brew in prepaid mode, watch the
progress to done and the new balance; in alert, a second brew is refused and not charged.

The simulated machine runs in a thread of its own (an event loop beside Playwright's
synchronous API) and speaks the device protocol to a real `comptoir serve`.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select, update

from customers.models import UserGroup
from db.engine import make_engine, make_sessionmaker
from db.migrate import upgrade
from demo.seed import seed
from machines.device_service import issue_secret
from machines.models import Machine
from machines.simulator import Behaviour, SimulatedMachine
from tests.conftest import Server

pytestmark = pytest.mark.browser
T = TypeVar("T")


class Simulator:
    """Simulated machines on their own event loop, driven from synchronous test code."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.running: list[asyncio.Task[None]] = []

    def call(self, coro: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(15)

    def start(self, url: str, secret: str, behaviour: Behaviour) -> SimulatedMachine:
        async def make() -> SimulatedMachine:
            machine = SimulatedMachine(url, secret, behaviour)
            self.running.append(asyncio.create_task(machine.run()))
            return machine

        machine = self.call(make())
        self.call(asyncio.wait_for(machine.connected.wait(), 10))
        return machine

    def stop(self) -> None:
        async def cancel_all() -> None:
            for task in self.running:
                task.cancel()
            await asyncio.gather(*self.running, return_exceptions=True)

        self.call(cancel_all())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()


@dataclass(frozen=True)
class CoffeeCorner:
    url: str
    token: str  # the prepaid machine's QR token
    email: str
    password: str
    machine: SimulatedMachine
    simulator: Simulator


async def _prepare(url: str) -> tuple[str, str, tuple[str, str]]:
    engine = make_engine(url)
    try:
        async with make_sessionmaker(engine)() as session, session.begin():
            venue = await seed(session)
            machine = await session.scalar(select(Machine).where(Machine.mode == "prepaid"))
            assert machine is not None
            # No weekly recharge landing mid-test: the balance moves only by the brews.
            await session.execute(update(UserGroup).values(recharge_every=None))
            return machine.token, await issue_secret(session, machine), venue.consumers[0]
    finally:
        await engine.dispose()


def _setup(url: str) -> tuple[str, str, tuple[str, str]]:
    upgrade(url)
    return asyncio.run(_prepare(url))


@pytest.fixture
def coffee_corner(tmp_path: Path) -> Iterator[CoffeeCorner]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'machines.db'}"
    with ThreadPoolExecutor(max_workers=1) as pool:  # keeps asyncio.run off this thread
        token, secret, (email, password) = pool.submit(_setup, url).result()
    server = Server(env={"DATABASE_URL": url, "MACHINE_HEARTBEAT_S": "1"})
    simulator = Simulator()
    try:
        # Ten times faster than life: an espresso takes 2.5 s, in five progress steps.
        machine = simulator.start(server.url, secret, Behaviour(speed=10, steps=5))
        yield CoffeeCorner(server.url, token, email, password, machine, simulator)
    finally:
        simulator.stop()
        server.stop()


# Every brew status the page showed, in order, so the test can tell progress was live.
WATCH_STATUSES = """() => {
  window.__statuses = [];
  const note = () => {
    const brew = document.querySelector("#machine-live [data-status]");
    const status = brew && brew.dataset.status;
    if (status && window.__statuses[window.__statuses.length - 1] !== status) {
      window.__statuses.push(status);
    }
  };
  new MutationObserver(note).observe(document.getElementById("machine-live"),
                                     {childList: true, subtree: true});
}"""


def _sign_in(page: Page, corner: CoffeeCorner) -> None:
    page.goto(f"{corner.url}/m/{corner.token}")
    page.locator(f"a[href='/m/{corner.token}/login']").click()
    page.locator("input[name=email]").fill(corner.email)
    page.locator("input[name=password]").fill(corner.password)
    with page.expect_navigation(url=f"{corner.url}/m/{corner.token}"):
        page.locator("form button[type=submit]").click()
    page.wait_for_function(
        """() => { const t = JSON.parse(document.body.dataset.topics || "[]");
                   return t.length === 2 && window.comptoir
                          && t.every((x) => x in window.comptoir.versions); }"""
    )


def test_prepaid_brew_live_then_refused_in_alert(
    coffee_corner: CoffeeCorner, phone: Callable[[], Page]
) -> None:
    page = phone()
    _sign_in(page, coffee_corner)
    balance = page.locator("#user-live .balance")
    before = 1000  # the demo consumer's credit
    expect(balance).to_have_attribute("data-balance", str(before))
    expect(page.locator("#machine-live .machine-state")).to_have_attribute("data-online", "yes")

    espresso = page.locator(".drink[data-type='espresso']")
    price_text = espresso.locator(".price").inner_text()
    assert "0,80" in price_text
    page.evaluate(WATCH_STATUSES)
    espresso.locator("button").click()

    expect(page.locator("#machine-live [data-status]")).to_have_attribute("data-status", "done")
    expect(page.locator("#machine-live .brew-status")).to_be_visible()
    statuses = page.evaluate("window.__statuses")
    assert statuses[-1] == "done"
    assert "brewing" in statuses, statuses  # the progress was shown live, not just the end
    after = before - 80
    expect(balance).to_have_attribute("data-balance", str(after))
    done_brew = page.locator("#machine-live [data-brew]").get_attribute("data-brew")

    # The machine runs out of beans: the page says so, live.
    coffee_corner.simulator.call(coffee_corner.machine.set_alerts({"beans"}))
    expect(page.locator("#machine-live .machine-state")).to_have_attribute("data-alerts", "beans")
    expect(page.locator("#machine-live .alert-beans")).to_be_visible()
    # Drinks that need beans are shown unavailable (static/machines.css); hot water is not.
    expect(espresso.locator(".unavailable")).to_be_visible()
    expect(page.locator(".drink[data-type='hot_water'] .unavailable")).to_be_hidden()

    with page.expect_response(lambda r: r.url.endswith("/brews")) as answer:
        espresso.locator("button").click()
    assert answer.value.status == 409
    assert answer.value.json()["error"]["code"] == "machine_alert"
    expect(page.locator("#toasts .toast.error")).to_be_visible()  # the phone says why
    expect(balance).to_have_attribute("data-balance", str(after))  # not charged
    assert page.locator("#machine-live [data-brew]").get_attribute("data-brew") == done_brew


def test_drinks_wait_while_the_machine_brews(
    coffee_corner: CoffeeCorner, phone: Callable[[], Page]
) -> None:
    """Issue 14, item 10: while the machine brews, every phone's drink buttons are
    disabled (live, from the machine's state), and enabled again when the brew ends, so a
    second press cannot end in a red error."""
    page, other = phone(), phone()
    _sign_in(page, coffee_corner)
    _sign_in(other, coffee_corner)  # the same person's second phone: it did not press
    buttons = [p.locator(".drinks-offer .drink button") for p in (page, other)]
    for drinks in buttons:
        expect(drinks.first).to_be_enabled()
    espresso = page.locator(".drink[data-type='espresso'] button")
    espresso.click()
    expect(page.locator("#machine-live [data-status]")).to_have_attribute(
        "data-status", "brewing")
    for drinks in buttons:
        for index in range(drinks.count()):
            expect(drinks.nth(index)).to_be_disabled()
    # A second press does nothing: no request, no error.
    espresso.click(force=True)
    expect(page.locator("#machine-live [data-status]")).to_have_attribute("data-status", "done")
    for drinks in buttons:
        for index in range(drinks.count()):
            expect(drinks.nth(index)).to_be_enabled()
    expect(page.locator("#toasts .toast.error")).to_have_count(0)
    expect(page.locator("#user-live .balance")).to_have_attribute("data-balance", "920")
