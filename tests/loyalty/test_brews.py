"""A drink served to a consumer at a coffee machine earns loyalty points, heard from the
machines' own `brew.finished`; a failed drink earns none. The machines' harness drives
real brews."""

from __future__ import annotations

from loyalty import setup
from loyalty.commands import SetRules
from loyalty.ledger import balance_of
from tests.machines.conftest import Coffee
from web.commands import parse


async def test_a_drink_served_earns_points_once_and_a_failed_one_none(coffee: Coffee) -> None:
    rules = parse(SetRules, {"points_per_visit": 1, "points_per_unit": 0})
    await coffee.run(lambda tx: setup.set_rules(tx, coffee.company_id, rules))
    machine = await coffee.machine("prepaid")
    drinks = await coffee.drinks(machine)
    zoe = await coffee.consumer(groups=(machine,), credit=1000)

    served = await coffee.brew(machine, drinks["espresso"], zoe)
    await coffee.report(machine, served.brew.id, "done")
    await coffee.report(machine, served.brew.id, "done")  # the device repeats itself
    spilled = await coffee.brew(machine, drinks["espresso"], zoe)
    await coffee.report(machine, spilled.brew.id, "failed", reason="no_water")

    async with coffee.db.sessionmaker() as session:
        assert await balance_of(session, zoe) == 1
