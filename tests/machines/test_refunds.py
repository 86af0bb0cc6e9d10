"""A brew that fails or times out gives the money back, once; a repeat changes nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest

from machines import device_service
from machines.device_service import Timeouts
from machines.errors import UnknownBrew
from machines.models import Brew, Machine
from tests.machines.conftest import Coffee, now


async def test_a_failed_brew_is_refunded_once(coffee: Coffee) -> None:
    machine = await coffee.machine("prepaid")
    drinks = await coffee.drinks(machine)
    price = await coffee.price(drinks["cappuccino"])
    zoe = await coffee.consumer(groups=(machine,), credit=1000)
    started = await coffee.brew(machine, drinks["cappuccino"], zoe)
    assert await coffee.balance(zoe) == 1000 - price

    await coffee.report(machine, started.brew.id, "accepted")
    await coffee.report(machine, started.brew.id, "grinding")
    await coffee.report(machine, started.brew.id, "brewing", progress=40)
    assert await coffee.report(machine, started.brew.id, "failed", reason="milk_pump")
    # The machine sends it again (it retries after a reconnect): nothing more happens.
    assert not await coffee.report(machine, started.brew.id, "failed", reason="milk_pump")

    assert await coffee.balance(zoe) == 1000
    assert await coffee.entries(zoe) == [("manual", 1000), ("brew", -price), ("refund", price)]
    assert await coffee.ledger_sum(zoe) == 1000
    async with coffee.db.sessionmaker() as session:
        brew = await session.get(Brew, started.brew.id)
        assert brew is not None
        assert (brew.status, brew.reason, brew.refunded) == ("failed", "milk_pump", True)
    # Finished is final: a late "done" cannot turn a refunded drink into a paid one, and
    # late news of it is ignored, not refused.
    assert not await coffee.report(machine, started.brew.id, "done")
    assert not await coffee.report(machine, started.brew.id, "brewing", progress=90)


async def test_progress_is_reported_and_done_keeps_the_charge(coffee: Coffee) -> None:
    machine = await coffee.machine("prepaid")
    drinks = await coffee.drinks(machine)
    price = await coffee.price(drinks["espresso"])
    zoe = await coffee.consumer(groups=(machine,), credit=500)
    started = await coffee.brew(machine, drinks["espresso"], zoe)
    await coffee.report(machine, started.brew.id, "brewing", progress=30)
    await coffee.report(machine, started.brew.id, "brewing", progress=20)  # late packet
    async with coffee.db.sessionmaker() as session:
        brew = await session.get(Brew, started.brew.id)
        assert brew is not None and brew.progress == 30
    await coffee.report(machine, started.brew.id, "done")
    assert await coffee.balance(zoe) == 500 - price
    events = [e.type for e in coffee.events if e.topic == f"user:{zoe}"]
    assert events[-3:] == ["brew.requested", "brew.brewing", "brew.done"]  # 20 % was ignored


async def test_timeouts_fail_and_refund_and_offline_machines_are_marked(coffee: Coffee) -> None:
    machine = await coffee.machine("prepaid")
    drinks = await coffee.drinks(machine)
    zoe = await coffee.consumer(groups=(machine,), credit=500)
    await coffee.brew(machine, drinks["espresso"], zoe)  # the machine never answers
    timeouts = Timeouts(offline_after_s=30, accept_s=20, stall_s=120)

    await coffee.run(lambda tx: device_service.sweep(tx, timeouts, now() + timedelta(seconds=5)))
    assert await coffee.balance(zoe) < 500  # not yet: still within the accept time

    later = now() + timedelta(seconds=60)
    await coffee.run(lambda tx: device_service.sweep(tx, timeouts, later))
    await coffee.run(lambda tx: device_service.sweep(tx, timeouts, later))  # a second process
    assert await coffee.balance(zoe) == 500
    assert [kind for kind, _ in await coffee.entries(zoe)] == ["manual", "brew", "refund"]
    async with coffee.db.sessionmaker() as session:
        fresh = await session.get(Machine, machine.id)
        assert fresh is not None and not fresh.online  # no heartbeat for a minute
    offline = [e for e in coffee.events if e.type == "machine.offline"]
    assert len(offline) == 1


async def test_a_machine_finishing_a_brew_the_server_timed_out_gets_no_error(
    coffee: Coffee,
) -> None:
    machine = await coffee.machine("prepaid")
    drinks = await coffee.drinks(machine)
    zoe = await coffee.consumer(groups=(machine,), credit=500)
    started = await coffee.brew(machine, drinks["espresso"], zoe)
    await coffee.report(machine, started.brew.id, "accepted")
    timeouts = Timeouts(offline_after_s=3600, accept_s=20, stall_s=120)
    await coffee.run(lambda tx: device_service.sweep(tx, timeouts, now() + timedelta(minutes=5)))
    assert await coffee.balance(zoe) == 500

    # The machine was slow, not gone: it goes on with the brew and finishes it.
    for status, progress in (("grinding", None), ("brewing", 60), ("done", None)):
        assert not await coffee.report(machine, started.brew.id, status, progress=progress)
    async with coffee.db.sessionmaker() as session:
        brew = await session.get(Brew, started.brew.id)
        assert brew is not None
        assert (brew.status, brew.reason, brew.refunded) == ("failed", "timeout", True)
    assert await coffee.balance(zoe) == 500
    with pytest.raises(UnknownBrew):
        await coffee.report(machine, started.brew.id + 1000, "done")
